/** The client: one WebSocket connection at a time to a nodelink server's native wire. */

import { closeReasonOf, CloseCode, type CloseReason, REFUSAL_HEADER, REFUSALS_SUBPROTOCOL, refusalOf } from "./close.js";
import {
  ConnectError,
  DecodeError,
  HandlerError,
  HandshakeError,
  type NodelinkError,
  ProtocolMismatchError,
  RefusedError,
  SchemaError,
  StoppedError,
  UrlError,
} from "./errors.js";
import {
  decodeServerFrame,
  encodeClientEvent,
  encodePong,
  FrameKind,
  frameKind,
  resumeSubprotocol,
  type ServerFrame,
  type Settings,
  subprotocol,
  SyncFlag,
  type Welcome,
} from "./frames.js";
import { decodeListing, type MatchListing, MatchRequest } from "./matchmaking.js";
import { Mirror, type StateSync, type World } from "./mirror.js";
import type { PlayerId } from "./player-id.js";
import { compileProtocol, type CompiledProtocol } from "./protocol.js";
import { SendQueue } from "./queue.js";
import { attemptsLeft, reconnectDelay, type ReconnectOptions, reconnectPolicy, type ReconnectPolicy } from "./reconnect.js";
import type { ProtocolSchema } from "./schema.js";
import { WIRE_VERSION } from "./schema.js";
import type { EntityId } from "./entity-id.js";
import type {
  EntityDeltaOf,
  EntityOf,
  EventName,
  EventOf,
  PayloadArgs,
  ProtocolTypes,
  ServerStateDeltaOf,
  StateDeltaOf,
  Unsubscribe,
} from "./types.js";

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
  // The event parameters are `any` so that both the DOM's and `ws`'s handler types fit.
  onopen: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  // `ArrayBuffer`-backed, as the DOM's `send` requires (it takes no view of a `SharedArrayBuffer`).
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
  | {
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
  | { readonly kind: "local" };

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

type Counts = { -readonly [Key in keyof ClientStats]: number };

/** Where the client is in its life. */
export type ConnectionStatus =
  /** Not connected yet: `connect()` was not called. */
  | "idle"
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
 * A session the server holds for this client across connections (PROTOCOL.md,
 * "Resuming a session"): what to present to resume it, and what to re-send.
 */
interface Session {
  token: string;
  /** Event frames received from the server on this session. */
  received: number;
  /** Frames sent on this session (events; pongs are not counted). */
  sent: number;
  /** The last frames sent; the newest is number `sent`. */
  readonly kept: Uint8Array<ArrayBuffer>[];
  /** While its connection is down: why it ended. */
  paused: DisconnectInfo | null;
}

/** One connection attempt and what it learnt. */
interface Attempt {
  readonly socket: WebSocketLike;
  /** Whether it offered to resume the session. */
  readonly resuming: boolean;
  opened: boolean;
  welcomed: boolean;
  /** Whether the last sync frame began or continued a snapshot (it had `more`). */
  inSnapshot: boolean;
  /** The latest WebSocket error message. */
  socketError: string | null;
  timer: ReturnType<typeof setTimeout> | null;
}

type Handler<Args extends unknown[]> = (...args: Args) => void;

const OPEN = 1;
const NORMAL_CLOSURE = 1000;
const ABNORMAL_CLOSURE = 1006;
const noop = (): void => {};

/** The message of whatever a WebSocket error event carries. */
function socketErrorMessage(event: unknown): string {
  if (typeof event === "object" && event !== null) {
    const message = (event as { message?: unknown }).message;
    if (typeof message === "string" && message !== "") return message;
    const error = (event as { error?: unknown }).error;
    if (error instanceof Error) return error.message;
  }
  return "WebSocket error";
}

function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((chunk) => ArrayBuffer.isView(chunk))) {
    // `ws` with binaryType "fragments".
    const chunks = data as ArrayBufferView[];
    const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
    let at = 0;
    for (const chunk of chunks) {
      out.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), at);
      at += chunk.byteLength;
    }
    return out;
  }
  return null;
}

/** Whether a connection that could not be made is worth trying again. */
function worthRetrying(error: NodelinkError): boolean {
  if (error instanceof ConnectError || error instanceof HandshakeError) return true;
  if (error instanceof RefusedError) return error.retryable;
  return false;
}

/**
 * Codes after which the client does not come back: kicked, its match ended, or its
 * relayed game is gone (its code would meet a 404).
 */
// 4102 and 4104 are a relay's words to hosts: a player that gets one stays away too.
const FINAL_CODES: ReadonlySet<number> = new Set([
  CloseCode.Kicked,
  CloseCode.ProtocolMismatch,
  CloseCode.MatchEnded,
  CloseCode.HostGone,
  CloseCode.RelayShutdown,
  CloseCode.PlayerConnectionLost,
  CloseCode.LinkReplaced,
]);

/** Whether a connection that ended this way is worth reopening. */
function worthReconnecting(info: DisconnectInfo): boolean {
  if (info.kind === "local") return false;
  return !FINAL_CODES.has(info.code);
}

/**
 * Whether a session whose connection ended this way can be resumed: lost, closed as
 * silent, or cut by a relay that lost the host's connection (the host saw it lost
 * too, and holds the player).
 */
