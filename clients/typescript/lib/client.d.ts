/** The client: one WebSocket connection at a time to a nodelink server's native wire. */
import { type CloseReason } from "./close.js";
import { type NodelinkError } from "./errors.js";
import { type Settings } from "./frames.js";
import { type MatchListing } from "./matchmaking.js";
import { type StateSync, type World } from "./mirror.js";
import type { PlayerId } from "./player-id.js";
import { type CompiledProtocol } from "./protocol.js";
import { type ReconnectOptions } from "./reconnect.js";
import type { ProtocolSchema } from "./schema.js";
import type { EntityId } from "./entity-id.js";
import type { EntityDeltaOf, EntityOf, EventName, EventOf, PayloadArgs, ProtocolTypes, ServerStateDeltaOf, StateDeltaOf, Unsubscribe } from "./types.js";
/** A sync frame as the handlers of protocol `P` see it. */
type SyncOf<P extends ProtocolTypes> = StateSync<P["state"], P["serverState"], StateDeltaOf<P>, ServerStateDeltaOf<P>, EntityOf<P>, EntityDeltaOf<P>>;
/** The mirror of protocol `P`, as handlers and the client show it. */
type WorldOf<P extends ProtocolTypes> = World<P["state"], P["serverState"], EntityOf<P>>;
/**
 * The part of the WebSocket API the client uses: what browsers' `WebSocket` and the
 * `ws` package's both have.
 */
export interface WebSocketLike {
    binaryType: string;
    readonly readyState: number;
    readonly protocol: string;
    onopen: ((event: any) => void) | null;
    onmessage: ((event: any) => void) | null;
    onerror: ((event: any) => void) | null;
    onclose: ((event: any) => void) | null;
    send(data: Uint8Array<ArrayBuffer>): void;
    close(code?: number, reason?: string): void;
}
/** A WebSocket class: `WebSocket` in browsers, `WebSocket` from the `ws` package in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;
/** How a client connects and bounds its resources. Every field has a default. */
export interface ClientOptions {
    /**
     * The WebSocket class. Default: `globalThis.WebSocket` (browsers, Deno, Bun, Node
     * 22+). In Node 20 pass the `ws` package's: `{ WebSocket }` from `import { WebSocket } from "ws"`.
     */
    WebSocket?: WebSocketConstructor;
    /** Events queued before (and between) connections, in frames. Default 1024. */
    sendQueueLength?: number;
    /** The largest frame accepted from the server, in bytes. Default 16 MiB. */
    maxFrameLength?: number;
    /** How long opening the connection and receiving the welcome may take, in ms. Default 10 000. */
    connectTimeoutMs?: number;
    /**
     * Reconnect after the connection is lost or fails to open. Off by default; `true`
     * for the default policy (500 ms doubling up to 10 s, half of it random, forever).
     * Never after `close()`, a kick, or a protocol mismatch. A lost connection is
     * first resumed: the server holds the player for a while, and the client comes
     * back as the same player ({@link NodelinkClient.onPause}).
     */
    reconnect?: boolean | ReconnectOptions;
    /**
     * Events kept after they were sent, so that a resumed session re-sends those a
     * dropped connection did not deliver. Default 128 (below the server's default
     * rate-limit burst, 200). When more went unseen, the resume is refused and the
     * client joins afresh.
     */
    resumeBufferLength?: number;
    /** The random source for reconnect jitter, returning numbers in [0, 1). Default `Math.random`. */
    random?: () => number;
}
/**
 * Why a connection ended, as `onDisconnect` and `onPause` receive it: switch on
 * `kind`.
 *
 * - `"closed"`: the server (or a relay) closed the connection with a close frame.
 *   `code` is the WebSocket close code, `reason` the frame's text, and `closeReason`
 *   nodelink's meaning of the code ({@link CloseCode}: `Kicked`, `ServerShutdown`,
 *   `IdleTimeout`, the relay's `HostGone`, …), or `null` for a code that is not
 *   nodelink's (1000, 1001, …).
 * - `"lost"`: the connection failed without a close frame (a reset, the network
 *   gone). `code` is 1006; `reason` what the WebSocket said, if anything.
 * - `"local"`: this client ended it, with `close()`.
 *
 * ```ts
 * client.onDisconnect((info) => {
 *   if (info.kind === "closed" && info.closeReason?.name === "Kicked") showKicked(info.reason);
 *   else if (info.kind === "lost") showOffline();
 * });
 * ```
 */
