/**
 * Values by schema type: each type expression is compiled once into a codec that
 * writes exactly the MessagePack rmp-serde writes for it and reads it back into
 * the TypeScript value the generated types promise.
 *
 * TypeScript values: integers up to 32 bits and floats are `number`; 64- and
 * 128-bit integers `bigint`; `str` and `char` strings; `unit` `null`; player ids
 * 8-hex strings; entity ids numbers; `Option` `T | null`; sequences and fixed
 * arrays arrays; tuples arrays; maps `Map`; named structs objects; tuple structs
 * arrays (a one-field tuple struct is its field's value); unit structs `null`;
 * enums `"Variant"` for a unit variant and `{ Variant: payload }` otherwise; opaque
 * types whatever MessagePack gives (maps as `Map`); nested states objects of the
 * fields present, `[mask, value…]` on the wire. A `SyncMap` is a `Map` in the
 * mirror and a {@link SyncMapDelta} in a sync, `[replace, [key…], [[key,
 * value]…]]` on the wire; a `SyncVec` an array in the mirror and a
 * {@link SyncVecDelta} in a sync, `[len, [[index, value]…]]` on the wire; a
 * `SyncDeque` an array in the mirror and a {@link SyncDequeDelta} in a sync,
 * `[capacity, drop, [value…]]` on the wire.
 */