function resumable(info: DisconnectInfo): boolean {
  if (info.kind === "lost") return true;
  return info.kind === "closed" && (info.code === CloseCode.IdleTimeout || info.code === CloseCode.HostConnectionLost);
}

/** The server's fingerprint in a refusal's reason (`server fingerprint <hex>`, or `speaks nodelink.<v>.<hex>`). */
function serverFingerprintIn(reason: string): { fingerprint: string | null; wireVersion: number | null } {
  const mismatch = /server fingerprint ([0-9a-f]{16})/i.exec(reason);
  if (mismatch !== null) return { fingerprint: mismatch[1]!.toLowerCase(), wireVersion: null };
  const speaks = /speaks nodelink\.(\d+)\.([0-9a-f]{16})/i.exec(reason);
  if (speaks !== null) return { fingerprint: speaks[2]!.toLowerCase(), wireVersion: Number(speaks[1]) };
  return { fingerprint: null, wireVersion: null };
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
export class NodelinkClient<P extends ProtocolTypes> {
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

  private readonly mirror: Mirror<P["state"], P["serverState"], StateDeltaOf<P>, ServerStateDeltaOf<P>, EntityOf<P>, EntityDeltaOf<P>>;
  private readonly queue: SendQueue;
  private readonly WebSocketClass: WebSocketConstructor;
  private readonly policy: ReconnectPolicy | null;
  private readonly maxFrameLength: number;
  private readonly connectTimeoutMs: number;
  private readonly random: () => number;
  private readonly resumeBufferLength: number;
  /** Whether to offer {@link REFUSALS_SUBPROTOCOL}: where the WebSocket cannot show a refused upgrade's response. */
  private readonly refusalsByClose: boolean;

  /** Where the current (or last) attempt connects: see {@link targetFor}. */
  private target: string;
  /**
   * The code of the match the last welcome named, to come back to; `null` before
   * it, and once that match is known to be gone (its process lost, or its code
   * refused).
   */
  private returnCode: string | null = null;
  private attempt: Attempt | null = null;
  private readonly counts: Counts = {
    eventsReceived: 0,
    eventBytesReceived: 0,
    syncFramesReceived: 0,
    syncBytesReceived: 0,
    snapshotFramesReceived: 0,
    snapshotBytesReceived: 0,
    otherFramesReceived: 0,
    otherBytesReceived: 0,
    framesSent: 0,
    bytesSent: 0,
    resumes: 0,
    reconnects: 0,
  };
  private connections = 0;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private welcome: ConnectInfo | null = null;
  private pending: { promise: Promise<ConnectInfo>; resolve: (info: ConnectInfo) => void; reject: (error: unknown) => void } | null = null;
  private closing: { promise: Promise<void>; resolve: () => void } | null = null;
  private current: ConnectionStatus = "idle";
  private latency: number | null = null;
  private session: Session | null = null;

  private readonly eventHandlers = new Map<string, Set<Handler<[unknown]>>>();
  private readonly anyHandlers = new Set<Handler<[EventOf<P["toClient"]>]>>();
  private readonly connectHandlers = new Set<Handler<[ConnectInfo]>>();
  private readonly disconnectHandlers = new Set<Handler<[DisconnectInfo]>>();
  private readonly pauseHandlers = new Set<Handler<[DisconnectInfo]>>();
  private readonly resumeHandlers = new Set<Handler<[ConnectInfo]>>();
  private readonly syncHandlers = new Set<Handler<[SyncOf<P>, WorldOf<P>]>>();
  private readonly snapshotHandlers = new Set<Handler<[WorldOf<P>]>>();
  private readonly errorHandlers = new Set<Handler<[NodelinkError]>>();
  private readonly reconnectingHandlers = new Set<Handler<[number, number]>>();
  private readonly latencyHandlers = new Set<Handler<[number]>>();

  constructor(schema: ProtocolSchema, url: string, options: ClientOptions = {}) {
    this.protocol = compileProtocol(schema);
    this.url = checkUrl(url);
    this.target = this.url;
    this.WebSocketClass = webSocketClass(this.url, options.WebSocket);
    this.refusalsByClose = refusalsByClose(this.WebSocketClass);
    this.mirror = new Mirror(this.protocol);
    this.queue = new SendQueue(options.sendQueueLength ?? 1024);
    this.maxFrameLength = options.maxFrameLength ?? 16 * 1024 * 1024;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.resumeBufferLength = Math.max(0, options.resumeBufferLength ?? 128);
    const reconnect = options.reconnect ?? false;
    this.policy = reconnect === false ? null : reconnectPolicy(reconnect === true ? {} : reconnect);
  }

  // -------------------------------------------------------------------------
  // State

  /** Where the client is in its life. */
  get status(): ConnectionStatus {
    return this.current;
  }

  /** This client's player id, once welcomed (kept after a disconnect until the next welcome). */
  get id(): PlayerId | null {
    return this.welcome?.id ?? null;
  }

  /** The last welcome. */
  get connection(): ConnectInfo | null {
    return this.welcome;
  }

  /** The limits and timings the server announced in the last welcome (PROTOCOL.md, "Settings"); `null` before the first. */
  get settings(): Settings | null {
    return this.welcome?.settings ?? null;
  }

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
  get matchCode(): string | null {
    return this.welcome?.settings.matchCode ?? null;
  }

  /** The kind of the match the last welcome joined (`null` before it, or from a server that does not say). */
  get matchKind(): string | null {
    return this.welcome?.settings.matchKind ?? null;
  }

  /** The mirror of the server's world. */
  get world(): WorldOf<P> {
    return this.mirror;
  }

  /** Every mirrored player's state. */
  get players(): ReadonlyMap<PlayerId, Readonly<P["state"]>> {
    return this.mirror.players;
  }

  /** The shared server state. */
  get serverState(): Readonly<P["serverState"]> {
    return this.mirror.serverState;
  }

  /** Every entity the server lets this client see, by id (empty for a protocol without entities). */
  get entities(): ReadonlyMap<EntityId, Readonly<EntityOf<P>>> {
    return this.mirror.entities;
  }

  /** Players online on the server, from the last sync frame. */
  get online(): number {
    return this.mirror.online;
  }

  /** The round trip the server measured for this client's last answered ping, in ms; `null` before the first. */
  get latencyMs(): number | null {
    return this.latency;
  }

  /** How many events wait in the send queue. */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * What the client has received and sent so far, over all its connections: a copy,
   * read at any time.
   *
   * ```ts
   * const { syncFramesReceived, syncBytesReceived } = client.stats;
   * console.log(`${syncBytesReceived / syncFramesReceived} bytes a tick`);
   * ```
   */
  get stats(): ClientStats {
    return { ...this.counts };
  }

  // -------------------------------------------------------------------------
  // Handlers

  private add<Args extends unknown[]>(set: Set<Handler<Args>>, handler: Handler<Args>): Unsubscribe {
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  /** Calls one event's handlers with its payload. A misspelt name or a wrong payload type does not compile. */
  on<Name extends EventName<P["toClient"]>>(name: Name, handler: (data: P["toClient"][Name]) => void): Unsubscribe {
    if (!this.protocol.toClient.has(name)) {
      throw new TypeError(`${this.protocol.schema.to_client.name} has no event \`${name}\``);
    }
    let set = this.eventHandlers.get(name);
    if (set === undefined) {
      set = new Set();
      this.eventHandlers.set(name, set);
    }
    return this.add(set, handler as Handler<[unknown]>);
  }

  /** Calls `handler` with every event, as `{ type, data }`: switch on `type`. */
  onEvent(handler: (event: EventOf<P["toClient"]>) => void): Unsubscribe {
    return this.add(this.anyHandlers, handler);
  }

  /**
   * Calls `handler` at each welcome of a new session: after connecting and after
   * each reconnection that could not resume the session (a resumed one calls
   * {@link onResume} instead).
   */
  onConnect(handler: (info: ConnectInfo) => void): Unsubscribe {
    return this.add(this.connectHandlers, handler);
  }

  /**
   * Calls `handler` when a session ends, with why; the mirror is emptied first.
   * That is when its connection ends, unless the client is resuming it
   * ({@link onPause}); then, only if the resume fails: refused by the server (with
   * its close code, such as 4008 "session expired", after which the client joins
   * afresh) or given up.
   */
  onDisconnect(handler: (info: DisconnectInfo) => void): Unsubscribe {
    return this.add(this.disconnectHandlers, handler);
  }

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
  onPause(handler: (info: DisconnectInfo) => void): Unsubscribe {
    return this.add(this.pauseHandlers, handler);
  }

  /**
   * Calls `handler` when the session was resumed on a new connection: the same
   * player. The events missed meanwhile follow, then a snapshot that brings the
   * mirror up to date; events sent while away go out once.
   */
  onResume(handler: (info: ConnectInfo) => void): Unsubscribe {
    return this.add(this.resumeHandlers, handler);
  }

  /** Calls `handler` after each sync frame is applied, with its typed changes and the mirror. */
  onStateSync(handler: (sync: SyncOf<P>, world: WorldOf<P>) => void): Unsubscribe {
    return this.add(this.syncHandlers, handler);
  }

  /** Calls `handler` when a snapshot is complete: the mirror holds the whole world (after each welcome). */
  onSnapshot(handler: (world: WorldOf<P>) => void): Unsubscribe {
    return this.add(this.snapshotHandlers, handler);
  }

  /**
   * Calls `handler` with every error: connection failures, undecodable frames,
   * unknown net ids, handlers that threw. Without one, errors go to `console.error`.
   */
  onError(handler: (error: NodelinkError) => void): Unsubscribe {
    return this.add(this.errorHandlers, handler);
  }

  /** Calls `handler` before each reconnection attempt, with its number (from 1) and the delay in ms. */
  onReconnecting(handler: (attempt: number, delayMs: number) => void): Unsubscribe {
    return this.add(this.reconnectingHandlers, handler);
  }

  /** Calls `handler` with each round trip the server measured for this client, in ms (with each ping after the first). */
  onLatency(handler: (latencyMs: number) => void): Unsubscribe {
    return this.add(this.latencyHandlers, handler);
  }

  private emit<Args extends unknown[]>(set: ReadonlySet<Handler<Args>>, name: string, ...args: Args): void {
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        this.report(new HandlerError(name, error));
      }
    }
  }

  private report(error: NodelinkError): void {
    if (this.errorHandlers.size === 0) {
      console.error(`nodelink: ${error.message}`);
      return;
    }
    for (const handler of [...this.errorHandlers]) {
      try {
        handler(error);
      } catch (thrown) {
        console.error("nodelink: the error handler threw", thrown);
      }
    }
  }

  // -------------------------------------------------------------------------
  // Sending

  /**
   * Sends an event: at once when connected, else queued (in order, bounded) until
   * the next welcome. Throws {@link EncodeError} for a payload that does not fit the
   * schema, {@link QueueFullError} when the queue is full, and {@link StoppedError}
   * after `close()`.
   */
  send<Name extends EventName<P["toServer"]>>(name: Name, ...payload: PayloadArgs<P["toServer"][Name]>): void {
    if (this.current === "closed") throw new StoppedError();
    const frame = encodeClientEvent(this.protocol, name, payload[0]);
    const socket = this.attempt?.welcomed ? this.attempt.socket : null;
    if (socket !== null && this.queue.size === 0 && socket.readyState === OPEN) {
      this.write(socket, frame);
      return;
    }
    this.queue.push(frame);
  }

  private flush(socket: WebSocketLike): void {
    for (let frame = this.queue.shift(); frame !== undefined; frame = this.queue.shift()) this.write(socket, frame);
  }

  /**
   * Sends a frame, keeping it for the session first: a frame whose send failed
   * half-way may have arrived, and the server's count settles it on a resume.
   */
  private write(socket: WebSocketLike, frame: Uint8Array<ArrayBuffer>): void {
    const session = this.session;
    if (session !== null) {
      session.sent += 1;
      if (this.resumeBufferLength > 0) {
        if (session.kept.length >= this.resumeBufferLength) session.kept.shift();
        session.kept.push(frame);
      }
    }
    this.sent(frame);
    socket.send(frame);
  }

  // -------------------------------------------------------------------------
  // Connecting

  /**
   * Connects. Resolves at the server's welcome; rejects when the client gives up
   * (reconnection off or out of attempts, a refusal, a protocol mismatch) or is
   * closed first. Every failure is also passed to `onError`. Calling it while
   * connecting or connected returns the same promise.
   */
  connect(): Promise<ConnectInfo> {
    if (this.current === "closed") return Promise.reject(new StoppedError());
    if (this.current === "open" && this.welcome !== null) return Promise.resolve(this.welcome);
    if (this.pending !== null) return this.pending.promise;
    let resolve!: (info: ConnectInfo) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<ConnectInfo>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    this.pending = { promise, resolve, reject };
    if (this.current === "idle" || this.current === "disconnected") {
      this.attempts = 0;
      this.open();
    }
    return promise;
  }

  private open(): void {
    this.retryTimer = null;
    this.current = "connecting";
    let socket: WebSocketLike;
    const session = this.session;
    // The server echoes only the first; the second asks it to resume the session.
    const protocols = [subprotocol(this.protocol.fingerprint)];
    if (session !== null) {
      protocols.push(resumeSubprotocol({ token: session.token, received: session.received, forgotten: session.sent - session.kept.length }));
    }
    // Asks a server that refuses this client to say why with a close code.
    if (this.refusalsByClose) protocols.push(REFUSALS_SUBPROTOCOL);
    this.target = this.targetFor(session !== null);
    try {
      socket = new this.WebSocketClass(this.target, protocols);
    } catch (error) {
      this.failed(new ConnectError(this.target, error instanceof Error ? error.message : String(error)));
      return;
    }
    const attempt: Attempt = { socket, resuming: session !== null, opened: false, welcomed: false, inSnapshot: false, socketError: null, timer: null };
    this.attempt = attempt;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      attempt.opened = true;
    };
    socket.onmessage = (event: { data: unknown }) => {
      if (this.attempt === attempt) this.received(attempt, event.data);
    };
    socket.onerror = (event: unknown) => {
      attempt.socketError = socketErrorMessage(event);
    };
    socket.onclose = (event: { code?: number; reason?: string }) => {
      if (this.attempt === attempt) this.closed(attempt, event.code ?? ABNORMAL_CLOSURE, event.reason ?? "");
    };
    this.watchUpgrade(attempt);
    attempt.timer = setTimeout(() => {
      if (this.attempt !== attempt || attempt.welcomed) return;
      const error = attempt.opened
        ? new HandshakeError(`no welcome within ${this.connectTimeoutMs} ms`)
        : new ConnectError(this.target, `timed out after ${this.connectTimeoutMs} ms`);
      this.abandon(attempt, error);
    }, this.connectTimeoutMs);
  }

  /**
   * Where the WebSocket class shows a refused upgrade's HTTP response (the `ws`
   * package's `unexpected-response` event), reads it ({@link watchRefusal}).
   * Browsers show none of it: there the client asks for refusals as close codes.
   */
  private watchUpgrade(attempt: Attempt): void {
    watchRefusal(attempt.socket, this.protocol.fingerprint, (error) => {
      if (this.attempt === attempt) this.abandon(attempt, error);
    });
  }

  /** Ends an attempt that failed before its welcome, without waiting for its close event. */
  private abandon(attempt: Attempt, error: NodelinkError): void {
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    const { socket } = attempt;
    socket.onopen = noop;
    socket.onmessage = noop;
    // `ws` throws an error event nobody listens to: keep a listener.
    socket.onerror = noop;
    socket.onclose = noop;
    try {
      socket.close(NORMAL_CLOSURE);
    } catch {
      // Already closing.
    }
    if (this.attempt === attempt) {
      this.attempt = null;
      this.failed(error);
    }
  }

  /**
   * Where the next attempt connects: as first asked ({@link url}) until a welcome
   * names the match joined; then, to resume the session, that match by its code
   * (also a server's default match: through a gateway, only the process that holds
   * the match holds the session); and to join afresh, that match by its code for a
   * client that asked for a match (so that a client that created one never creates
   * another), the default match again for one that did not (a server restarted
   * meanwhile has a new one).
   */
  private targetFor(resuming: boolean): string {
    const code = this.returnCode;
    if (code !== null && (resuming || MatchRequest.namesAMatch(this.url))) return MatchRequest.join(code).apply(this.url);
    return this.url;
  }

  /** An attempt failed before the welcome: retry, or give up. */
  private failed(error: NodelinkError): void {
    this.attempt = null;
    if (this.current === "closed") {
      // Closed by `close()` while connecting: nothing to report.
      this.settleClose();
      return;
    }
    if (error instanceof RefusedError && error.refusal === "UnknownMatch" && this.target !== this.url && this.policy !== null) {
      // The match this client came back to by its code is gone (it ended, or its
      // process restarted or died and its lease ran out): the session is over, and
      // the client asks again, at once, as it first did.
      this.returnCode = null;
      const paused = this.session?.paused ?? null;
      this.session = null;
      if (paused !== null) {
        this.mirror.clear();
        this.current = "disconnected";
        this.emit(this.disconnectHandlers, "disconnect", paused);
        if (this.current !== "disconnected") return; // closed by a handler
      }
      this.open();
      return;
    }
    this.report(error);
    if (this.policy !== null && worthRetrying(error) && attemptsLeft(this.policy, this.attempts)) {
      this.retry();
      return;
    }
    this.current = "disconnected";
    // A session waiting to be resumed ends here, for the reason its connection ended.
    const paused = this.session?.paused ?? null;
    this.session = null;
    if (paused !== null) {
      this.mirror.clear();
      this.emit(this.disconnectHandlers, "disconnect", paused);
    }
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  private retry(): void {
    const policy = this.policy!;
    this.attempts += 1;
    const delay = reconnectDelay(policy, this.attempts, this.random());
    this.current = "reconnecting";
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.emit(this.reconnectingHandlers, "reconnecting", this.attempts, delay);
  }

  // -------------------------------------------------------------------------
  // Receiving

  private received(attempt: Attempt, data: unknown): void {
    const bytes = bytesOf(data);
    if (bytes === null) {
      this.report(new DecodeError("message", `expected a binary message, found ${typeof data === "string" ? "text" : typeof data}`));
      return;
    }
    // Every event frame counts, decodable or not: the server counted it as sent.
    const kind = frameKind(bytes);
    if (attempt.welcomed && this.session !== null && kind === FrameKind.Event) this.session.received += 1;
    if (bytes.byteLength > this.maxFrameLength) {
      this.count(attempt, kind, null, bytes.byteLength);
      this.report(new DecodeError("frame", `${bytes.byteLength} bytes, more than the limit of ${this.maxFrameLength}`));
      return;
    }
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(this.protocol, bytes);
      this.count(attempt, kind, frame.kind === "sync" ? frame.sync.flags : null, bytes.byteLength);
    } catch (thrown) {
      this.count(attempt, kind, null, bytes.byteLength);
      const error =
        thrown instanceof DecodeError || thrown instanceof ProtocolMismatchError
          ? thrown
          : new DecodeError("frame", thrown instanceof Error ? thrown.message : String(thrown));
      if (!attempt.welcomed) {
        this.abandon(attempt, error instanceof ProtocolMismatchError ? error : new HandshakeError(error.message));
      } else {
        this.report(error);
      }
      return;
    }
    if (!attempt.welcomed) {
      if (frame.kind !== "welcome") {
        this.abandon(attempt, new HandshakeError(`the first frame was ${frame.kind === "event" ? "an event" : `a ${frame.kind} frame`}, not a welcome`));
        return;
      }
      this.welcomed(attempt, frame.welcome);
      return;
    }
    switch (frame.kind) {
      case "welcome":
        this.report(new HandshakeError("a second welcome"));
        return;
      case "ping": {
        // Answered at once, ahead of queued events, so the round trip is the network's.
        const pong = encodePong(frame.seq);
        this.sent(pong);
        attempt.socket.send(pong);
        if (frame.rttUs > 0) {
          this.latency = frame.rttUs / 1000;
          this.emit(this.latencyHandlers, "latency", this.latency);
        }
        return;
      }
      case "event": {
        const { name, data: payload } = frame.event;
        const set = this.eventHandlers.get(name);
        if (set !== undefined) this.emit(set, name, payload);
        if (this.anyHandlers.size > 0) {
          this.emit(this.anyHandlers, name, { type: name, data: payload } as EventOf<P["toClient"]>);
        }
        return;
      }
      case "sync": {
        const { sync, errors } = this.mirror.apply(frame.sync);
        for (const error of errors) this.report(error);
        this.emit(this.syncHandlers, "state_sync", sync, this.mirror);
        if (sync.snapshotComplete) this.emit(this.snapshotHandlers, "snapshot", this.mirror);
        return;
      }
    }
  }

  /** Counts a received frame by its kind (and, for a decoded sync frame, its flags). */
  private count(attempt: Attempt, kind: number | null, syncFlags: number | null, bytes: number): void {
    const counts = this.counts;
    if (syncFlags !== null) {
      if ((syncFlags & SyncFlag.Full) !== 0 || attempt.inSnapshot) {
        attempt.inSnapshot = (syncFlags & SyncFlag.More) !== 0;
        counts.snapshotFramesReceived += 1;
        counts.snapshotBytesReceived += bytes;
      } else {
        counts.syncFramesReceived += 1;
        counts.syncBytesReceived += bytes;
      }
    } else if (kind === FrameKind.Sync) {
      // Not decoded: counted, not placed in a snapshot.
      counts.syncFramesReceived += 1;
      counts.syncBytesReceived += bytes;
    } else if (kind === FrameKind.Event) {
      counts.eventsReceived += 1;
      counts.eventBytesReceived += bytes;
    } else {
      counts.otherFramesReceived += 1;
      counts.otherBytesReceived += bytes;
    }
  }

  private sent(frame: Uint8Array): void {
    this.counts.framesSent += 1;
    this.counts.bytesSent += frame.byteLength;
  }

  /** A connection was welcomed: resumed, or a new session. */
  private countWelcome(resumed: boolean): void {
    this.connections += 1;
    this.counts.reconnects = this.connections - 1;
    if (resumed) this.counts.resumes += 1;
  }

  private welcomed(attempt: Attempt, welcome: Welcome): void {
    if (welcome.fingerprint !== this.protocol.fingerprint) {
      this.abandon(attempt, new ProtocolMismatchError(this.protocol.fingerprint, welcome.fingerprint, WIRE_VERSION));
      return;
    }
    const session = this.session;
    if (attempt.resuming && session !== null && welcome.resumeToken !== null && welcome.resumed !== null) {
      this.resumed(attempt, welcome, session, welcome.resumeToken, welcome.resumed);
      return;
    }
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    attempt.welcomed = true;
    this.attempts = 0;
    this.current = "open";
    this.countWelcome(false);
    if (session?.paused) {
      // A server without sessions started a new one: the old one is over.
      this.session = null;
      this.mirror.clear();
      this.emit(this.disconnectHandlers, "disconnect", session.paused);
    }
    this.session = welcome.resumeToken === null ? null : { token: welcome.resumeToken, received: 0, sent: 0, kept: [], paused: null };
    this.mirror.clear();
    this.aimAt(welcome);
    const info: ConnectInfo = { id: welcome.id, netId: welcome.netId, tickRate: welcome.tickRate, fingerprint: welcome.fingerprint, settings: welcome.settings, resumed: false };
    this.welcome = info;
    this.flush(attempt.socket);
    const pending = this.pending;
    this.pending = null;
    this.emit(this.connectHandlers, "connect", info);
    pending?.resolve(info);
  }

  /** After a welcome: the match it names is the one to come back to ({@link targetFor}). */
  private aimAt(welcome: Welcome): void {
    this.returnCode = welcome.settings.matchCode;
  }

  /** The server resumed the session, having received `serverReceived` of this client's frames. */
  private resumed(attempt: Attempt, welcome: Welcome, session: Session, token: string, serverReceived: number): void {
    const forgotten = session.sent - session.kept.length;
    if (serverReceived > session.sent || serverReceived < forgotten) {
      // Never from a server that read the offer (it refuses a resume that would
      // leave a gap): end the session rather than lose events, and join afresh.
      const paused = session.paused;
      this.session = null;
      if (paused !== null) {
        this.mirror.clear();
        this.emit(this.disconnectHandlers, "disconnect", paused);
      }
      const gap = `the server resumed the session after ${serverReceived} of this client's events, but it sent ${session.sent} and keeps those after ${forgotten}`;
      this.abandon(attempt, new HandshakeError(gap));
      return;
    }
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    attempt.welcomed = true;
    this.attempts = 0;
    this.current = "open";
    this.countWelcome(true);
    session.token = token;
    session.paused = null;
    this.aimAt(welcome);
    // The mirror is kept: the missed events follow, then a snapshot replaces it.
    const info: ConnectInfo = { id: welcome.id, netId: welcome.netId, tickRate: welcome.tickRate, fingerprint: welcome.fingerprint, settings: welcome.settings, resumed: true };
    this.welcome = info;
    // What the server never read goes first, in its order, then what was queued.
    for (const frame of session.kept.slice(serverReceived - forgotten)) {
      this.sent(frame);
      attempt.socket.send(frame);
    }
    this.flush(attempt.socket);
    const pending = this.pending;
    this.pending = null;
    this.emit(this.resumeHandlers, "resume", info);
    pending?.resolve(info);
  }

  private closed(attempt: Attempt, code: number, reason: string): void {
    if (attempt.timer !== null) clearTimeout(attempt.timer);
    this.attempt = null;
    const refusal = attempt.welcomed || this.current === "closed" ? null : refusalOf(code);
    if (refusal !== null) {
      // Refused, and told with a close code (PROTOCOL.md, "Refusals a browser can read").
      if (refusal.name === "ProtocolMismatch" || refusal.name === "WireVersion") {
        const server = serverFingerprintIn(reason);
        this.failed(new ProtocolMismatchError(this.protocol.fingerprint, server.fingerprint, WIRE_VERSION, server.wireVersion));
      } else {
        this.failed(new RefusedError(refusal.status, reason, refusal.name));
      }
      return;
    }
    if (!attempt.welcomed && attempt.resuming && attempt.opened && code !== ABNORMAL_CLOSURE && this.current !== "closed") {
      this.refused(code, reason);
      return;
    }
    if (!attempt.welcomed) {
      const how =
        attempt.socketError !== null
          ? attempt.socketError
          : code === ABNORMAL_CLOSURE
            ? "the connection was refused or dropped"
            : `closed by the server (${code}${reason ? `: ${reason}` : ""})`;
      this.failed(new ConnectError(this.target, how));
      return;
    }
    const local = this.current === "closed";
    const info: DisconnectInfo = local
      ? { kind: "local" }
      : code === ABNORMAL_CLOSURE
        ? { kind: "lost", code, reason: attempt.socketError ?? (reason || "the connection was lost") }
        : { kind: "closed", code, reason, closeReason: closeReasonOf(code) };
    if (code === CloseCode.GameProcessLost) {
      // The match died with its process: ask again as first asked (create or find
      // anew), never for the dead match's code.
      this.returnCode = null;
    }
    const session = this.session;
    if (!local && session !== null && this.policy?.resume && resumable(info) && attemptsLeft(this.policy, this.attempts)) {
      session.paused = info;
      this.current = "disconnected";
      this.emit(this.pauseHandlers, "pause", info);
      if (this.current === "disconnected") this.retry();
      return;
    }
    this.session = null;
    this.mirror.clear();
    if (!local) this.current = "disconnected";
    this.emit(this.disconnectHandlers, "disconnect", info);
    if (local) {
      this.settleClose();
      return;
    }
    if (this.policy !== null && worthReconnecting(info) && attemptsLeft(this.policy, this.attempts) && this.current === "disconnected") {
      this.retry();
    }
  }

  /**
   * The server refused to resume the session, closing the connection before its
   * welcome: the session is over. The client says why, then joins afresh at once
   * (the server answered: no reason to wait), unless told not to come back.
   */
  private refused(code: number, reason: string): void {
    const info: DisconnectInfo = { kind: "closed", code, reason, closeReason: closeReasonOf(code) };
    this.session = null;
    this.mirror.clear();
    this.current = "disconnected";
    this.emit(this.disconnectHandlers, "disconnect", info);
    if (this.current !== "disconnected") return; // closed by a handler
    if (worthReconnecting(info)) {
      this.open();
      return;
    }
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new ConnectError(this.target, `closed by the server (${code}${reason ? `: ${reason}` : ""})`));
  }

  // -------------------------------------------------------------------------
  // Closing

  /**
   * Closes the connection with code 1000 and stops for good: no reconnection,
   * nothing more sent. Resolves when the connection has ended. Events still in the
   * queue are dropped.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((yes) => {
      resolve = yes;
    });
    this.closing = { promise, resolve };
    this.current = "closed";
    this.session = null;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.queue.clear();
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new StoppedError());
    const attempt = this.attempt;
    if (attempt === null) {
      this.settleClose();
    } else if (!attempt.welcomed) {
      this.abandon(attempt, new StoppedError());
    } else {
      try {
        attempt.socket.close(NORMAL_CLOSURE);
      } catch {
        this.closed(attempt, NORMAL_CLOSURE, "");
      }
    }
    return promise;
  }

  private settleClose(): void {
    this.closing?.resolve();
  }
}

/** `url` checked to be a `ws://` or `wss://` URL, normalised. */
function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UrlError(url, "not a URL");
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new UrlError(url, `the scheme is ${parsed.protocol.replace(/:$/, "")}, expected ws or wss`);
  }
  return parsed.href;
}

