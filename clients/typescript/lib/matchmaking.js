/**
 * Matchmaking on the wire (PROTOCOL.md, "Matchmaking"): how a connection's request
 * names the match it wants (query parameters, options as base64url MessagePack),
 * and the listing frame a server answers a `list` request with.
 */
import { asValueError, within } from "./codec.js";
import { DecodeError, EncodeError, SchemaError } from "./errors.js";
import { Reader, Writer } from "./msgpack.js";
import { compileProtocol } from "./protocol.js";
/** The parameters of a match request, in the order they are written. */
const VERB = "match";
const KIND = "kind";
const CODE = "code";
const OPTIONS = "options";
const PRIVATE = "private";
const PARAMETERS = [VERB, KIND, CODE, OPTIONS, PRIVATE];
/** The frame kind of a listing. */
export const LISTING_FRAME = 5;
/**
 * What a client asks for in its connection's request: the query parameters added
 * to the server's URL. Build one with its static methods and {@link apply} it to a
 * URL; generated clients do it for you (`Client.create(url, options)`, …).
 *
 * ```ts
 * MatchRequest.join("k7mq4p").apply("ws://game.example:5000/");
 * // "ws://game.example:5000/?match=join&code=K7MQ4P"
 * MatchRequest.list("arena").apply("ws://game.example:5000/play?token=t");
 * // "ws://game.example:5000/play?token=t&match=list&kind=arena"
 * ```
 */