import { MsgpackError } from "./msgpack.js";
import { isEntityId } from "./entity-id.js";
import { isPlayerId } from "./player-id.js";
import { syncedFields, typeName } from "./schema.js";
/** A value that does not fit its type; `path` says where inside the value. */
export class ValueError extends Error {
    reason;
    path = [];
    constructor(reason) {
        super(reason);
        this.reason = reason;
        this.name = "ValueError";
    }
    /** The path and the reason, as one message: "field `pos`: [2]: expected …". */
    describe() {
        return [...this.path, this.reason].join(": ");
    }
}
/** Runs `body`, adding `segment` to the path of a value error it throws. */
export function within(segment, body) {
    try {
        return body();
    }
    catch (error) {
        throw located(error, segment);
    }
}
function located(error, segment) {
    if (error instanceof ValueError) {
        error.path.unshift(segment);
        return error;
    }
    if (error instanceof MsgpackError || error instanceof RangeError) {
        const wrapped = new ValueError(error.message);
        wrapped.path.push(segment);
        return wrapped;
    }
    return error;
}
function found(value) {
    if (value === null)
        return "null";
    if (value === undefined)
        return "nothing (undefined)";
    if (Array.isArray(value))
        return `an array of ${value.length}`;
    if (value instanceof Map)
        return "a Map";
    if (typeof value === "object")
        return "an object";
    if (typeof value === "string")
        return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    if (typeof value === "bigint")
        return `the bigint ${value}n`;
    return `the ${typeof value} ${String(value)}`;
}
function expected(what, value) {
    return new ValueError(`expected ${what}, found ${found(value)}`);
}
/** Turns whatever the reader or a codec threw into a value error. */
export function asValueError(error) {
    if (error instanceof ValueError)
        return error;
    if (error instanceof MsgpackError || error instanceof RangeError)
        return new ValueError(error.message);
    throw error;
}
// ---------------------------------------------------------------------------
// Primitives
const SMALL_INTS = {
    u8: [0, 0xff],
    u16: [0, 0xffff],
    u32: [0, 0xffff_ffff],
    i8: [-0x80, 0x7f],
    i16: [-0x8000, 0x7fff],
    i32: [-0x8000_0000, 0x7fff_ffff],
};
function smallInt(name) {
    const [min, max] = SMALL_INTS[name];
    return {
        name,
        encode(writer, value) {
            if (typeof value !== "number" || !Number.isInteger(value))
                throw expected(`an integer (${name})`, value);
            if (value < min || value > max)
                throw new ValueError(`${value} is out of range for ${name} (${min} to ${max})`);
            writer.int(value);
        },
        decode(reader) {
            const value = reader.int();
            if (typeof value === "bigint" || value < min || value > max) {
                throw new ValueError(`${value} is out of range for ${name} (${min} to ${max})`);
            }
            return value;
        },
        defaultValue: () => 0,
    };
}
const BIG_INTS = {
    u64: [0n, 2n ** 64n - 1n],
    i64: [-(2n ** 63n), 2n ** 63n - 1n],
    u128: [0n, 2n ** 128n - 1n],
    i128: [-(2n ** 127n), 2n ** 127n - 1n],
};
function toBigInt(name, value) {
    if (typeof value === "bigint")
        return value;
    if (typeof value === "number" && Number.isSafeInteger(value))
        return BigInt(value);
    throw expected(`a bigint (${name})`, value);
}
function bigInt(name) {
    const [min, max] = BIG_INTS[name];
    const wide = name === "u128" || name === "i128";
    const check = (value) => {
        if (value < min || value > max)
            throw new ValueError(`${value} is out of range for ${name}`);
        return value;
    };
    return {
        name,
        encode(writer, value) {
            const big = check(toBigInt(name, value));
            if (!wide) {
                writer.int(big);
                return;
            }
            // rmp-serde writes 128-bit integers as 16 bytes of binary, big-endian.
            const bytes = new Uint8Array(16);
            let rest = BigInt.asUintN(128, big);
            for (let i = 15; i >= 0; i -= 1) {
                bytes[i] = Number(rest & 0xffn);
                rest >>= 8n;
            }
            writer.bin(bytes);
        },
        decode(reader) {
            if (wide && !reader.isInt()) {
                const bytes = reader.bin();
                if (bytes.length !== 16)
                    throw new ValueError(`expected 16 bytes for ${name}, found ${bytes.length}`);
                let value = 0n;
                for (const byte of bytes)
                    value = (value << 8n) | BigInt(byte);
                return check(name === "i128" ? BigInt.asIntN(128, value) : value);
            }
            return check(BigInt(reader.int()));
        },
        defaultValue: () => 0n,
    };
}
function float(name) {
    return {
        name,
        encode(writer, value) {
            if (typeof value !== "number")
                throw expected(`a number (${name})`, value);
            if (name === "f32")
                writer.f32(value);
            else
                writer.f64(value);
        },
        // Any number form is read, as serde does; an f32 field rounds a float 64 to f32.
        decode: name === "f32" ? (reader) => Math.fround(reader.float()) : (reader) => reader.float(),
        defaultValue: () => 0,
    };
}
const PRIMITIVES = {
    u8: smallInt("u8"),
    u16: smallInt("u16"),
    u32: smallInt("u32"),
    i8: smallInt("i8"),
    i16: smallInt("i16"),
    i32: smallInt("i32"),
    u64: bigInt("u64"),
    i64: bigInt("i64"),
    u128: bigInt("u128"),
    i128: bigInt("i128"),
    f32: float("f32"),
    f64: float("f64"),
    bool: {
        name: "bool",
        encode(writer, value) {
            if (typeof value !== "boolean")
                throw expected("a boolean", value);
            writer.bool(value);
        },
        decode: (reader) => reader.bool(),
        defaultValue: () => false,
    },
    str: {
        name: "String",
        encode(writer, value) {
            if (typeof value !== "string")
                throw expected("a string", value);
            writer.str(value);
        },
        decode: (reader) => reader.str(),
        defaultValue: () => "",
    },
    char: {
        name: "char",
        encode(writer, value) {
            if (typeof value !== "string" || !isOneChar(value))
                throw expected("a one-character string (char)", value);
            writer.str(value);
        },
        decode(reader) {
            const value = reader.str();
            if (!isOneChar(value))
                throw new ValueError(`expected one character, found ${JSON.stringify(value)}`);
            return value;
        },
        defaultValue: () => "\u0000",
    },
    unit: {
        name: "()",
        encode(writer, value) {
            if (value !== null && value !== undefined)
                throw expected("null (unit)", value);
            writer.nil();
        },
        decode(reader) {
            if (!reader.nil())
                throw new ValueError(`expected nil (unit), found ${describeNext(reader)}`);
            return null;
        },
        defaultValue: () => null,
    },
    player_id: {
        name: "PlayerId",
        encode(writer, value) {
            if (!isPlayerId(value))
                throw expected("a player id (8 lowercase hex digits)", value);
            writer.uint(Number.parseInt(value, 16));
        },
        decode(reader) {
            const value = reader.int();
            if (typeof value !== "number" || value < 0 || value > 0xffff_ffff) {
                throw new ValueError(`a player id is a 32-bit unsigned integer, found ${value}`);
            }
            return value.toString(16).padStart(8, "0");
        },
        defaultValue: () => "00000000",
    },
    entity_id: {
        name: "EntityId",
        encode(writer, value) {
            if (!isEntityId(value))
                throw expected("an entity id (an integer from 0 to 4294967295)", value);
            writer.uint(value);
        },
        decode(reader) {
            const value = reader.int();
            if (typeof value !== "number" || !isEntityId(value)) {
                throw new ValueError(`an entity id is a 32-bit unsigned integer, found ${value}`);
            }
            return value;
        },
        defaultValue: () => 0,
    },
};
function isOneChar(value) {
    if (value.length === 0 || value.length > 2)
        return false;
    const code = value.codePointAt(0);
    const width = code > 0xffff ? 2 : 1;
    return width === value.length && !(code >= 0xd800 && code <= 0xdfff);
}
function describeNext(reader) {
    try {
        const value = reader.any();
        return found(value);
    }
    catch {
        return "an undecodable value";
    }
}
// ---------------------------------------------------------------------------
// Composites
function option(inner) {
    return {
        name: `Option<${inner.name}>`,
        encode(writer, value) {
            if (value === null || value === undefined)
                writer.nil();
            else
                inner.encode(writer, value);
        },
        decode: (reader) => (reader.nil() ? null : inner.decode(reader)),
        defaultValue: () => null,
    };
}
function readArrayOf(reader, what) {
    if (!reader.isArray())
        throw new ValueError(`expected an array (${what}), found ${describeNext(reader)}`);
    const n = reader.arrayLen();
    reader.plausible(n);
    return n;
}
function seq(inner) {
    return {
        name: `Vec<${inner.name}>`,
        encode(writer, value) {
            if (!Array.isArray(value))
                throw expected(`an array (Vec<${inner.name}>)`, value);
            writer.arrayLen(value.length);
            value.forEach((item, i) => within(`[${i}]`, () => inner.encode(writer, item)));
        },
        decode(reader) {
            const n = readArrayOf(reader, `Vec<${inner.name}>`);
            const out = new Array(n);
            for (let i = 0; i < n; i += 1)
                out[i] = within(`[${i}]`, () => inner.decode(reader));
            return out;
        },
        defaultValue: () => [],
    };
}
function map(key, value) {
    const name = `Map<${key.name}, ${value.name}>`;
    return {
        name,
        encode(writer, input) {
            if (!(input instanceof Map))
                throw expected(`a Map (${name})`, input);
            writer.mapLen(input.size);
            let i = 0;
            for (const [k, v] of input) {
                within(`key ${i}`, () => key.encode(writer, k));
                within(`value ${i}`, () => value.encode(writer, v));
                i += 1;
            }
        },
        decode(reader) {
            if (!reader.isMap())
                throw new ValueError(`expected a map (${name}), found ${describeNext(reader)}`);
            const n = reader.mapLen();
            reader.plausible(n * 2);
            const out = new Map();
            for (let i = 0; i < n; i += 1) {
                const k = within(`key ${i}`, () => key.decode(reader));
                out.set(k, within(`value ${i}`, () => value.decode(reader)));
            }
            return out;
        },
        defaultValue: () => new Map(),
    };
}
/** A fixed-length array of per-position codecs: tuples, fixed arrays, tuple structs. */
function positional(name, items) {
    return {
        name,
        encode(writer, value) {
            if (!Array.isArray(value) || value.length !== items.length)
                throw expected(`an array of ${items.length} (${name})`, value);
            writer.arrayLen(items.length);
            items.forEach((item, i) => within(`[${i}]`, () => item.encode(writer, value[i])));
        },
        decode(reader) {
            const n = readArrayOf(reader, name);
            if (n !== items.length)
                throw new ValueError(`expected ${items.length} elements (${name}), found ${n}`);
            return items.map((item, i) => within(`[${i}]`, () => item.decode(reader)));
        },
        defaultValue: () => items.map((item) => item.defaultValue()),
    };
}
/** A named struct: an object on the TypeScript side, an array of its fields on the wire. */
function namedStruct(name, fields) {
    return {
        name,
        encode(writer, value) {
            if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map) {
                throw expected(`an object (${name})`, value);
            }
            const record = value;
            writer.arrayLen(fields.length);
            for (const field of fields) {
                within(`field \`${field.name}\``, () => field.codec.encode(writer, record[field.name]));
            }
        },
        decode(reader) {
            const n = readArrayOf(reader, name);
            if (n !== fields.length)
                throw new ValueError(`expected ${fields.length} fields (${name}), found ${n}`);
            const out = {};
            for (const field of fields)
                out[field.name] = within(`field \`${field.name}\``, () => field.codec.decode(reader));
            return out;
        },
        defaultValue() {
            const out = {};
            for (const field of fields)
                out[field.name] = field.codec.defaultValue();
            return out;
        },
    };
}
/** A unit struct: `null` on the TypeScript side, an empty array on the wire (rmp-serde; nil is read too). */
function unitStruct(name) {
    return {
        name,
        encode(writer, value) {
            if (value !== null && value !== undefined)
                throw expected(`null (${name})`, value);
            writer.arrayLen(0);
        },
        decode(reader) {
            if (reader.nil())
                return null;
            if (reader.isArray() && reader.arrayLen() === 0)
                return null;
            throw new ValueError(`expected an empty array or nil (${name}), found ${describeNext(reader)}`);
        },
        defaultValue: () => null,
    };
}
/** The codec of a fields list as one value: a struct's body, or an enum variant's payload. */
function fieldsCodec(name, kind, fields) {
    if (kind === "unit")
        return unitStruct(name);
    if (kind === "named")
        return namedStruct(name, fields);
    // A one-field tuple struct (a newtype) is its field, as serde writes it.
    if (fields.length === 1) {
        const inner = fields[0].codec;
        return { ...inner, name };
    }
    return positional(name, fields.map((field) => field.codec));
}
/** An externally tagged enum: a unit variant is its name, any other `{ name: payload }`. */
function enumCodec(name, variants) {
    const byName = new Map(variants.map((variant) => [variant.schema.name, variant]));
    const names = variants.map((variant) => variant.schema.name).join(", ");
    const lookup = (variant) => {
        const found = byName.get(variant);
        if (found === undefined)
            throw new ValueError(`unknown variant \`${variant}\` of ${name} (expected one of ${names})`);
        return found;
    };
    return {
        name,
        encode(writer, value) {
            if (typeof value === "string") {
                const variant = lookup(value);
                if (variant.schema.kind !== "unit")
                    throw new ValueError(`variant \`${value}\` of ${name} has fields: write { ${value}: … }`);
                writer.str(value);
                return;
            }
            if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Map) {
                throw expected(`a variant of ${name} ("Variant" or { Variant: … })`, value);
            }
            const keys = Object.keys(value);
            if (keys.length !== 1)
                throw new ValueError(`expected an object with exactly one key, the variant of ${name}; found ${keys.length} keys`);
            const variantName = keys[0];
            const variant = lookup(variantName);
            if (variant.schema.kind === "unit") {
                writer.str(variantName);
                return;
            }
            writer.mapLen(1);
            writer.str(variantName);
            within(`variant \`${variantName}\``, () => variant.payload.encode(writer, value[variantName]));
        },
        decode(reader) {
            if (reader.isStr()) {
                const variantName = reader.str();
                const variant = lookup(variantName);
                if (variant.schema.kind !== "unit")
                    throw new ValueError(`variant \`${variantName}\` of ${name} came without its fields`);
                return variantName;
            }
            if (!reader.isMap())
                throw new ValueError(`expected a variant of ${name} (a string or a map of one entry), found ${describeNext(reader)}`);
            const n = reader.mapLen();
            if (n !== 1)
                throw new ValueError(`expected a map of one entry (a variant of ${name}), found ${n} entries`);
            if (!reader.isStr())
                throw new ValueError(`expected a variant name, found ${describeNext(reader)}`);
            const variantName = reader.str();
            const variant = lookup(variantName);
            const payload = within(`variant \`${variantName}\``, () => variant.payload.decode(reader));
            return variant.schema.kind === "unit" ? variantName : { [variantName]: payload };
        },
        defaultValue() {
            // Rust derives `Default` for an enum from a `#[default]` unit variant, which the
            // schema does not name: the first unit variant is the likeliest.
            const unit = variants.find((variant) => variant.schema.kind === "unit");
            if (unit !== undefined)
                return unit.schema.name;
            const first = variants[0];
            return first === undefined ? null : { [first.schema.name]: first.payload.defaultValue() };
        },
    };
}
/** The bit indexes set in a field mask, in increasing order. */
export function maskBits(mask) {
    const out = [];
    if (typeof mask === "number") {
        if (mask < 0)
            throw new ValueError(`a field mask cannot be negative (${mask})`);
        for (let i = 0; mask > 0; i += 1) {
            if (mask % 2 === 1)
                out.push(i);
            mask = Math.floor(mask / 2);
        }
    }
    else {
        if (mask < 0n)
            throw new ValueError(`a field mask cannot be negative (${mask})`);
        for (let i = 0; mask > 0n; i += 1) {
            if ((mask & 1n) === 1n)
                out.push(i);
            mask >>= 1n;
        }
    }
    return out;
}
function isRecord(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Map);
}
/**
 * Merges the fields present in `delta` into a copy of `current`: each field's value
 * replaces the current one, or is merged into it when the field's type arrives in
 * parts (a nested state). Fields `delta` does not name keep their values, and their
 * identity.
 */
