/**
 * The protocol fingerprint as a function of the schema: the same 64-bit FNV-1a hash
 * that the Rust derives compute at compile time, so a client generated from a
 * schema offers exactly the fingerprint of the server built from the same protocol.
 */
import { SchemaError } from "./errors.js";
import { syncedFields } from "./schema.js";
const MASK = 0xffffffffffffffffn;
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x00000100000001b3n;
const utf8 = new TextEncoder();
/** A 64-bit FNV-1a hasher fed with length-prefixed inputs, like Rust's `FingerprintHasher`. */
export class FingerprintHasher {
    state = OFFSET;
    byte(byte) {
        this.state = ((this.state ^ BigInt(byte)) * PRIME) & MASK;
        return this;
    }
    /** Feeds a number's 8 bytes, little-endian. */
    u64(value) {
        let rest = BigInt(value) & MASK;
        for (let i = 0; i < 8; i += 1) {
            this.byte(Number(rest & 0xffn));
            rest >>= 8n;
        }
        return this;
    }
    /** Feeds a string: its UTF-8 length as a `u64`, then its UTF-8 bytes. */
    str(value) {
        const bytes = utf8.encode(value);
        this.u64(bytes.length);
        for (const byte of bytes)
            this.byte(byte);
        return this;
    }
    /** The hash so far. */
    finish() {
        return this.state;
    }
}
/** A fingerprint as shown everywhere: 16 lowercase hex digits. */
export function fingerprintHex(value) {
    return value.toString(16).padStart(16, "0");
}
/** Computes fingerprints of one schema's types, remembering those of named types. */
class Fingerprinter {
    types;
    named = new Map();
    constructor(types) {
        this.types = types;
    }
    type(type) {
        if (typeof type === "string")
            return new FingerprintHasher().str(type).finish();
        if ("option" in type)
            return new FingerprintHasher().str("option").u64(this.type(type.option)).finish();
        if ("seq" in type)
            return new FingerprintHasher().str("seq").u64(this.type(type.seq)).finish();
        if ("map" in type) {
            return new FingerprintHasher().str("map").u64(this.type(type.map[0])).u64(this.type(type.map[1])).finish();
        }
        if ("array" in type) {
            return new FingerprintHasher().str("array").u64(type.array[1]).u64(this.type(type.array[0])).finish();
        }
        if ("tuple" in type) {
            const hasher = new FingerprintHasher().str("tuple");
            for (const item of type.tuple)
                hasher.u64(this.type(item));
            return hasher.finish();
        }
        if ("ref" in type)
            return this.ref(type.ref);
        if ("sync_map" in type) {
            return new FingerprintHasher().str("sync_map").u64(this.type(type.sync_map[0])).u64(this.type(type.sync_map[1])).finish();
        }
        if ("sync_vec" in type)
            return new FingerprintHasher().str("sync_vec").u64(this.type(type.sync_vec)).finish();
        if ("sync_deque" in type)
            return new FingerprintHasher().str("sync_deque").u64(this.type(type.sync_deque)).finish();
        return BigInt(`0x${type.opaque}`);
    }
    ref(name) {
        const known = this.named.get(name);
        if (known !== undefined)
            return known;
        const def = Object.hasOwn(this.types, name) ? this.types[name] : undefined;
        if (def === undefined)
            throw new SchemaError("$.types", `reference to \`${name}\`, which \`types\` does not define`);
        const value = this.typeDef(def);
        this.named.set(name, value);
        return value;
    }
    typeDef(def) {
        // A nested state hashes exactly like a state: its synced fields only.
        if ("state" in def)
            return this.stateFields(def.state.fields);
        if ("struct" in def) {
            return this.fields(new FingerprintHasher().str("struct"), def.struct.kind, def.struct.fields).finish();
        }
        const hasher = new FingerprintHasher().str("enum").u64(def.enum.length);
        for (const variant of def.enum)
            this.fields(hasher.str(variant.name), variant.kind, variant.fields);
        return hasher.finish();
    }
    /** Feeds a fields list: its kind, each field's name and type, then the count. */
    fields(hasher, kind, fields) {
        hasher.str(kind);
        for (const field of fields)
            hasher.str(field.name).u64(this.type(field.type));
        return hasher.u64(fields.length);
    }
    state(state) {
        if (state === null)
            return new FingerprintHasher().str("unit").finish();
        // An enum of kinds hashes as its kinds, marked `kinds` rather than `state`.
        return this.stateFields(state.fields, state.one_of === true ? "kinds" : "state");
    }
    stateFields(fields, marker = "state") {
        return this.fields(new FingerprintHasher().str(marker), "named", syncedFields({ fields })).finish();
    }
    events(events) {
        const hasher = new FingerprintHasher().str("events").u64(events.events.length);
        for (const event of events.events)
            this.fields(hasher.str(event.name), event.kind, event.fields);
        return hasher.finish();
    }
}
/** The fingerprint of one type expression of `schema`, as a 64-bit number. */
export function typeFingerprint(schema, type) {
    return new Fingerprinter(schema.types).type(type);
}
/** The fingerprint of a state of `schema` (`null` for `()`), as a 64-bit number. */
export function stateFingerprint(schema, state) {
    return new Fingerprinter(schema.types).state(state);
}
/** The fingerprint of an events enum of `schema`, as a 64-bit number. */
export function eventsFingerprint(schema, events) {
    return new Fingerprinter(schema.types).events(events);
}
/**
 * The protocol fingerprint of a schema, as 16 lowercase hex digits: what a server
 * built from the same protocol sends in its welcome and expects in the subprotocol.
 * It ignores the schema's own `fingerprint` field, so comparing the two checks
 * that the schema is consistent. The entity state, when there is one, is hashed
 * after the server state, as a state; then the match options and the match
 * metadata, when the protocol has them, each as the string `"options"` (or
 * `"metadata"`) and its type's fingerprint. The `kind` is not hashed.
 */
export function fingerprintOf(schema) {
    const fp = new Fingerprinter(schema.types);
    const hasher = new FingerprintHasher()
        .str("nodelink")
        .u64(schema.wire_version)
        .u64(fp.state(schema.state))
        .u64(fp.events(schema.to_server))
        .u64(fp.events(schema.to_client))
        .u64(fp.state(schema.server_state));
    // The entity state is hashed only when the protocol has one: a protocol without
    // entities hashes as it did before they existed.
    if (schema.entity !== undefined && schema.entity !== null)
        hasher.u64(fp.state(schema.entity));
    // Likewise the match options and metadata, each tagged, only when the protocol
    // has them (not `()`).
    if (schema.options !== undefined)
        hasher.str("options").u64(fp.type(schema.options));
    if (schema.metadata !== undefined)
        hasher.str("metadata").u64(fp.type(schema.metadata));
    return fingerprintHex(hasher.finish());
}
