/** Why the server closed a connection: the close codes of PROTOCOL.md. */

/** nodelink's close codes, by name. */
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