export function mergeFields(fields, current, delta) {
    const changes = delta;
    const out = { ...current };
    for (const field of fields) {
        if (!Object.hasOwn(changes, field.name))
            continue;
        const value = changes[field.name];
        out[field.name] = field.codec.merge === undefined ? value : field.codec.merge(current[field.name], value);
    }
    return out;
}
/**
 * A nested state (a `#[derive(SyncState)]` struct used as a state's field): on the
 * wire `[mask, value…]`, the values of the mask's fields in index order, like a
 * player's entry; in TypeScript an object of the fields present (all of them in a
 * snapshot, the changed ones in a delta), merged into the field's current value.
 */
function nestedState(name, fields) {
    const known = new Set(fields.map((field) => field.name));
    const defaults = () => {
        const out = {};
        for (const field of fields)
            out[field.name] = field.codec.defaultValue();
        return out;
    };
    return {
        name,
        encode(writer, value) {
            if (!isRecord(value))
                throw expected(`an object of ${name}'s fields`, value);
            const stray = Object.keys(value).find((key) => !known.has(key));
            if (stray !== undefined)
                throw new ValueError(`${name} has no synced field \`${stray}\``);
            // The fields present (own keys) are the ones sent: every one for a whole value.
            const present = fields.map((field, index) => ({ field, index })).filter(({ field }) => Object.hasOwn(value, field.name));
            let mask = 0n;
            for (const { index } of present)
                mask |= 1n << BigInt(index);
            writer.arrayLen(1 + present.length);
            writer.uint(mask);
            for (const { field } of present)
                within(`field \`${field.name}\``, () => field.codec.encode(writer, value[field.name]));
        },
        decode(reader) {
            const n = readArrayOf(reader, `[mask, value…] of ${name}`);
            if (n < 1)
                throw new ValueError(`expected [mask, value…] (${name}), found an empty array`);
            const indexes = maskBits(reader.int());
            const beyond = indexes.find((i) => i >= fields.length);
            if (beyond !== undefined) {
                throw new ValueError(`state \`${name}\` has ${fields.length} synced field(s); the delta names field index ${beyond}`);
            }
            if (n !== 1 + indexes.length) {
                const values = n - 1;
                throw new ValueError(`${name}: the mask names ${indexes.length} field${indexes.length === 1 ? "" : "s"}, but ${values} value${values === 1 ? "" : "s"} follow`);
            }
            const out = {};
            for (const index of indexes) {
                const field = fields[index];
                out[field.name] = within(`field \`${field.name}\``, () => field.codec.decode(reader));
            }
            return out;
        },
        defaultValue: defaults,
        merge(current, delta) {
            if (!isRecord(delta))
                return delta;
            // A value not yet known starts from the state's defaults.
            return mergeFields(fields, isRecord(current) ? current : defaults(), delta);
        },
    };
}
/** Whether two decoded values are equal, item by item: how a `SyncMap`'s mirror finds a tuple or struct key. */
function sameValue(a, b) {
    if (Object.is(a, b))
        return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
        return false;
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
    }
    if (a instanceof Uint8Array || b instanceof Uint8Array) {
        return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && a.every((byte, i) => byte === b[i]);
    }
    if (a instanceof Map || b instanceof Map) {
        if (!(a instanceof Map && b instanceof Map) || a.size !== b.size)
            return false;
        const left = [...a];
        const right = [...b];
        return left.every(([key, value], i) => sameValue(key, right[i][0]) && sameValue(value, right[i][1]));
    }
    const left = Object.keys(a);
    const right = b;
    return left.length === Object.keys(right).length && left.every((key) => Object.hasOwn(right, key) && sameValue(a[key], right[key]));
}
/** The key of `map` equal to `key`: itself for a primitive, found by value for a tuple or struct. */
function findKey(map, key) {
    if (typeof key !== "object" || key === null)
        return { found: map.has(key), key };
    for (const known of map.keys())
        if (sameValue(known, key))
            return { found: true, key: known };
    return { found: false, key };
}
function isSyncMapDelta(value) {
    return isRecord(value) && typeof value.replace === "boolean" && Array.isArray(value.removed) && Array.isArray(value.entries);
}
function isSyncVecDelta(value) {
    return isRecord(value) && typeof value.len === "number" && Array.isArray(value.entries);
}
function isSyncDequeDelta(value) {
    return isRecord(value) && typeof value.capacity === "number" && (value.drop === null || typeof value.drop === "number") && Array.isArray(value.entries);
}
/** The most entries a `SyncDeque` keeps: a larger capacity is refused. */
export const MAX_DEQUE_CAPACITY = 1024;
/** The value of a synced collection's entry, as the entry's type merges it: `before` is the current one, or the default. */
function entryValue(codec, before, delta) {
    return codec.merge === undefined ? delta : codec.merge(before, delta);
}
/** Reads `[a, b]`, an entry of a synced collection. */
function readPair(reader, what) {
    const n = readArrayOf(reader, what);
    if (n !== 2)
        throw new ValueError(`expected ${what}, found ${n} elements`);
}
/**
 * A `SyncMap<K, V>` (a state field synced per entry): on the wire `[replace,
 * [key…], [[key, value]…]]`, each value as a field of type `V` (a nested state's
 * changed fields only); decoded into a {@link SyncMapDelta}; in the mirror a `Map`,
 * to which a delta applies entry by entry. A `Map` is encoded whole.
 */
