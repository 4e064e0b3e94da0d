/** Why a connection was closed or refused: the close codes of PROTOCOL.md. */

/** nodelink's close codes, by name: a server's (4000–4011), a relay's (4100–4104) and a gateway's (4105). */
export const CloseCode = {
  /** The server removed the player (`kick`). The client does not reconnect. */
  Kicked: 4000,
  /** The server is stopping. */
  ServerShutdown: 4001,
  /** The client's protocol or wire version differs. The client does not reconnect. */
  ProtocolMismatch: 4002,
  /** The client sent undecodable frames past the server's limit. */
  InvalidFrames: 4003,
  /** The client did not read its frames fast enough. */
  SlowConsumer: 4004,
  /** The client sent events faster than the server's rate limit. */
  RateLimited: 4005,
  /** Nothing was heard from the client in time. */
  IdleTimeout: 4006,
  /** The server holds its maximum number of players. */
  ServerFull: 4007,
  /** A resume named no session the server holds (unknown, used, or its grace period over). The client joins afresh. */
  SessionExpired: 4008,
  /** A resume would leave a gap: missed events are no longer held. The session is over; the client joins afresh. */
  MissedEvents: 4009,
  /** A newer connection resumed this connection's session. */
  Replaced: 4010,
  /**
   * The player's match ended: its game ended it, or it ended as the player joined.
   * The player is gone and its match with it: the client does not reconnect (it may
   * find or create another match).
   */
  MatchEnded: 4011,
  /** From a relay: the game ended, its host left for good. Its code is gone: the client does not reconnect. */
  HostGone: 4100,
  /** From a relay: the host's connection for this player was lost. The host holds the player: the client resumes. */
  HostConnectionLost: 4101,
  /** From a relay, to a host's connection: its player's connection was lost. */
  PlayerConnectionLost: 4102,
  /** From a relay: it is shutting down, and its games with it. The client does not reconnect. */
  RelayShutdown: 4103,
  /** From a relay, to a host's control link: a newer link reclaimed the game. */
  LinkReplaced: 4104,
  /**
   * From a gateway: its connection to the game process that held the player's match
   * was lost (the process was killed, or cut off). The match is gone with it, so the
   * session cannot be resumed: the client reconnects with its original request (a
   * new `create`, the same `find`, the default match, or its `join` by code, which
   * is refused with `UnknownMatch` if that match was on the lost process).
   */
  GameProcessLost: 4105,
} as const;

/** The name of one of nodelink's close codes. */
export type CloseReasonName = keyof typeof CloseCode;

const DESCRIPTIONS: Record<CloseReasonName, string> = {
  Kicked: "kicked by the server",
  ServerShutdown: "server shutting down",
  ProtocolMismatch: "protocol mismatch",
  InvalidFrames: "too many invalid frames",
  SlowConsumer: "not reading fast enough",
  RateLimited: "sending too fast",
  IdleTimeout: "idle timeout",
  ServerFull: "server full",
  SessionExpired: "session expired",
  MissedEvents: "missed events no longer held",
  Replaced: "session resumed elsewhere",
  MatchEnded: "match ended",
  HostGone: "host gone",
  HostConnectionLost: "host connection lost",
  PlayerConnectionLost: "player connection lost",
  RelayShutdown: "relay shutting down",
  LinkReplaced: "replaced by a new link",
  GameProcessLost: "game process lost",
};

/** One of nodelink's close reasons. */
export interface CloseReason {
  readonly name: CloseReasonName;
  readonly code: number;
  /** The short lowercase sentence the server sends as the close text. */
  readonly description: string;
}

/** nodelink's reason for a close code, or `null` for a code that is not one of its own. */
export function closeReasonOf(code: number): CloseReason | null {
  for (const [name, value] of Object.entries(CloseCode) as [CloseReasonName, number][]) {
    if (value === code) return { name, code, description: DESCRIPTIONS[name] };
  }
  return null;
}

/**
 * The subprotocol a client offers, beside its own, to be refused with a close code
 * rather than an HTTP response its `WebSocket` cannot read (PROTOCOL.md, "Refusals a
 * browser can read").
 */
export const REFUSALS_SUBPROTOCOL = "nodelink.refusals";

/**
 * The close codes of a refused connection, by the kind of refusal: what a server
 * closes with right after the upgrade when the client offered {@link REFUSALS_SUBPROTOCOL}.
 */
