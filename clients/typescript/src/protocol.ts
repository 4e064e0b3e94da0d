/** A schema compiled for use on the wire: a codec per event field and per state field. */

import { type Codec, Codecs, mergeFields } from "./codec.js";
import { SchemaError } from "./errors.js";
import type { EventSchema, FieldsKind, ProtocolSchema, StateSchema } from "./schema.js";
import { syncedFields, validateSchema, WIRE_VERSION } from "./schema.js";

/** A field with its codec. */
export interface CompiledField {
  readonly name: string;
  readonly codec: Codec;
}

/** An event with a codec per field. */
export interface CompiledEvent {
  readonly name: string;
  readonly kind: FieldsKind;
  readonly fields: readonly CompiledField[];
}

/** A synced state: its fields by mask bit. */
export interface CompiledState {
  readonly name: string;
  /** `fields[i]` is the field of mask bit `i` (a kind's, for an enum of kinds). */
  readonly fields: readonly CompiledField[];
  /** Whether the state is an enum of kinds: a value holds one field, its kind's. */
  readonly oneOf: boolean;
  /** A fresh state with every field at its default. */
  defaults(): Record<string, unknown>;
  /**
   * `current` with the fields of a decoded entry applied: each listed field set, a
   * nested state's listed sub-fields merged into its current value, a synced
   * collection's entries applied to a copy of it. A new object;
   * `current`, and the values of fields not listed, are left as they are.
   */
  apply(current: Readonly<Record<string, unknown>>, delta: object): Record<string, unknown>;
}

/** Everything the wire needs to know about one protocol. */
export interface CompiledProtocol {
  readonly schema: ProtocolSchema;
  /** The fingerprint the client offers and expects, 16 hex digits. */
  readonly fingerprint: string;
  readonly toServer: ReadonlyMap<string, CompiledEvent>;
  readonly toClient: ReadonlyMap<string, CompiledEvent>;
  readonly state: CompiledState;
  readonly serverState: CompiledState;
  /** The entities' state; `null` for a protocol without entities. */
  readonly entity: CompiledState | null;
  /** The codec of the match options (what `create` and `find` send); `null` for a protocol without. */
  readonly options: Codec | null;
  /** The codec of the match metadata (what a listing shows); `null` for a protocol without. */
  readonly metadata: Codec | null;
}

const compiled = new WeakMap<object, CompiledProtocol>();

function compileEvents(codecs: Codecs, events: readonly EventSchema[]): Map<string, CompiledEvent> {
  return new Map(events.map((event) => [event.name, { name: event.name, kind: event.kind, fields: codecs.fields(event.fields) }]));
}

function compileState(codecs: Codecs, state: StateSchema | null): CompiledState {
  const fields = syncedFields(state).map((field) => ({ name: field.name, codec: codecs.of(field.type) }));
  if (state?.one_of === true) return compileKinds(state.name, fields);
  return {
    name: state?.name ?? "()",
    fields,
    oneOf: false,
    defaults() {
      const out: Record<string, unknown> = {};
      for (const field of fields) out[field.name] = field.codec.defaultValue();
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
function compileKinds(name: string, fields: readonly CompiledField[]): CompiledState {
  const first = fields[0]!;
  return {
    name,
    fields,
    oneOf: true,
    defaults: () => ({ [first.name]: first.codec.defaultValue() }),
    apply(current, delta) {
      const kind = fields.find((field) => Object.hasOwn(delta, field.name));
      if (kind === undefined) return { ...current };
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
export function compileProtocol(schema: ProtocolSchema): CompiledProtocol {
  const known = compiled.get(schema);
  if (known !== undefined) return known;
  const valid = validateSchema(schema);
  if (valid.wire_version !== WIRE_VERSION) {
    throw new SchemaError("$.wire_version", `this client speaks wire version ${WIRE_VERSION}, the schema is for version ${valid.wire_version}`);
  }
  const codecs = new Codecs(valid.types);
  const protocol: CompiledProtocol = {
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