function syncMap(name, key, value) {
    return {
        name,
        encode(writer, input) {
            const delta = input instanceof Map ? { replace: true, removed: [], entries: [...input] } : input;
            if (!isSyncMapDelta(delta))
                throw expected(`a Map or { replace, removed, entries } (${name})`, input);
            writer.arrayLen(3);
            writer.bool(delta.replace);
            writer.arrayLen(delta.removed.length);
            delta.removed.forEach((removed, i) => within(`removed[${i}]`, () => key.encode(writer, removed)));
            writer.arrayLen(delta.entries.length);
            delta.entries.forEach((entry, i) => within(`entry ${i}`, () => {
                if (!Array.isArray(entry) || entry.length !== 2)
                    throw expected("a [key, value] pair", entry);
                writer.arrayLen(2);
                within("key", () => key.encode(writer, entry[0]));
                within("value", () => value.encode(writer, entry[1]));
            }));
        },
        decode(reader) {
            const n = readArrayOf(reader, `[replace, removed, entries] of ${name}`);
            if (n !== 3)
                throw new ValueError(`expected [replace, removed, entries] (${name}), found ${n} elements`);
            const replace = within("replace", () => reader.bool());
            const removed = within("removed", () => {
                const count = readArrayOf(reader, "removed keys");
                return Array.from({ length: count }, (_, i) => within(`[${i}]`, () => key.decode(reader)));
            });
            const entries = within("entries", () => {
                const count = readArrayOf(reader, "entries");
                return Array.from({ length: count }, (_, i) => within(`[${i}]`, () => {
                    readPair(reader, "[key, value]");
                    const k = within("key", () => key.decode(reader));
                    return [k, within("value", () => value.decode(reader))];
                }));
            });
            return { replace, removed, entries };
        },
        defaultValue: () => new Map(),
        merge(current, delta) {
            if (!isSyncMapDelta(delta))
                return delta;
            const out = new Map(delta.replace || !(current instanceof Map) ? [] : current);
            for (const removed of delta.removed) {
                const at = findKey(out, removed);
                if (at.found)
                    out.delete(at.key);
            }
            for (const [k, entry] of delta.entries) {
                const at = findKey(out, k);
                // A key not yet known starts from `V`'s default.
                out.set(at.key, entryValue(value, at.found ? out.get(at.key) : value.defaultValue(), entry));
            }
            return out;
        },
    };
}
/**
 * A `SyncVec<V>` (a state field synced per index): on the wire `[len, [[index,
 * value]…]]`, each value as a field of type `V` (a nested state's changed fields
 * only); decoded into a {@link SyncVecDelta}; in the mirror an array, truncated or
 * extended with defaults to `len`, then changed at each entry's index. An array is
 * encoded whole.
 */
