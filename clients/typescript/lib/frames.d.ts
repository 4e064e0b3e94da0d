/**
 * The native wire's frames (PROTOCOL.md): decoding what the server sends and
 * encoding what the client sends, plus the server side of each (used by tests and
 * by anyone writing a stand-in server).
 */
import { type EntityId } from "./entity-id.js";
import { type PlayerId } from "./player-id.js";
import type { CompiledProtocol } from "./protocol.js";
/** The first element of every frame. */
export declare const FrameKind: {
    readonly Welcome: 0;
    readonly Event: 1;
    readonly Sync: 2;
    readonly Ping: 3;
    readonly Pong: 4;
};
/** The bits of a sync frame's flags. */
export declare const SyncFlag: {
    /** The frame begins a snapshot: forget every mirrored player, entity and the server state. */
    readonly Full: 1;
    /** The snapshot continues in the next frame(s). */
    readonly More: 2;
};
/** The subprotocol a client of this protocol offers: `nodelink.3.<fingerprint>`. */
export declare function subprotocol(fingerprint: string): string;
/** What a client presents to resume its session (PROTOCOL.md, "Resuming a session"). */
export interface ResumeOffer {
    /** The token of the session's last welcome: 32 hex digits. */
    readonly token: string;
    /** Event frames received from the server on the session. */
    readonly received: number;
    /** How many of the frames it sent on the session, from the first, the client no longer keeps. */
    readonly forgotten: number;
}
/**
 * The subprotocol that asks to resume a session, offered beside
 * {@link subprotocol}: `nodelink.resume.<token>.<received>.<forgotten>`.
 */
export declare function resumeSubprotocol(offer: ResumeOffer): string;
/** A frame's kind, read without decoding the rest; `null` when the bytes do not start like a frame. */
export declare function frameKind(bytes: Uint8Array): number | null;
/**
 * The limits and timings a server announces in its welcome (PROTOCOL.md,
 * "Settings"), as they apply to the connection. Durations in milliseconds; zero
 * where the server does not ping, never drops a silent client, or holds no session.
 */
export interface Settings {
    /** How often the server pings the client (`ping_interval_ms`); 0: never. */
    readonly pingIntervalMs: number;
    /** Silence after which the server closes the connection with 4006 (`idle_timeout_ms`); 0: never. */
    readonly idleTimeoutMs: number;
    /** The largest message the server takes, in bytes (`max_frame_len`); a larger one closes the connection with 4003. */
    readonly maxFrameLen: number;
    /** The rate limit on the client's messages (`rate_limit_*`); `null`: none. */
    readonly rateLimit: RateLimit | null;
    /** Invalid messages the server tolerates (`max_invalid_frames`); the next one closes the connection with 4003. */
    readonly maxInvalidFrames: number;
    /** How long the client's send queue may stay full before the server closes the connection with 4004 (`slow_consumer_timeout_ms`). */
    readonly slowConsumerTimeoutMs: number;
    /** How long the server holds the session after its connection is lost (`resume_grace_ms`); 0: no session. */
    readonly resumeGraceMs: number;
    /** How many event frames the server keeps for a paused session (`resume_buffer_len`). */
    readonly resumeBufferLen: number;
    /**
     * The code of the match the client joined (`match_code`): what other players join
     * it by, and what the client reconnects to when it asked for a match. `null` from
     * a server that does not say.
     */
    readonly matchCode: string | null;
    /** The kind of that match (`match_kind`); `null` from a server that does not say. */
    readonly matchKind: string | null;
}
/** A server's rate limit on a client's messages: a token bucket. */
export interface RateLimit {
    /** Messages a second, sustained (`rate_limit_per_second`). */
    readonly perSecond: number;
    /** Messages allowed in a burst (`rate_limit_burst`). */
    readonly burst: number;
    /** Messages dropped in a row that close the connection with 4005 (`rate_limit_disconnect_after`). */
    readonly disconnectAfter: number;
}
/** What a server with the default configuration announces to a native client. */
export declare const DEFAULT_SETTINGS: Settings;
/** The server's first frame. */
export interface Welcome {
    readonly wireVersion: number;
    /** The server's protocol fingerprint, 16 hex digits. */
    readonly fingerprint: string;
    /** The id of the player this connection is. */
    readonly id: PlayerId;
    /** That player's net id in sync frames. */
    readonly netId: number;
    /** Sync ticks per second. */
    readonly tickRate: number;
    /** The server's limits and timings, as they apply to this connection. */
    readonly settings: Settings;
    /** The token that resumes this session if the connection drops; `null` from a server without sessions. */
    readonly resumeToken: string | null;
    /** On a resumed session: how many frames the server has received from the client on it; else `null`. */
    readonly resumed: number | null;
}
/** A player entry of a sync frame: the fields its mask names, by field name. */
export interface SyncEntry {
    readonly netId: number;
    /**
     * Decoded: a plain object of the fields present (a nested state's value likewise:
     * its sub-fields present; a `SyncMap`'s a `SyncMapDelta`, a `SyncVec`'s a
     * `SyncVecDelta`). To encode: any object, its own keys being the fields present,
     * at every level (a `Map` or an array for a synced collection sent whole).
     */
    readonly fields: object;
}
/** An entity entry of a sync frame: the fields its mask names, by field name. */
export interface EntityEntry {
    /** The entity's id: server-wide, the same for every client. */
    readonly id: EntityId;
    /** As a player entry's `fields`: every field for an entity the receiver does not hold yet. */
    readonly fields: object;
}
/**
 * A sync frame as decoded, before net ids are resolved. `despawned` and `entities`
 * are there when the frame carries entity changes (ten elements on the wire);
 * both or neither.
 */
