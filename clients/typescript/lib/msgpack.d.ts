/**
 * A small MessagePack reader and writer. Values are written as their schema type
 * says (a float32 stays a float32 even when it is integral; integers take their
 * most compact form, as rmp does), and read one typed element at a time, so maps
 * keep keys of any type and 64-bit integers stay exact.
 */
/** A MessagePack element that is not what the reader was asked for, or truncated input. */
export declare class MsgpackError extends Error {
    constructor(message: string);
}
/** A MessagePack extension value, kept as its type and bytes. */
export interface ExtValue {
    readonly extType: number;
    readonly data: Uint8Array;
}
/** Appends MessagePack elements to a growing buffer. */
export declare class Writer {
    private buffer;
    private view;
    private length;
    constructor(capacity?: number);
    private reserve;
    private byte;
    /** The bytes written, as a fresh array. */
    finish(): Uint8Array<ArrayBuffer>;
    nil(): void;
    bool(value: boolean): void;
    /** An unsigned integer (0 ≤ value < 2^64) in its most compact form. */
    uint(value: number | bigint): void;
    /** A signed integer (-2^63 ≤ value < 2^64) in its most compact form: non-negative values as unsigned. */
    int(value: number | bigint): void;
    f32(value: number): void;
    f64(value: number): void;
    str(value: string): void;
    bin(bytes: Uint8Array): void;
    ext(value: ExtValue): void;
    arrayLen(n: number): void;
    mapLen(n: number): void;
    /**
     * Any value, by its JavaScript type (for values whose schema type is unknown):
     * integral numbers as integers, other numbers as float64, `Map`s and plain
     * objects as maps.
     */
    any(value: unknown): void;
}
/** What a marker byte starts, for error messages. */
export declare function markerName(marker: number): string;
/** Reads MessagePack elements one at a time from a byte array. */
export declare class Reader {
    private readonly bytes;
    private readonly view;
    private pos;
    constructor(bytes: Uint8Array);
    /** Whether every byte has been read. */
    get done(): boolean;
    /** How many bytes are left. */
    get remaining(): number;
    private need;
    /** The next marker byte, without consuming it. */
    peek(): number;
    private mismatch;
    /** Consumes a nil if one is next. */
    nil(): boolean;
    bool(): boolean;
    /** Whether the next element is an integer of any width. */
    isInt(): boolean;
    /** An integer of any width: a number when it is exact as one, else a bigint. */
    int(): number | bigint;
    /** An integer as a number; one beyond 2^53 is an error. */
    safeInt(what: string): number;
    /** An unsigned integer as a number (at most 2^53 - 1). */
    uint(what: string): number;
    /** A number written as a float32, a float64 or an integer. */
    float(): number;
    str(): string;
    bin(): Uint8Array;
    /** Whether the next element is an array. */
    isArray(): boolean;
    /** An array's header: its element count. */
    arrayLen(): number;
    /** Whether the next element is a string. */
    isStr(): boolean;
    /** Whether the next element is a map. */
    isMap(): boolean;
    /** A map's header: its entry count. */
    mapLen(): number;
    /** Any element, as the JavaScript value closest to it (maps as `Map`). */
    any(depth?: number): unknown;
    private ext;
    /** Refuses a collection that claims more elements than bytes are left (each takes at least one). */
    plausible(elements: number): void;
    /** Skips one element. */
    skip(): void;
}