/** The WebSocket class to use: the one given, or the platform's. */
function webSocketClass(url: string, given: WebSocketConstructor | undefined): WebSocketConstructor {
  const found = given ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (found === undefined) {
    throw new ConnectError(url, "no WebSocket class: pass one as the `WebSocket` option (in Node 20, the `ws` package's)");
  }
  return found;
}

/**
 * Whether to offer {@link REFUSALS_SUBPROTOCOL}: the `ws` package's WebSocket, an
 * EventEmitter, shows a refused upgrade's response (`unexpected-response`);
 * browsers' and Node 22's own do not.
 */
function refusalsByClose(WebSocketClass: WebSocketConstructor): boolean {
  return typeof (WebSocketClass as { prototype?: { on?: unknown } }).prototype?.on !== "function";
}

/**
 * Where the WebSocket shows a refused upgrade's HTTP response (the `ws` package's
 * `unexpected-response` event), reads its status, body and headers, and passes
 * `refused` the error: a {@link ProtocolMismatchError} when the response names the
 * server's fingerprint, else a {@link RefusedError} whose kind is the
 * `x-nodelink-refusal` header's.
 */
function watchRefusal(socket: WebSocketLike, fingerprint: string, refused: (error: NodelinkError) => void): void {
  const emitter = socket as unknown as { on?: (event: string, listener: (...args: any[]) => void) => unknown };
  if (typeof emitter.on !== "function") return;
  emitter.on("unexpected-response", (request: { destroy?: () => void }, response: NodeResponse) => {
    const status = response.statusCode ?? 0;
    const header = response.headers?.["x-nodelink-fingerprint"];
    const server = typeof header === "string" && /^[0-9a-f]{16}$/i.test(header) ? header.toLowerCase() : null;
    const named = response.headers?.[REFUSAL_HEADER];
    const refusal = typeof named === "string" && /^[0-9]+$/.test(named.trim()) ? refusalOf(Number(named)) : null;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const body = new TextDecoder().decode(concat(chunks)).trim();
      request.destroy?.();
      refused(
        server !== null
          ? new ProtocolMismatchError(fingerprint, server, WIRE_VERSION)
          : new RefusedError(status, body, refusal?.name ?? null),
      );
    };
    response.on?.("data", (chunk: Uint8Array) => {
      if (size < 4096) chunks.push(chunk);
      size += chunk.byteLength;
    });
    response.on?.("end", done);
    response.on?.("error", done);
    if (typeof response.on !== "function") done();
  });
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
export function listMatches<Metadata = unknown>(schema: ProtocolSchema, url: string, options: ListOptions = {}): Promise<MatchListing<Metadata>[]> {
  let protocol: CompiledProtocol;
  let href: string;
  let WebSocketClass: WebSocketConstructor;
  try {
    protocol = compileProtocol(schema);
    const kind = protocol.schema.kind;
    if (kind === undefined) {
      throw new SchemaError("$.kind", "missing: this schema was printed by a nodelink without matches; print it again to list matches");
    }
    href = checkUrl(MatchRequest.list(kind).apply(url));
    WebSocketClass = webSocketClass(href, options.WebSocket);
  } catch (error) {
    return Promise.reject(error);
  }
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const maxFrameLength = options.maxFrameLength ?? 16 * 1024 * 1024;
  const protocols = [subprotocol(protocol.fingerprint)];
  if (refusalsByClose(WebSocketClass)) protocols.push(REFUSALS_SUBPROTOCOL);
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = new WebSocketClass(href, protocols);
    } catch (error) {
      reject(new ConnectError(href, error instanceof Error ? error.message : String(error)));
      return;
    }
    let socketError: string | null = null;
    let settled = false;
    const finish = (outcome: { listings: MatchListing<Metadata>[] } | { error: NodelinkError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.onmessage = noop;
      socket.onclose = noop;
      // `ws` throws an error event nobody listens to: keep a listener.
      socket.onerror = noop;
      try {
        socket.close(NORMAL_CLOSURE);
      } catch {
        // Already closing.
      }
      if ("error" in outcome) reject(outcome.error);
      else resolve(outcome.listings);
    };
    const timer = setTimeout(() => finish({ error: new ConnectError(href, `no listing within ${timeoutMs} ms`) }), timeoutMs);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event: { data: unknown }) => {
      const bytes = bytesOf(event.data);
      if (bytes === null) {
        finish({ error: new DecodeError("listing", `expected a binary message, found ${typeof event.data === "string" ? "text" : typeof event.data}`) });
      } else if (bytes.byteLength > maxFrameLength) {
        finish({ error: new DecodeError("listing", `${bytes.byteLength} bytes, more than the limit of ${maxFrameLength}`) });
      } else {
        try {
          finish({ listings: decodeListing(protocol, bytes) as MatchListing<Metadata>[] });
        } catch (error) {
          finish({ error: error instanceof DecodeError ? error : new DecodeError("listing", String(error)) });
        }
      }
    };
    socket.onerror = (event: unknown) => {
      socketError = socketErrorMessage(event);
    };
    socket.onclose = (event: { code?: number; reason?: string }) => {
      const code = event.code ?? ABNORMAL_CLOSURE;
      const reason = event.reason ?? "";
      const refusal = refusalOf(code);
      if (refusal?.name === "ProtocolMismatch" || refusal?.name === "WireVersion") {
        const server = serverFingerprintIn(reason);
        finish({ error: new ProtocolMismatchError(protocol.fingerprint, server.fingerprint, WIRE_VERSION, server.wireVersion) });
      } else if (refusal !== null) {
        finish({ error: new RefusedError(refusal.status, reason, refusal.name) });
      } else {
        const how = socketError ?? (code === ABNORMAL_CLOSURE ? "the connection was refused or dropped" : `closed by the server before a listing (${code}${reason ? `: ${reason}` : ""})`);
        finish({ error: new ConnectError(href, how) });
      }
    };
    watchRefusal(socket, protocol.fingerprint, (error) => finish({ error }));
  });
}

/** What the `ws` package's `unexpected-response` event gives of the HTTP response. */
interface NodeResponse {
  statusCode?: number;
  headers?: Record<string, string | string[] | undefined>;
  on?: (event: string, listener: (...args: any[]) => void) => unknown;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
