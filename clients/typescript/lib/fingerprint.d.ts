/**
 * The protocol fingerprint as a function of the schema: the same 64-bit FNV-1a hash
 * that the Rust derives compute at compile time, so a client generated from a
 * schema offers exactly the fingerprint of the server built from the same protocol.
 */
import type { EventsSchema, ProtocolSchema, StateSchema, TypeExpr } from "./schema.js";
/** A 64-bit FNV-1a hasher fed with length-prefixed inputs, like Rust's `FingerprintHasher`. */
export declare class FingerprintHasher {
    private state;
    private byte;
    /** Feeds a number's 8 bytes, little-endian. */
    u64(value: bigint | number): this;
    /** Feeds a string: its UTF-8 length as a `u64`, then its UTF-8 bytes. */
    str(value: string): this;
    /** The hash so far. */
    finish(): bigint;
}
/** A fingerprint as shown everywhere: 16 lowercase hex digits. */
export declare function fingerprintHex(value: bigint): string;
/** The fingerprint of one type expression of `schema`, as a 64-bit number. */
export declare function typeFingerprint(schema: Pick<ProtocolSchema, "types">, type: TypeExpr): bigint;
/** The fingerprint of a state of `schema` (`null` for `()`), as a 64-bit number. */
export declare function stateFingerprint(schema: Pick<ProtocolSchema, "types">, state: StateSchema | null): bigint;
/** The fingerprint of an events enum of `schema`, as a 64-bit number. */
export declare function eventsFingerprint(schema: Pick<ProtocolSchema, "types">, events: EventsSchema): bigint;
/**
 * The protocol fingerprint of a schema, as 16 lowercase hex digits: what a server
 * built from the same protocol sends in its welcome and expects in the subprotocol.
 * It ignores the schema's own `fingerprint` field, so comparing the two checks
 * that the schema is consistent. The entity state, when there is one, is hashed
 * after the server state, as a state; then the match options and the match
 * metadata, when the protocol has them, each as the string `"options"` (or
 * `"metadata"`) and its type's fingerprint. The `kind` is not hashed.
 */
export declare function fingerprintOf(schema: ProtocolSchema): string;