function syncVec(name, item) {
    return {
        name,
        encode(writer, input) {
            const delta = Array.isArray(input) ? { len: input.length, entries: input.map((value, i) => [i, value]) } : input;
            if (!isSyncVecDelta(delta))
                throw expected(`an array or { len, entries } (${name})`, input);
            if (!Number.isSafeInteger(delta.len) || delta.len < 0)
                throw new ValueError(`a list's length is a non-negative integer, found ${delta.len}`);
            writer.arrayLen(2);
            writer.uint(delta.len);
            writer.arrayLen(delta.entries.length);
            delta.entries.forEach((entry, i) => within(`entry ${i}`, () => {
                if (!Array.isArray(entry) || entry.length !== 2)
                    throw expected("an [index, value] pair", entry);
                const [index, value] = entry;
                if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0 || index >= delta.len) {
                    throw new ValueError(`an entry's index is below the length ${delta.len}, found ${found(index)}`);
                }
                writer.arrayLen(2);
                writer.uint(index);
                within(`[${index}]`, () => item.encode(writer, value));
            }));
        },
        decode(reader) {
            const n = readArrayOf(reader, `[len, entries] of ${name}`);
            if (n !== 2)
                throw new ValueError(`expected [len, entries] (${name}), found ${n} elements`);
            const len = within("len", () => reader.uint("a length"));
            const entries = within("entries", () => {
                const count = readArrayOf(reader, "entries");
                return Array.from({ length: count }, (_, i) => within(`entry ${i}`, () => {
                    readPair(reader, "[index, value]");
                    const index = reader.uint("an index");
                    if (index >= len)
                        throw new ValueError(`an entry at index ${index} of a list of ${len} items`);
                    return [index, within(`[${index}]`, () => item.decode(reader))];
                }));
            });
            return { len, entries };
        },
        defaultValue: () => [],
        merge(current, delta) {
            if (!isSyncVecDelta(delta))
                return delta;
            const items = Array.isArray(current) ? current : [];
            // Every index a list grows by comes with an entry: a length beyond those is a
            // server's error, and is not allowed to make the mirror allocate.
            const len = Math.min(delta.len, items.length + delta.entries.length);
            const out = items.slice(0, len);
            while (out.length < len)
                out.push(item.defaultValue());
            for (const [index, entry] of delta.entries) {
                if (index < len)
                    out[index] = entryValue(item, out[index], entry);
            }
            return out;
        },
    };
}
/**
 * A `SyncDeque<V>` (a state field holding a bounded log): on the wire `[capacity,
 * drop, [value…]]`, `drop` nil when the log is sent whole, each value whole;
 * decoded into a {@link SyncDequeDelta}; in the mirror an array, oldest first, from
 * whose front `drop` entries go before the values are appended, and which keeps its
 * last `capacity`. An array is encoded whole, with the capacity of its length.
 */
