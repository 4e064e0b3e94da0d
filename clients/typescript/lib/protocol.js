/** A schema compiled for use on the wire: a codec per event field and per state field. */
import { Codecs, mergeFields } from "./codec.js";
import { SchemaError } from "./errors.js";
import { syncedFields, validateSchema, WIRE_VERSION } from "./schema.js";
const compiled = new WeakMap();
function compileEvents(codecs, events) {
    return new Map(events.map((event) => [event.name, { name: event.name, kind: event.kind, fields: codecs.fields(event.fields) }]));
}
function compileState(codecs, state) {
    const fields = syncedFields(state).map((field) => ({ name: field.name, codec: codecs.of(field.type) }));
    if (state?.one_of === true)
        return compileKinds(state.name, fields);
    return {
        name: state?.name ?? "()",
        fields,
        oneOf: false,
        defaults() {
            const out = {};
            for (const field of fields)
                out[field.name] = field.codec.defaultValue();
            return out;
        },
        apply: (current, delta) => mergeFields(fields, current, delta),
    };
}
/**
 * An enum of kinds: a value is an object with exactly one key, its kind's name,
 * holding that kind's fields. A delta of the current kind is merged into it; a
 * delta of another kind (which carries all of it) replaces it.
 */
function compileKinds(name, fields) {
    const first = fields[0];
    return {
        name,
        fields,
        oneOf: true,
        defaults: () => ({ [first.name]: first.codec.defaultValue() }),
        apply(current, delta) {
            const kind = fields.find((field) => Object.hasOwn(delta, field.name));
            if (kind === undefined)
                return { ...current };
            const same = Object.hasOwn(current, kind.name);
            return mergeFields([kind], same ? current : {}, delta);
        },
    };
}
/**
 * Validates `schema` and compiles it (once per schema object). Throws a
 * {@link SchemaError} for a schema that is invalid or of another wire version.
 * The schema's `fingerprint` is what the client offers: the server computed it.
 */
export function compileProtocol(schema) {
    const known = compiled.get(schema);
    if (known !== undefined)
        return known;
    const valid = validateSchema(schema);
    if (valid.wire_version !== WIRE_VERSION) {
        throw new SchemaError("$.wire_version", `this client speaks wire version ${WIRE_VERSION}, the schema is for version ${valid.wire_version}`);
    }
    const codecs = new Codecs(valid.types);
    const protocol = {
        schema: valid,
        fingerprint: valid.fingerprint,
        toServer: compileEvents(codecs, valid.to_server.events),
        toClient: compileEvents(codecs, valid.to_client.events),
        state: compileState(codecs, valid.state),
        serverState: compileState(codecs, valid.server_state),
        entity: valid.entity === undefined ? null : compileState(codecs, valid.entity),
        options: valid.options === undefined ? null : codecs.of(valid.options),
        metadata: valid.metadata === undefined ? null : codecs.of(valid.metadata),
    };
    compiled.set(schema, protocol);
    return protocol;
}
