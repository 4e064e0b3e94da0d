/** Why a connection was closed or refused: the close codes of PROTOCOL.md. */

/** nodelink's close codes, by name: a server's (4000–4010) and a relay's (4100–4104). */
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
  HostGone: "host gone",
  HostConnectionLost: "host connection lost",
  PlayerConnectionLost: "player connection lost",
  RelayShutdown: "relay shutting down",
  LinkReplaced: "replaced by a new link",
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
};

/** A refusal told with a close code: its kind, and the HTTP status the same refusal has as a response. */
export interface Refusal {
  readonly name: RefusalName;
  readonly code: number;
  readonly status: number;
}

/** The refusal with this close code, or `null` for a code that is not one. */
export function refusalOf(code: number): Refusal | null {
  for (const [name, value] of Object.entries(RefusalCode) as [RefusalName, number][]) {
    if (value === code) return { name, code, status: REFUSAL_STATUS[name] };
  }
  return null;
}
