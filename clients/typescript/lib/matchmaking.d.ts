/**
 * Matchmaking on the wire (PROTOCOL.md, "Matchmaking"): how a connection's request
 * names the match it wants (query parameters, options as base64url MessagePack),
 * and the listing frame a server answers a `list` request with.
 */
import { type CompiledProtocol } from "./protocol.js";
import type { ProtocolSchema } from "./schema.js";
/** The frame kind of a listing. */
export declare const LISTING_FRAME = 5;
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
export declare class MatchRequest {
    private readonly params;
    private constructor();
    /**
     * A new match of the protocol's kind made from `options` (a value of the
     * schema's `options` type; ignored when the protocol has none); `isPrivate`: not
     * listed, joined only by its code. Throws {@link EncodeError} for options that do
     * not fit the type, and {@link SchemaError} for a schema without a `kind`.
     */
    static create(schema: ProtocolSchema, options: unknown, isPrivate?: boolean): MatchRequest;
    /** The match with this code (codes are read case-insensitively; sent in capitals). */
    static join(code: string): MatchRequest;
    /**
     * A listed match of the protocol's kind that suits `options` (by the kind's
     * filter on each match's metadata), or a new one made from them. Throws as
     * {@link create}.
     */
    static find(schema: ProtocolSchema, options: unknown): MatchRequest;
    /** The listed matches of a kind, answered with one listing frame. */
    static list(kind: string): MatchRequest;
    /** Whether `url`'s query asks for a match (has a `match` parameter); one that does not asks for the server's default match. */
    static namesAMatch(url: string): boolean;
    /** `url` with this request's parameters added to its query (and any earlier matchmaking parameters of its query removed). */
    apply(url: string): string;
    /** The query parameters, as written. */
    toString(): string;
}
/** Base64url without padding (RFC 4648, section 5). */
export declare function encodeBase64url(bytes: Uint8Array): string;
/** One match in a listing: its code, its players and places, whether it is locked, and its metadata. */
export interface MatchListing<Metadata> {
    /** The match's code, to join it by. */
    readonly code: string;
    /** Players in it now (paused ones included). */
    readonly players: number;
    /** The most players it holds. */
    readonly maxPlayers: number;
    /** Whether it takes no new players. */
    readonly locked: boolean;
    /** What the match shows: a value of the schema's `metadata` type (`null` for a protocol without). */
    readonly metadata: Metadata;
}
/**
 * Decodes a listing frame, `[5, [[code, players, max_players, locked, metadata]…]]`
 * (elements a later version adds to an entry are skipped). Throws
 * {@link DecodeError} for anything else, or metadata not of the protocol's type.
 */
export declare function decodeListing(protocol: CompiledProtocol, bytes: Uint8Array): MatchListing<unknown>[];
/** Encodes a listing frame (for stand-in servers and tests); each entry's metadata a value of the protocol's type. */
export declare function encodeListing(protocol: CompiledProtocol, listings: readonly MatchListing<unknown>[]): Uint8Array<ArrayBuffer>;