export interface SyncFrame {
    readonly tick: number;
    readonly online: number;
    readonly flags: number;
    readonly left: readonly number[];
    readonly joined: readonly {
        readonly netId: number;
        readonly id: PlayerId;
    }[];
    readonly players: readonly SyncEntry[];
    /** The changed fields of the server state; `null` when none changed. */
    readonly server: object | null;
    /** Entities to forget (despawned, or gone out of view): applied after the server state. */
    readonly despawned?: readonly EntityId[];
    /** Entities' changed fields (every field for one spawned or come into view): applied last. */
    readonly entities?: readonly EntityEntry[];
}
/** An event frame: the wire name and the payload (an object, an array, or `undefined`). */
export interface EventFrame {
    readonly name: string;
    readonly data: unknown;
}
/** Anything the server sends. */
export type ServerFrame = {
    readonly kind: "welcome";
    readonly welcome: Welcome;
} | {
    readonly kind: "event";
    readonly event: EventFrame;
} | {
    readonly kind: "sync";
    readonly sync: SyncFrame;
} | {
    readonly kind: "ping";
    readonly seq: number;
    readonly rttUs: number;
};
/** Anything a client sends. */
export type ClientFrame = {
    readonly kind: "event";
    readonly event: EventFrame;
} | {
    readonly kind: "pong";
    readonly seq: number;
};
/** Encodes a client's event `[1, name, field…]`. Throws {@link EncodeError} for a payload that does not fit. */
export declare function encodeClientEvent(protocol: CompiledProtocol, name: string, data?: unknown): Uint8Array<ArrayBuffer>;
/** Encodes a server's event `[1, name, field…]`. */
export declare function encodeServerEvent(protocol: CompiledProtocol, name: string, data?: unknown): Uint8Array<ArrayBuffer>;
/** The field indexes a mask names, in increasing order; throws for a bit beyond `count` fields. */
export declare function maskFields(mask: number | bigint, count: number): number[];
/**
 * Decodes one frame from the server. Throws {@link DecodeError} for a frame that does
 * not fit the protocol, and {@link ProtocolMismatchError} for a welcome of another
 * wire version.
 */
export declare function decodeServerFrame(protocol: CompiledProtocol, bytes: Uint8Array): ServerFrame;
/** Decodes one frame from a client (for stand-in servers and tests). */
export declare function decodeClientFrame(protocol: CompiledProtocol, bytes: Uint8Array): ClientFrame;
/** Encodes a pong `[4, seq]`. */
export declare function encodePong(seq: number): Uint8Array<ArrayBuffer>;
/** Encodes a ping `[3, seq, rtt_us]`. */
export declare function encodePing(seq: number, rttUs: number): Uint8Array<ArrayBuffer>;
/**
 * Encodes a welcome `[0, wire_version, fingerprint, player_id, net_id, tick_rate,
 * settings]`, then the resume token when there is one and, on a resumed session,
 * the count of frames received. Settings default to {@link DEFAULT_SETTINGS}.
 */
export declare function encodeWelcome(welcome: Omit<Welcome, "wireVersion" | "settings" | "resumeToken" | "resumed"> & {
    wireVersion?: number;
    settings?: Settings;
    resumeToken?: string | null;
    resumed?: number | null;
}): Uint8Array<ArrayBuffer>;
/**
 * Encodes a sync frame. Each entry's mask is made of the fields present in its
 * `fields`; a player's `netId` (an entity's `id`) is written before them. As the
 * Rust server does, the frame has ten elements when it carries entity changes
 * (`despawned` or `entities` not empty), else eight.
 */
export declare function encodeSync(protocol: CompiledProtocol, frame: SyncFrame): Uint8Array<ArrayBuffer>;