export class MatchRequest {
    params;
    constructor(params) {
        this.params = params;
    }
    /**
     * A new match of the protocol's kind made from `options` (a value of the
     * schema's `options` type; ignored when the protocol has none); `isPrivate`: not
     * listed, joined only by its code. Throws {@link EncodeError} for options that do
     * not fit the type, and {@link SchemaError} for a schema without a `kind`.
     */
    static create(schema, options, isPrivate = false) {
        const protocol = compileProtocol(schema);
        const params = [
            [VERB, "create"],
            [KIND, kindOf(protocol)],
            ...optionsParam(protocol, options),
        ];
        if (isPrivate)
            params.push([PRIVATE, "1"]);
        return new MatchRequest(params);
    }
    /** The match with this code (codes are read case-insensitively; sent in capitals). */
    static join(code) {
        return new MatchRequest([
            [VERB, "join"],
            [CODE, code.trim().toUpperCase()],
        ]);
    }
    /**
     * A listed match of the protocol's kind that suits `options` (by the kind's
     * filter on each match's metadata), or a new one made from them. Throws as
     * {@link create}.
     */
    static find(schema, options) {
        const protocol = compileProtocol(schema);
        return new MatchRequest([[VERB, "find"], [KIND, kindOf(protocol)], ...optionsParam(protocol, options)]);
    }
    /** The listed matches of a kind, answered with one listing frame. */
    static list(kind) {
        return new MatchRequest([
            [VERB, "list"],
            [KIND, kind],
        ]);
    }
    /** Whether `url`'s query asks for a match (has a `match` parameter); one that does not asks for the server's default match. */
    static namesAMatch(url) {
        const query = splitUrl(url).query;
        return query.split("&").some((pair) => keyOf(pair) === VERB);
    }
    /** `url` with this request's parameters added to its query (and any earlier matchmaking parameters of its query removed). */
    apply(url) {
        const { path, query, fragment } = splitUrl(url);
        const pairs = query.split("&").filter((pair) => pair !== "" && !PARAMETERS.includes(keyOf(pair)));
        pairs.push(...this.params.map(([key, value]) => `${key}=${percentEncode(value)}`));
        return `${path}?${pairs.join("&")}${fragment === null ? "" : `#${fragment}`}`;
    }
    /** The query parameters, as written. */
    toString() {
        return this.params.map(([key, value]) => `${key}=${percentEncode(value)}`).join("&");
    }
}
function kindOf(protocol) {
    const kind = protocol.schema.kind;
    if (kind === undefined) {
        throw new SchemaError("$.kind", "missing: this schema was printed by a nodelink without matches; print it again to create, find or list matches");
    }
    return kind;
}
/** The `options` parameter, or none when the protocol has no options (the server takes the default). */
function optionsParam(protocol, options) {
    if (protocol.options === null)
        return [];
    const writer = new Writer(32);
    try {
        protocol.options.encode(writer, options);
    }
    catch (error) {
        const value = asValueError(error);
        throw new EncodeError(["match options", ...value.path].join(": "), value.reason);
    }
    return [[OPTIONS, encodeBase64url(writer.finish())]];
}
function splitUrl(url) {
    const hash = url.indexOf("#");
    const base = hash < 0 ? url : url.slice(0, hash);
    const fragment = hash < 0 ? null : url.slice(hash + 1);
    const question = base.indexOf("?");
    return question < 0 ? { path: base, query: "", fragment } : { path: base.slice(0, question), query: base.slice(question + 1), fragment };
}
function keyOf(pair) {
    const equals = pair.indexOf("=");
    return equals < 0 ? pair : pair.slice(0, equals);
}
const utf8 = new TextEncoder();
/** Percent-encodes everything but unreserved characters (RFC 3986), as the Rust client does. */
function percentEncode(value) {
    let out = "";
    for (const byte of utf8.encode(value)) {
        const char = String.fromCharCode(byte);
        out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return out;
}
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Base64url without padding (RFC 4648, section 5). */
export function encodeBase64url(bytes) {
    let out = "";
    for (let at = 0; at < bytes.length; at += 3) {
        const chunk = bytes.subarray(at, at + 3);
        const n = (chunk[0] << 16) | ((chunk[1] ?? 0) << 8) | (chunk[2] ?? 0);
        for (let i = 0; i <= chunk.length; i += 1)
            out += BASE64URL[(n >> (18 - 6 * i)) & 0x3f];
    }
    return out;
}
/**
 * Decodes a listing frame, `[5, [[code, players, max_players, locked, metadata]…]]`
 * (elements a later version adds to an entry are skipped). Throws
 * {@link DecodeError} for anything else, or metadata not of the protocol's type.
 */
export function decodeListing(protocol, bytes) {
    const reader = new Reader(bytes);
    try {
        const length = reader.arrayLen();
        if (length !== 2)
            throw new DecodeError("listing", `a listing frame has 2 elements, found ${length}`);
        const kind = reader.uint("frame kind");
        if (kind !== LISTING_FRAME)
            throw new DecodeError("listing", `expected a listing frame (kind ${LISTING_FRAME}), found kind ${kind}`);
        const count = reader.arrayLen();
        reader.plausible(count);
        const listings = [];
        for (let i = 0; i < count; i += 1) {
            listings.push(within(`[${i}]`, () => {
                const fields = reader.arrayLen();
                if (fields < 5)
                    throw new DecodeError("listing", `entry ${i} has ${fields} elements, at least 5 expected`);
                const code = within("code", () => reader.str());
                const players = reader.uint("players");
                const maxPlayers = reader.uint("max_players");
                const locked = within("locked", () => reader.bool());
                const metadata = within("metadata", () => (protocol.metadata === null ? reader.skip() : protocol.metadata.decode(reader)));
                for (let extra = 5; extra < fields; extra += 1)
                    reader.skip();
                return { code, players, maxPlayers, locked, metadata: metadata ?? null };
            }));
        }
        if (!reader.done)
            throw new DecodeError("listing", `${reader.remaining} bytes after the frame`);
        return listings;
    }
    catch (error) {
        if (error instanceof DecodeError)
            throw error;
        const value = asValueError(error);
        throw new DecodeError(["listing", ...value.path].join(": "), value.reason);
    }
}
/** Encodes a listing frame (for stand-in servers and tests); each entry's metadata a value of the protocol's type. */
export function encodeListing(protocol, listings) {
    const writer = new Writer(64);
    writer.arrayLen(2);
    writer.uint(LISTING_FRAME);
    writer.arrayLen(listings.length);
    for (const listing of listings) {
        writer.arrayLen(5);
        writer.str(listing.code);
        writer.uint(listing.players);
        writer.uint(listing.maxPlayers);
        writer.bool(listing.locked);
        try {
            if (protocol.metadata === null)
                writer.nil();
            else
                protocol.metadata.encode(writer, listing.metadata);
        }
        catch (error) {
            const value = asValueError(error);
            throw new EncodeError([`listing of ${listing.code}: metadata`, ...value.path].join(": "), value.reason);
        }
    }
    return writer.finish();
}
