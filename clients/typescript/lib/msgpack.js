/**
 * A small MessagePack reader and writer. Values are written as their schema type
 * says (a float32 stays a float32 even when it is integral; integers take their
 * most compact form, as rmp does), and read one typed element at a time, so maps
 * keep keys of any type and 64-bit integers stay exact.
 */
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
/** A MessagePack element that is not what the reader was asked for, or truncated input. */
export class MsgpackError extends Error {
    constructor(message) {
        super(message);
        this.name = "MsgpackError";
    }
}
const TWO_32 = 0x1_0000_0000;
const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;
/** Appends MessagePack elements to a growing buffer. */
export class Writer {
    buffer;
    view;
    length = 0;
    constructor(capacity = 64) {
        this.buffer = new Uint8Array(capacity);
        this.view = new DataView(this.buffer.buffer);
    }
    reserve(extra) {
        const at = this.length;
        const needed = at + extra;
        if (needed > this.buffer.length) {
            let capacity = this.buffer.length * 2;
            while (capacity < needed)
                capacity *= 2;
            const grown = new Uint8Array(capacity);
            grown.set(this.buffer.subarray(0, at));
            this.buffer = grown;
            this.view = new DataView(grown.buffer);
        }
        this.length = needed;
        return at;
    }
    byte(value) {
        const at = this.reserve(1);
        this.buffer[at] = value;
    }
    /** The bytes written, as a fresh array. */
    finish() {
        return this.buffer.slice(0, this.length);
    }
    nil() {
        this.byte(0xc0);
    }
    bool(value) {
        this.byte(value ? 0xc3 : 0xc2);
    }
    /** An unsigned integer (0 ≤ value < 2^64) in its most compact form. */
    uint(value) {
        if (typeof value === "bigint") {
            if (value < 0n || value > U64_MAX)
                throw new RangeError(`${value} is not a u64`);
            if (value >= BigInt(TWO_32)) {
                const at = this.reserve(9);
                this.buffer[at] = 0xcf;
                this.view.setBigUint64(at + 1, value);
                return;
            }
            value = Number(value);
        }
        if (value < 0x80) {
            this.byte(value);
        }
        else if (value < 0x100) {
            const at = this.reserve(2);
            this.buffer[at] = 0xcc;
            this.buffer[at + 1] = value;
        }
        else if (value < 0x1_0000) {
            const at = this.reserve(3);
            this.buffer[at] = 0xcd;
            this.view.setUint16(at + 1, value);
        }
        else if (value < TWO_32) {
            const at = this.reserve(5);
            this.buffer[at] = 0xce;
            this.view.setUint32(at + 1, value);
        }
        else {
            this.uint(BigInt(value));
        }
    }
    /** A signed integer (-2^63 ≤ value < 2^64) in its most compact form: non-negative values as unsigned. */
    int(value) {
        if (value >= 0) {
            this.uint(value);
            return;
        }
        if (typeof value === "bigint") {
            if (value < I64_MIN)
                throw new RangeError(`${value} is not an i64`);
            if (value < -(2n ** 31n)) {
                const at = this.reserve(9);
                this.buffer[at] = 0xd3;
                this.view.setBigInt64(at + 1, value);
                return;
            }
            value = Number(value);
        }
        if (value >= -32) {
            this.byte(value & 0xff);
        }
        else if (value >= -0x80) {
            const at = this.reserve(2);
            this.buffer[at] = 0xd0;
            this.view.setInt8(at + 1, value);
        }
        else if (value >= -0x8000) {
            const at = this.reserve(3);
            this.buffer[at] = 0xd1;
            this.view.setInt16(at + 1, value);
        }
        else if (value >= -0x8000_0000) {
            const at = this.reserve(5);
            this.buffer[at] = 0xd2;
            this.view.setInt32(at + 1, value);
        }
        else {
            this.int(BigInt(value));
        }
    }
    f32(value) {
        const at = this.reserve(5);
        this.buffer[at] = 0xca;
        this.view.setFloat32(at + 1, value);
    }
    f64(value) {
        const at = this.reserve(9);
        this.buffer[at] = 0xcb;
        this.view.setFloat64(at + 1, value);
    }
    str(value) {
        const bytes = utf8Encoder.encode(value);
        const n = bytes.length;
        if (n < 32) {
            this.byte(0xa0 | n);
        }
        else if (n < 0x100) {
            const at = this.reserve(2);
            this.buffer[at] = 0xd9;
            this.buffer[at + 1] = n;
        }
        else if (n < 0x1_0000) {
            const at = this.reserve(3);
            this.buffer[at] = 0xda;
            this.view.setUint16(at + 1, n);
        }
        else {
            const at = this.reserve(5);
            this.buffer[at] = 0xdb;
            this.view.setUint32(at + 1, n);
        }
        const start = this.reserve(n);
        this.buffer.set(bytes, start);
    }
    bin(bytes) {
        const n = bytes.length;
        if (n < 0x100) {
            const at = this.reserve(2);
            this.buffer[at] = 0xc4;
            this.buffer[at + 1] = n;
        }
        else if (n < 0x1_0000) {
            const at = this.reserve(3);
            this.buffer[at] = 0xc5;
            this.view.setUint16(at + 1, n);
        }
        else {
            const at = this.reserve(5);
            this.buffer[at] = 0xc6;
            this.view.setUint32(at + 1, n);
        }
        const start = this.reserve(n);
        this.buffer.set(bytes, start);
    }
    ext(value) {
        const n = value.data.length;
        const fixed = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
        const marker = fixed[n];
        if (marker !== undefined) {
            const at = this.reserve(2);
            this.buffer[at] = marker;
            this.view.setInt8(at + 1, value.extType);
        }
        else if (n < 0x100) {
            const at = this.reserve(3);
            this.buffer[at] = 0xc7;
            this.buffer[at + 1] = n;
            this.view.setInt8(at + 2, value.extType);
        }
        else if (n < 0x1_0000) {
            const at = this.reserve(4);
            this.buffer[at] = 0xc8;
            this.view.setUint16(at + 1, n);
            this.view.setInt8(at + 3, value.extType);
        }
        else {
            const at = this.reserve(6);
            this.buffer[at] = 0xc9;
            this.view.setUint32(at + 1, n);
            this.view.setInt8(at + 5, value.extType);
        }
        const start = this.reserve(n);
        this.buffer.set(value.data, start);
    }
    arrayLen(n) {
        if (n < 16) {
            this.byte(0x90 | n);
        }
        else if (n < 0x1_0000) {
            const at = this.reserve(3);
            this.buffer[at] = 0xdc;
            this.view.setUint16(at + 1, n);
        }
        else {
            const at = this.reserve(5);
            this.buffer[at] = 0xdd;
            this.view.setUint32(at + 1, n);
        }
    }
    mapLen(n) {
        if (n < 16) {
            this.byte(0x80 | n);
        }
        else if (n < 0x1_0000) {
            const at = this.reserve(3);
            this.buffer[at] = 0xde;
            this.view.setUint16(at + 1, n);
        }
        else {
            const at = this.reserve(5);
            this.buffer[at] = 0xdf;
            this.view.setUint32(at + 1, n);
        }
    }
    /**
     * Any value, by its JavaScript type (for values whose schema type is unknown):
     * integral numbers as integers, other numbers as float64, `Map`s and plain
     * objects as maps.
     */
    any(value) {
        if (value === null || value === undefined)
            this.nil();
        else if (typeof value === "boolean")
            this.bool(value);
        else if (typeof value === "bigint")
            this.int(value);
        else if (typeof value === "number") {
            if (Number.isSafeInteger(value))
                this.int(value);
            else
                this.f64(value);
        }
        else if (typeof value === "string")
            this.str(value);
        else if (value instanceof Uint8Array)
            this.bin(value);
        else if (Array.isArray(value)) {
            this.arrayLen(value.length);
            for (const item of value)
                this.any(item);
        }
        else if (value instanceof Map) {
            this.mapLen(value.size);
            for (const [k, v] of value) {
                this.any(k);
                this.any(v);
            }
        }
        else if (typeof value === "object" && isExt(value)) {
            this.ext(value);
        }
        else if (typeof value === "object") {
            const entries = Object.entries(value);
            this.mapLen(entries.length);
            for (const [k, v] of entries) {
                this.str(k);
                this.any(v);
            }
        }
        else {
            throw new TypeError(`cannot encode a ${typeof value}`);
        }
    }
}
function isExt(value) {
    return "extType" in value && "data" in value && value.data instanceof Uint8Array;
}
/** What a marker byte starts, for error messages. */
export function markerName(marker) {
    if (marker <= 0x7f || marker === 0xcc || marker === 0xcd || marker === 0xce || marker === 0xcf)
        return "an unsigned integer";
    if (marker >= 0xe0 || (marker >= 0xd0 && marker <= 0xd3))
        return "a signed integer";
    if ((marker & 0xf0) === 0x80 || marker === 0xde || marker === 0xdf)
        return "a map";
    if ((marker & 0xf0) === 0x90 || marker === 0xdc || marker === 0xdd)
        return "an array";
    if ((marker & 0xe0) === 0xa0 || marker === 0xd9 || marker === 0xda || marker === 0xdb)
        return "a string";
    if (marker === 0xc0)
        return "nil";
    if (marker === 0xc2 || marker === 0xc3)
        return "a bool";
    if (marker === 0xca)
        return "a float32";
    if (marker === 0xcb)
        return "a float64";
    if (marker >= 0xc4 && marker <= 0xc6)
        return "binary data";
    if ((marker >= 0xc7 && marker <= 0xc9) || (marker >= 0xd4 && marker <= 0xd8))
        return "an extension value";
    return `the reserved marker 0x${marker.toString(16)}`;
}
/** Reads MessagePack elements one at a time from a byte array. */
export class Reader {
    bytes;
    view;
    pos = 0;
    constructor(bytes) {
        this.bytes = bytes;
        this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    /** Whether every byte has been read. */
    get done() {
        return this.pos >= this.bytes.length;
    }
    /** How many bytes are left. */
    get remaining() {
        return this.bytes.length - this.pos;
    }
    need(n) {
        const at = this.pos;
        if (at + n > this.bytes.length)
            throw new MsgpackError("the frame ends in the middle of a value");
        this.pos = at + n;
        return at;
    }
    /** The next marker byte, without consuming it. */
    peek() {
        if (this.pos >= this.bytes.length)
            throw new MsgpackError("the frame ends where a value was expected");
        return this.bytes[this.pos];
    }
    mismatch(expected, marker) {
        return new MsgpackError(`expected ${expected}, found ${markerName(marker)}`);
    }
    /** Consumes a nil if one is next. */
    nil() {
        if (this.peek() !== 0xc0)
            return false;
        this.pos += 1;
        return true;
    }
    bool() {
        const marker = this.peek();
        if (marker === 0xc2 || marker === 0xc3) {
            this.pos += 1;
            return marker === 0xc3;
        }
        throw this.mismatch("a bool", marker);
    }
    /** Whether the next element is an integer of any width. */
    isInt() {
        const marker = this.peek();
        return marker <= 0x7f || marker >= 0xe0 || (marker >= 0xcc && marker <= 0xcf) || (marker >= 0xd0 && marker <= 0xd3);
    }
    /** An integer of any width: a number when it is exact as one, else a bigint. */
    int() {
        const marker = this.peek();
        if (marker <= 0x7f) {
            this.pos += 1;
            return marker;
        }
        if (marker >= 0xe0) {
            this.pos += 1;
            return marker - 0x100;
        }
        switch (marker) {
            case 0xcc:
                return this.view.getUint8(this.need(2) + 1);
            case 0xcd:
                return this.view.getUint16(this.need(3) + 1);
            case 0xce:
                return this.view.getUint32(this.need(5) + 1);
            case 0xcf:
                return exact(this.view.getBigUint64(this.need(9) + 1));
            case 0xd0:
                return this.view.getInt8(this.need(2) + 1);
            case 0xd1:
                return this.view.getInt16(this.need(3) + 1);
            case 0xd2:
                return this.view.getInt32(this.need(5) + 1);
            case 0xd3:
                return exact(this.view.getBigInt64(this.need(9) + 1));
            default:
                throw this.mismatch("an integer", marker);
        }
    }
    /** An integer as a number; one beyond 2^53 is an error. */
    safeInt(what) {
        const value = this.int();
        if (typeof value === "bigint")
            throw new MsgpackError(`${what} ${value} is too large`);
        return value;
    }
    /** An unsigned integer as a number (at most 2^53 - 1). */
    uint(what) {
        const value = this.safeInt(what);
        if (value < 0)
            throw new MsgpackError(`${what} is negative (${value})`);
        return value;
    }
    /** A number written as a float32, a float64 or an integer. */
    float() {
        const marker = this.peek();
        if (marker === 0xca)
            return this.view.getFloat32(this.need(5) + 1);
        if (marker === 0xcb)
            return this.view.getFloat64(this.need(9) + 1);
        if (this.isInt())
            return Number(this.int());
        throw this.mismatch("a number", marker);
    }
    str() {
        const marker = this.peek();
        let n;
        if ((marker & 0xe0) === 0xa0) {
            this.pos += 1;
            n = marker & 0x1f;
        }
        else if (marker === 0xd9)
            n = this.view.getUint8(this.need(2) + 1);
        else if (marker === 0xda)
            n = this.view.getUint16(this.need(3) + 1);
        else if (marker === 0xdb)
            n = this.view.getUint32(this.need(5) + 1);
        else
            throw this.mismatch("a string", marker);
        const at = this.need(n);
        try {
            return utf8Decoder.decode(this.bytes.subarray(at, at + n));
        }
        catch {
            throw new MsgpackError("a string is not valid UTF-8");
        }
    }
    bin() {
        const marker = this.peek();
        let n;
        if (marker === 0xc4)
            n = this.view.getUint8(this.need(2) + 1);
        else if (marker === 0xc5)
            n = this.view.getUint16(this.need(3) + 1);
        else if (marker === 0xc6)
            n = this.view.getUint32(this.need(5) + 1);
        else
            throw this.mismatch("binary data", marker);
        const at = this.need(n);
        return this.bytes.slice(at, at + n);
    }
    /** Whether the next element is an array. */
    isArray() {
        const marker = this.peek();
        return (marker & 0xf0) === 0x90 || marker === 0xdc || marker === 0xdd;
    }
    /** An array's header: its element count. */
    arrayLen() {
        const marker = this.peek();
        if ((marker & 0xf0) === 0x90) {
            this.pos += 1;
            return marker & 0x0f;
        }
        if (marker === 0xdc)
            return this.view.getUint16(this.need(3) + 1);
        if (marker === 0xdd)
            return this.view.getUint32(this.need(5) + 1);
        throw this.mismatch("an array", marker);
    }
    /** Whether the next element is a string. */
    isStr() {
        const marker = this.peek();
        return (marker & 0xe0) === 0xa0 || marker === 0xd9 || marker === 0xda || marker === 0xdb;
    }
    /** Whether the next element is a map. */
    isMap() {
        const marker = this.peek();
        return (marker & 0xf0) === 0x80 || marker === 0xde || marker === 0xdf;
    }
    /** A map's header: its entry count. */
    mapLen() {
        const marker = this.peek();
        if ((marker & 0xf0) === 0x80) {
            this.pos += 1;
            return marker & 0x0f;
        }
        if (marker === 0xde)
            return this.view.getUint16(this.need(3) + 1);
        if (marker === 0xdf)
            return this.view.getUint32(this.need(5) + 1);
        throw this.mismatch("a map", marker);
    }
    /** Any element, as the JavaScript value closest to it (maps as `Map`). */
    any(depth = 0) {
        if (depth > 512)
            throw new MsgpackError("values nest too deeply");
        const marker = this.peek();
        if (marker === 0xc0) {
            this.pos += 1;
            return null;
        }
        if (marker === 0xc2 || marker === 0xc3)
            return this.bool();
        if (this.isInt())
            return this.int();
        if (marker === 0xca || marker === 0xcb)
            return this.float();
        if (this.isStr())
            return this.str();
        if (marker >= 0xc4 && marker <= 0xc6)
            return this.bin();
        if (this.isArray()) {
            const n = this.arrayLen();
            this.plausible(n);
            const out = [];
            for (let i = 0; i < n; i += 1)
                out.push(this.any(depth + 1));
            return out;
        }
        if (this.isMap()) {
            const n = this.mapLen();
            this.plausible(n * 2);
            const out = new Map();
            for (let i = 0; i < n; i += 1) {
                const k = this.any(depth + 1);
                out.set(k, this.any(depth + 1));
            }
            return out;
        }
        return this.ext();
    }
    ext() {
        const marker = this.peek();
        const fixed = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };
        let n = fixed[marker];
        let extType;
        if (n !== undefined) {
            extType = this.view.getInt8(this.need(2) + 1);
        }
        else if (marker === 0xc7) {
            const at = this.need(3);
            n = this.view.getUint8(at + 1);
            extType = this.view.getInt8(at + 2);
        }
        else if (marker === 0xc8) {
            const at = this.need(4);
            n = this.view.getUint16(at + 1);
            extType = this.view.getInt8(at + 3);
        }
        else if (marker === 0xc9) {
            const at = this.need(6);
            n = this.view.getUint32(at + 1);
            extType = this.view.getInt8(at + 5);
        }
        else {
            throw this.mismatch("a value", marker);
        }
        const at = this.need(n);
        return { extType, data: this.bytes.slice(at, at + n) };
    }
    /** Refuses a collection that claims more elements than bytes are left (each takes at least one). */
    plausible(elements) {
        if (elements > this.remaining)
            throw new MsgpackError(`a collection claims ${elements} elements but the frame ends first`);
    }
    /** Skips one element. */
    skip() {
        this.any();
    }
}
function exact(value) {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