function syncDeque(name, item) {
    const checkBounds = (capacity, drop, pushed) => {
        if (capacity > MAX_DEQUE_CAPACITY)
            throw new ValueError(`a deque of capacity ${capacity}, past the limit of ${MAX_DEQUE_CAPACITY}`);
        if (drop !== null && drop > capacity)
            throw new ValueError(`drops ${drop} entries from a deque that holds at most ${capacity}`);
        if (pushed > capacity)
            throw new ValueError(`pushes ${pushed} entries into a deque of capacity ${capacity}`);
    };
    const count = (value, what) => {
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
            throw new ValueError(`${what} is a non-negative integer, found ${found(value)}`);
        return value;
    };
    return {
        name,
        encode(writer, input) {
            const delta = Array.isArray(input) ? { capacity: input.length, drop: null, entries: input } : input;
            if (!isSyncDequeDelta(delta))
                throw expected(`an array or { capacity, drop, entries } (${name})`, input);
            const capacity = count(delta.capacity, "a deque's capacity");
            const drop = delta.drop === null ? null : count(delta.drop, "a deque's drop");
            checkBounds(capacity, drop, delta.entries.length);
            writer.arrayLen(3);
            writer.uint(capacity);
            if (drop === null)
                writer.nil();
            else
                writer.uint(drop);
            writer.arrayLen(delta.entries.length);
            delta.entries.forEach((entry, i) => within(`entry ${i}`, () => item.encode(writer, entry)));
        },
        decode(reader) {
            const n = readArrayOf(reader, `[capacity, drop, entries] of ${name}`);
            if (n !== 3)
                throw new ValueError(`expected [capacity, drop, entries] (${name}), found ${n} elements`);
            const capacity = within("capacity", () => reader.uint("a capacity"));
            const drop = within("drop", () => (reader.nil() ? null : reader.uint("a count")));
            const entries = within("entries", () => {
                const pushed = readArrayOf(reader, "entries");
                checkBounds(capacity, drop, pushed);
                return Array.from({ length: pushed }, (_, i) => within(`entry ${i}`, () => item.decode(reader)));
            });
            checkBounds(capacity, drop, 0);
            return { capacity, drop, entries };
        },
        defaultValue: () => [],
        merge(current, delta) {
            if (!isSyncDequeDelta(delta))
                return delta;
            const kept = delta.drop === null || !Array.isArray(current) ? [] : current.slice(delta.drop);
            // Each entry is sent whole: a nested state's starts from its default.
            const out = [...kept, ...delta.entries.map((entry) => entryValue(item, item.defaultValue(), entry))];
            return out.slice(Math.max(0, out.length - Math.min(delta.capacity, MAX_DEQUE_CAPACITY)));
        },
    };
}
const opaque = (hex) => ({
    name: `opaque ${hex}`,
    encode(writer, value) {
        try {
            writer.any(value);
        }
        catch (error) {
            throw new ValueError(error instanceof Error ? error.message : String(error));
        }
    },
    decode: (reader) => reader.any(),
    defaultValue: () => null,
});
/** Compiles type expressions of one schema, sharing the codecs of its named types. */
export class Codecs {
    types;
    named = new Map();
    constructor(types) {
        this.types = types;
    }
    /** The codec of a type expression. */
    of(type) {
        if (typeof type === "string") {
            const codec = PRIMITIVES[type];
            if (codec === undefined)
                throw new Error(`unknown primitive type \`${type}\``);
            return codec;
        }
        if ("option" in type)
            return option(this.of(type.option));
        if ("seq" in type)
            return seq(this.of(type.seq));
        if ("map" in type)
            return map(this.of(type.map[0]), this.of(type.map[1]));
        if ("array" in type) {
            const [item, n] = type.array;
            const codec = this.of(item);
            return positional(typeName(type), Array.from({ length: n }, () => codec));
        }
        if ("tuple" in type)
            return positional(typeName(type), type.tuple.map((item) => this.of(item)));
        if ("ref" in type)
            return this.ref(type.ref);
        if ("sync_map" in type)
            return syncMap(typeName(type), this.of(type.sync_map[0]), this.of(type.sync_map[1]));
        if ("sync_vec" in type)
            return syncVec(typeName(type), this.of(type.sync_vec));
        if ("sync_deque" in type)
            return syncDeque(typeName(type), this.of(type.sync_deque));
        return opaque(type.opaque);
    }
    /** The codec of a list of fields, each with its name. */
    fields(fields) {
        return fields.map((field) => ({ name: field.name, codec: this.of(field.type) }));
    }
    ref(name) {
        const known = this.named.get(name);
        if (known !== undefined)
            return known;
        const def = Object.hasOwn(this.types, name) ? this.types[name] : undefined;
        if (def === undefined)
            throw new Error(`reference to undefined type \`${name}\``);
        if ("state" in def) {
            const codec = nestedState(name, syncedFields(def.state).map((field) => ({ name: field.name, codec: this.of(field.type) })));
            this.named.set(name, codec);
            return codec;
        }
        const codec = "struct" in def
            ? fieldsCodec(name, def.struct.kind, this.fields(def.struct.fields))
            : enumCodec(name, def.enum.map((variant) => ({
                schema: variant,
                payload: fieldsCodec(`${name}::${variant.name}`, variant.kind, this.fields(variant.fields)),
            })));
        this.named.set(name, codec);
        return codec;
    }
}