export const RefusalCode = {
  /** Too many connections from the client's address (HTTP 429). Worth retrying later. */
  TooManyConnections: 4200,
  /** The page's origin is not on the server's allow-list (HTTP 403). */
  OriginNotAllowed: 4201,
  /** The client was built from another protocol: the reason names both fingerprints (HTTP 400). */
  ProtocolMismatch: 4202,
  /** The client speaks another wire version (HTTP 400). */
  WireVersion: 4203,
  /** The server does not serve this client's wire (configured native-only or JSON-only; HTTP 400). */
  WireNotServed: 4204,
  /** The server is full (HTTP 503). Worth retrying later. */
  ServerFull: 4205,
  /** The authentication hook did not know the client (HTTP 401). */
  Unauthorized: 4206,
  /** The authentication hook does not allow the client (HTTP 403). */
  Forbidden: 4207,
  /** The offer to resume a session was malformed (HTTP 400). */
  MalformedResume: 4208,
  /** The request's matchmaking parameters are malformed: an unknown `match`, a `create` without `kind`, options that are not base64url (HTTP 400). */
  BadMatchRequest: 4209,
  /** The server hosts no kind of match by the name asked for (HTTP 404). */
  UnknownKind: 4210,
  /** No live match has the code asked for: mistyped, or the match has ended (HTTP 404). */
  UnknownMatch: 4211,
  /** The match asked for holds its maximum of players (HTTP 409). Worth retrying later. */
  MatchFull: 4212,
  /** The match asked for takes no new players: its game locked it (HTTP 409). */
  MatchLocked: 4213,
  /** The options sent to create or find a match do not decode as the kind's options (HTTP 400); the reason says where. */
  BadOptions: 4214,
  /** The kind makes no new matches on request: it hosts its server's one match, and has no game factory (HTTP 403). */
  CannotCreate: 4215,
  /**
   * From a gateway: the service's directory, where it looks up which game process
   * takes the request, cannot be read now (HTTP 503). Worth retrying later; players
   * already connected are not affected.
   */
  DirectoryUnavailable: 4216,
  /**
   * From a gateway: the game process its directory names for the request does not
   * answer (it died within its lease, or did not answer in time) (HTTP 503). Worth
   * retrying later.
   */
  ProcessUnavailable: 4217,
} as const;

/** The kind of a refusal told with a close code. */
export type RefusalName = keyof typeof RefusalCode;

const REFUSAL_STATUS: Record<RefusalName, number> = {
  TooManyConnections: 429,
  OriginNotAllowed: 403,
  ProtocolMismatch: 400,
  WireVersion: 400,
  WireNotServed: 400,
  ServerFull: 503,
  Unauthorized: 401,
  Forbidden: 403,
  MalformedResume: 400,
  BadMatchRequest: 400,
  UnknownKind: 404,
  UnknownMatch: 404,
  MatchFull: 409,
  MatchLocked: 409,
  BadOptions: 400,
  CannotCreate: 403,
  DirectoryUnavailable: 503,
  ProcessUnavailable: 503,
};

/** The refusals after which the same request may succeed later: the server or the match was too busy, a gateway's directory away, or the game process it names. */
const RETRYABLE: ReadonlySet<RefusalName> = new Set(["TooManyConnections", "ServerFull", "MatchFull", "DirectoryUnavailable", "ProcessUnavailable"]);

/**
 * A refusal told with a close code (or named by an HTTP refusal's
 * `x-nodelink-refusal` header): its kind, and the HTTP status the same refusal
 * has as a response.
 */
export interface Refusal {
  readonly name: RefusalName;
  readonly code: number;
  readonly status: number;
  /** Whether the same request may be let in later (too many connections, a full server or match, a gateway's directory away). */
  readonly retryable: boolean;
}

/** The refusal with this close code, or `null` for a code that is not one. */
export function refusalOf(code: number): Refusal | null {
  for (const [name, value] of Object.entries(RefusalCode) as [RefusalName, number][]) {
    if (value === code) return { name, code, status: REFUSAL_STATUS[name], retryable: RETRYABLE.has(name) };
  }
  return null;
}

/**
 * The header of an HTTP refusal that names its kind by its close code
 * (`x-nodelink-refusal: 4212`), so that a client that reads HTTP responses tells
 * apart refusals of one status (a full match from a locked one).
 */
export const REFUSAL_HEADER = "x-nodelink-refusal";