export type DisconnectInfo = 
/** The server closed the connection with this code and text. */
{
    readonly kind: "closed";
    /** The WebSocket close code. */
    readonly code: number;
    /** The close frame's text. */
    readonly reason: string;
    /** nodelink's meaning of `code`, or `null` for a code that is not one of its own. */
    readonly closeReason: CloseReason | null;
}
/** The connection failed without a close frame (reset, network loss). */
 | {
    readonly kind: "lost";
    /** 1006, the code a WebSocket reports for a connection lost without a close frame. */
    readonly code: number;
    /** What the WebSocket said about it, or a description. */
    readonly reason: string;
}
/** This client closed it. */
 | {
    readonly kind: "local";
};
/**
 * What a client has received and sent since it was made, over all its connections
 * ({@link NodelinkClient.stats}). Frames are WebSocket messages; bytes are their
 * payloads, the nodelink frames themselves (PROTOCOL.md), without WebSocket framing.
 * Frames received are counted by kind as they arrive, decodable or not, before any
 * handler runs.
 */
export interface ClientStats {
    /** Event frames received (kind 1). */
    readonly eventsReceived: number;
    /** Their bytes. */
    readonly eventBytesReceived: number;
    /** Sync frames received (kind 2) that are not part of a snapshot: a tick's changes. */
    readonly syncFramesReceived: number;
    /** Their bytes. */
    readonly syncBytesReceived: number;
    /**
     * Sync frames received that are part of a snapshot: from a frame with the `full`
     * flag up to the first without `more` (each connection's first, and those sent on
     * the server's request or after the client fell behind).
     */
    readonly snapshotFramesReceived: number;
    /** Their bytes. */
    readonly snapshotBytesReceived: number;
    /** Other frames received: welcomes, pings, and any of an unknown kind. */
    readonly otherFramesReceived: number;
    /** Their bytes. */
    readonly otherBytesReceived: number;
    /** Frames sent: events (those re-sent after a resume too) and pongs. */
    readonly framesSent: number;
    /** Their bytes. */
    readonly bytesSent: number;
    /** Connections that resumed the session of an earlier one: the same player. */
    readonly resumes: number;
    /** Connections welcomed after the first: resumed, or joined afresh. */
    readonly reconnects: number;
}
/** Where the client is in its life. */
export type ConnectionStatus = 
/** Not connected yet: `connect()` was not called. */
"idle"
/** Opening a connection and waiting for the welcome. */
 | "connecting"
/** Connected: the welcome arrived. */
 | "open"
/** Waiting before the next attempt to reconnect. */
 | "reconnecting"
/** The connection ended and no attempt follows; `connect()` starts again. */
 | "disconnected"
/** Closed by `close()`: final. */
 | "closed";
/** The server's welcome, as handlers see it. */
export interface ConnectInfo {
    /** This client's player id. */
    readonly id: PlayerId;
    /** Its net id in sync frames. */
    readonly netId: number;
    /** The server's sync ticks per second. */
    readonly tickRate: number;
    /** The protocol fingerprint both sides share. */
    readonly fingerprint: string;
    /** The server's limits and timings (ping interval, idle timeout, grace period, …). */
    readonly settings: Settings;
    /** Whether this welcome resumed the session of the previous one: the same player. */
    readonly resumed: boolean;
}
/**
 * A client of one protocol. Generated code subclasses it with the protocol's types
 * (`new Client(url, options)`); it can also be used directly with a schema.
 *
 * ```ts
 * const client = new Client("ws://localhost:5000/", { WebSocket });
 * client.send("move", { x: 1, y: 2 });     // queued until the welcome
 * client.on("chat", ({ from, msg }) => console.log(from, msg));
 * client.onStateSync((sync, world) => draw(world.players));
 * await client.connect();
 * ```
 */
