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
import { Reader, Writer } from "./msgpack.js";
import type { FieldSchema, ProtocolSchema, TypeExpr } from "./schema.js";
/** Writes, reads and makes default values of one schema type. */
export interface Codec {
    /** The type as Rust writes it, for messages. */
    readonly name: string;
    encode(writer: Writer, value: unknown): void;
    decode(reader: Reader): unknown;
    /** The value a field holds before the server sends it (Rust's `Default`, where known). */
    defaultValue(): unknown;
    /**
     * Merges a decoded value into the current one, for types whose values arrive in
     * parts (nested states, `SyncMap`s, `SyncVec`s, `SyncDeque`s); without it, a decoded value
     * replaces the current one. Returns a new value: `current` is left as it is.
     */
    merge?(current: unknown, delta: unknown): unknown;
}
/** A value that does not fit its type; `path` says where inside the value. */
export declare class ValueError extends Error {
    readonly reason: string;
    readonly path: string[];
    constructor(reason: string);
    /** The path and the reason, as one message: "field `pos`: [2]: expected …". */
    describe(): string;
}
/** Runs `body`, adding `segment` to the path of a value error it throws. */
export declare function within<T>(segment: string, body: () => T): T;
/** Turns whatever the reader or a codec threw into a value error. */
export declare function asValueError(error: unknown): ValueError;
/** The bit indexes set in a field mask, in increasing order. */
export declare function maskBits(mask: number | bigint): number[];
/**
 * Merges the fields present in `delta` into a copy of `current`: each field's value
 * replaces the current one, or is merged into it when the field's type arrives in
 * parts (a nested state). Fields `delta` does not name keep their values, and their
 * identity.
 */
export declare function mergeFields(fields: readonly {
    name: string;
    codec: Codec;
}[], current: Readonly<Record<string, unknown>>, delta: object): Record<string, unknown>;
/** The most entries a `SyncDeque` keeps: a larger capacity is refused. */
export declare const MAX_DEQUE_CAPACITY = 1024;
/** Compiles type expressions of one schema, sharing the codecs of its named types. */
export declare class Codecs {
    private readonly types;
    private readonly named;
    constructor(types: ProtocolSchema["types"]);
    /** The codec of a type expression. */
    of(type: TypeExpr): Codec;
    /** The codec of a list of fields, each with its name. */
    fields(fields: readonly FieldSchema[]): {
        name: string;
        codec: Codec;
    }[];
    private ref;
}