export declare class NodelinkClient<P extends ProtocolTypes> {
    /**
     * The URL the client was made with: the server's, with the match request in its
     * query, if any (`?match=create&kind=…`): its original request. Once a welcome
     * names the match joined, the client resumes its session in that match by its
     * code ({@link matchCode}), and a client that asked for a match joins it afresh
     * by its code too; after 4105 "game process lost", or a request by code refused
     * as an unknown match, it asks as it first did.
     */
    readonly url: string;
    /** The compiled protocol. */
    readonly protocol: CompiledProtocol;
    private readonly mirror;
    private readonly queue;
    private readonly WebSocketClass;
    private readonly policy;
    private readonly maxFrameLength;
    private readonly connectTimeoutMs;
    private readonly random;
    private readonly resumeBufferLength;
    /** Whether to offer {@link REFUSALS_SUBPROTOCOL}: where the WebSocket cannot show a refused upgrade's response. */
    private readonly refusalsByClose;
    /** Where the current (or last) attempt connects: see {@link targetFor}. */
    private target;
    /**
     * The code of the match the last welcome named, to come back to; `null` before
     * it, and once that match is known to be gone (its process lost, or its code
     * refused).
     */
    private returnCode;
    private attempt;
    private readonly counts;
    private connections;
    private attempts;
    private retryTimer;
    private welcome;
    private pending;
    private closing;
    private current;
    private latency;
    private session;
    private readonly eventHandlers;
    private readonly anyHandlers;
    private readonly connectHandlers;
    private readonly disconnectHandlers;
    private readonly pauseHandlers;
    private readonly resumeHandlers;
    private readonly syncHandlers;
    private readonly snapshotHandlers;
    private readonly errorHandlers;
    private readonly reconnectingHandlers;
    private readonly latencyHandlers;
    constructor(schema: ProtocolSchema, url: string, options?: ClientOptions);
    /** Where the client is in its life. */
    get status(): ConnectionStatus;
    /** This client's player id, once welcomed (kept after a disconnect until the next welcome). */
    get id(): PlayerId | null;
    /** The last welcome. */
    get connection(): ConnectInfo | null;
    /** The limits and timings the server announced in the last welcome (PROTOCOL.md, "Settings"); `null` before the first. */
    get settings(): Settings | null;
    /**
     * The code of the match the last welcome joined: what other players join it by
     * (`Client.join(url, code)`). `null` before the first welcome, and from a server
     * that does not say.
     *
     * ```ts
     * const client = Client.create(url, { title: "ada's table" });
     * await client.connect();
     * showInvite(client.matchCode);
     * ```
     */
    get matchCode(): string | null;
    /** The kind of the match the last welcome joined (`null` before it, or from a server that does not say). */
    get matchKind(): string | null;
    /** The mirror of the server's world. */
    get world(): WorldOf<P>;
    /** Every mirrored player's state. */
    get players(): ReadonlyMap<PlayerId, Readonly<P["state"]>>;
    /** The shared server state. */
    get serverState(): Readonly<P["serverState"]>;
    /** Every entity the server lets this client see, by id (empty for a protocol without entities). */
    get entities(): ReadonlyMap<EntityId, Readonly<EntityOf<P>>>;
    /** Players online on the server, from the last sync frame. */
    get online(): number;
    /** The round trip the server measured for this client's last answered ping, in ms; `null` before the first. */
    get latencyMs(): number | null;
    /** How many events wait in the send queue. */
    get queued(): number;
    /**
     * What the client has received and sent so far, over all its connections: a copy,
     * read at any time.
     *
     * ```ts
     * const { syncFramesReceived, syncBytesReceived } = client.stats;
     * console.log(`${syncBytesReceived / syncFramesReceived} bytes a tick`);
     * ```
     */
    get stats(): ClientStats;
    private add;
    /** Calls one event's handlers with its payload. A misspelt name or a wrong payload type does not compile. */
    on<Name extends EventName<P["toClient"]>>(name: Name, handler: (data: P["toClient"][Name]) => void): Unsubscribe;
    /** Calls `handler` with every event, as `{ type, data }`: switch on `type`. */
    onEvent(handler: (event: EventOf<P["toClient"]>) => void): Unsubscribe;
    /**
     * Calls `handler` at each welcome of a new session: after connecting and after
     * each reconnection that could not resume the session (a resumed one calls
     * {@link onResume} instead).
     */
    onConnect(handler: (info: ConnectInfo) => void): Unsubscribe;
    /**
     * Calls `handler` when a session ends, with why; the mirror is emptied first.
     * That is when its connection ends, unless the client is resuming it
     * ({@link onPause}); then, only if the resume fails: refused by the server (with
     * its close code, such as 4008 "session expired", after which the client joins
     * afresh) or given up.
     */
    onDisconnect(handler: (info: DisconnectInfo) => void): Unsubscribe;
    /**
     * Calls `handler` when the connection was lost and the client is about to resume
     * its session (with reconnection on): the server holds this player meanwhile, and
     * the mirror is kept. Then either {@link onResume} follows, or, if the session
     * is over, {@link onDisconnect} and a fresh {@link onConnect}.
     *
     * ```ts
     * client.onPause((info) => showBanner(`reconnecting (${info.reason})…`));
     * client.onResume(() => hideBanner());
     * ```
     */
    onPause(handler: (info: DisconnectInfo) => void): Unsubscribe;
    /**
     * Calls `handler` when the session was resumed on a new connection: the same
     * player. The events missed meanwhile follow, then a snapshot that brings the
     * mirror up to date; events sent while away go out once.
     */
    onResume(handler: (info: ConnectInfo) => void): Unsubscribe;
    /** Calls `handler` after each sync frame is applied, with its typed changes and the mirror. */
    onStateSync(handler: (sync: SyncOf<P>, world: WorldOf<P>) => void): Unsubscribe;
    /** Calls `handler` when a snapshot is complete: the mirror holds the whole world (after each welcome). */
    onSnapshot(handler: (world: WorldOf<P>) => void): Unsubscribe;
    /**
     * Calls `handler` with every error: connection failures, undecodable frames,
     * unknown net ids, handlers that threw. Without one, errors go to `console.error`.
     */
    onError(handler: (error: NodelinkError) => void): Unsubscribe;
    /** Calls `handler` before each reconnection attempt, with its number (from 1) and the delay in ms. */
    onReconnecting(handler: (attempt: number, delayMs: number) => void): Unsubscribe;
    /** Calls `handler` with each round trip the server measured for this client, in ms (with each ping after the first). */
    onLatency(handler: (latencyMs: number) => void): Unsubscribe;
    private emit;
    private report;
    /**
     * Sends an event: at once when connected, else queued (in order, bounded) until
     * the next welcome. Throws {@link EncodeError} for a payload that does not fit the
     * schema, {@link QueueFullError} when the queue is full, and {@link StoppedError}
     * after `close()`.
     */
    send<Name extends EventName<P["toServer"]>>(name: Name, ...payload: PayloadArgs<P["toServer"][Name]>): void;
    private flush;
    /**
     * Sends a frame, keeping it for the session first: a frame whose send failed
     * half-way may have arrived, and the server's count settles it on a resume.
     */
    private write;
    /**
     * Connects. Resolves at the server's welcome; rejects when the client gives up
     * (reconnection off or out of attempts, a refusal, a protocol mismatch) or is
     * closed first. Every failure is also passed to `onError`. Calling it while
     * connecting or connected returns the same promise.
     */
    connect(): Promise<ConnectInfo>;
    private open;
    /**
     * Where the WebSocket class shows a refused upgrade's HTTP response (the `ws`
     * package's `unexpected-response` event), reads it ({@link watchRefusal}).
     * Browsers show none of it: there the client asks for refusals as close codes.
     */
    private watchUpgrade;
    /** Ends an attempt that failed before its welcome, without waiting for its close event. */
    private abandon;
    /**
     * Where the next attempt connects: as first asked ({@link url}) until a welcome
     * names the match joined; then, to resume the session, that match by its code
     * (also a server's default match: through a gateway, only the process that holds
     * the match holds the session); and to join afresh, that match by its code for a
     * client that asked for a match (so that a client that created one never creates
     * another), the default match again for one that did not (a server restarted
     * meanwhile has a new one).
     */
    private targetFor;
    /** An attempt failed before the welcome: retry, or give up. */
    private failed;
    private retry;
    private received;
    /** Counts a received frame by its kind (and, for a decoded sync frame, its flags). */
    private count;
    private sent;
    /** A connection was welcomed: resumed, or a new session. */
    private countWelcome;
    private welcomed;
    /** After a welcome: the match it names is the one to come back to ({@link targetFor}). */
    private aimAt;
    /** The server resumed the session, having received `serverReceived` of this client's frames. */
    private resumed;
    private closed;
    /**
     * The server refused to resume the session, closing the connection before its
     * welcome: the session is over. The client says why, then joins afresh at once
     * (the server answered: no reason to wait), unless told not to come back.
     */
    private refused;
    /**
     * Closes the connection with code 1000 and stops for good: no reconnection,
     * nothing more sent. Resolves when the connection has ended. Events still in the
     * queue are dropped.
     */
    close(): Promise<void>;
    private settleClose;
}
/** How {@link listMatches} connects. Every field has a default, as in {@link ClientOptions}. */
export type ListOptions = Pick<ClientOptions, "WebSocket" | "connectTimeoutMs" | "maxFrameLength">;
/**
 * The listed matches of `schema`'s kind on the server at `url`: each one's code,
 * players, places, lock and metadata, for a lobby screen. One connection, which the
 * server answers with one listing frame and closes. Generated clients have it as
 * `Client.list(url)`, typed.
 *
 * Rejects with {@link RefusedError} (an unknown kind, say), {@link ProtocolMismatchError}
 * for a server of another protocol, {@link ConnectError} when there is no answer,
 * {@link DecodeError} for an answer that is not a listing of this protocol's
 * metadata, and {@link SchemaError} for a schema without a `kind`.
 *
 * ```ts
 * for (const listing of await listMatches(schema, "ws://localhost:5000/", { WebSocket })) {
 *   console.log(`${listing.code}: ${listing.players}/${listing.maxPlayers}`);
 * }
 * ```
 */
export declare function listMatches<Metadata = unknown>(schema: ProtocolSchema, url: string, options?: ListOptions): Promise<MatchListing<Metadata>[]>;
export {};
