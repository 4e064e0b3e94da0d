/**
 * Everything that can go wrong, as classes: catch them with `instanceof`, or switch
 * on `kind` (a discriminated union over {@link ClientError}).
 */

import { RefusalCode, type RefusalName, refusalOf } from "./close.js";

/**
 * The base of every error nodelink-client throws or reports. Each class sets its
 * `name` to its own name as a string, so that it survives minification (a bundler
 * may rename the class itself).
 */
export abstract class NodelinkError extends Error {
  /** Which error this is, for `switch` statements. */
  abstract readonly kind: string;
  /** The class's name (`"RefusedError"`), also in a minified bundle. */
  abstract override readonly name: string;
}

/** A schema that is not a nodelink protocol schema; `path` names the offending part. */
export class SchemaError extends NodelinkError {
  override readonly name = "SchemaError";
  readonly kind = "schema";
  constructor(
    /** Where in the schema, as a JSON path (`$.to_server.events[0].fields[1].type`). */
    readonly path: string,
    /** What is wrong there. */
    readonly reason: string,
  ) {
    super(`invalid schema at ${path}: ${reason}`);
  }
}

/** A value that does not fit its schema type, found while encoding an event. */
export class EncodeError extends NodelinkError {
  override readonly name = "EncodeError";
  readonly kind = "encode";
  constructor(
    /** What was being encoded and where inside it (`event \`move\`: field \`x\``). */
    readonly where: string,
    /** What is wrong. */
    readonly reason: string,
  ) {
    super(`cannot encode ${where}: ${reason}`);
  }
}

/** A frame from the server that could not be decoded. It was skipped. */
export class DecodeError extends NodelinkError {
  override readonly name = "DecodeError";
  readonly kind = "decode";
  constructor(
    /** What was being decoded and where inside it (`event \`chat\`: field \`msg\``). */
    readonly where: string,
    /** What is wrong. */
    readonly reason: string,
  ) {
    super(`cannot decode ${where}: ${reason}`);
  }
}

/**
 * A sync frame's player entry named a net id that no `joined` entry announced on
 * this connection. The entry was ignored; the rest of the frame was applied.
 */
export class UnknownNetIdError extends NodelinkError {
  override readonly name = "UnknownNetIdError";
  readonly kind = "unknown_net_id";
  constructor(
    /** The net id. */
    readonly netId: number,
  ) {
    super(`sync frame: changes for unknown net id ${netId}`);
  }
}

/** The server URL is not a `ws://` or `wss://` URL. */
export class UrlError extends NodelinkError {
  override readonly name = "UrlError";
  readonly kind = "url";
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`invalid server url \`${url}\`: ${reason}`);
  }
}

/** The connection could not be opened, or failed before the welcome. */
export class ConnectError extends NodelinkError {
  override readonly name = "ConnectError";
  readonly kind = "connect";
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot connect to ${url}: ${reason}`);
  }
}

/**
 * The server refused the connection: 401/403 from its authentication or origin
 * check, 429 too many connections, 503 full, 400 for a malformed request; and
 * for a match asked for, 404 for an unknown kind or code, 409 for a full or
 * locked match, 400 for bad options, 403 for a kind that makes no new matches;
 * from a gateway, 503 when its directory cannot be read (`DirectoryUnavailable`)
 * or the game process it names does not answer (`ProcessUnavailable`).
 * Where the WebSocket shows the HTTP response (Node's `ws`), from its status,
 * body and `x-nodelink-refusal` header; elsewhere (browsers), from the close code
 * the server sends a client that offers {@link REFUSALS_SUBPROTOCOL} (PROTOCOL.md,
 * "Refusals a browser can read"). Either way `refusal` names the kind. A refusal
 * with another protocol is a {@link ProtocolMismatchError} instead.
 *
 * ```ts
 * try {
 *   await Client.join(url, code).connect();
 * } catch (error) {
 *   if (error instanceof RefusedError && error.refusal === "UnknownMatch") showNoSuchMatch(code);
 * }
 * ```
 */
export class RefusedError extends NodelinkError {
  override readonly name = "RefusedError";
  readonly kind = "refused";
  constructor(
    /** The HTTP status (for a refusal told with a close code, its kind's status). */
    readonly status: number,
    /** The server's reason: the response body, or the close frame's text. */
    readonly reason: string,
    /**
     * The refusal's kind (`"OriginNotAllowed"`, `"Unauthorized"`, `"ServerFull"`,
     * `"MatchFull"`, …) when the server named it: with a close code, or with an HTTP
     * response's `x-nodelink-refusal` header; `null` from a server that did not.
     */
    readonly refusal: RefusalName | null = null,
  ) {
    super(
      refusal === null
        ? `refused by the server: HTTP ${status}${reason ? `: ${reason}` : ""}`
        : `refused by the server (${refusal}): ${reason}`,
    );
  }

  /**
   * Whether the same request may be let in later: too many connections (429), a
   * full server (503), a full match (409 `MatchFull`) or a gateway whose directory
   * or game process is away (503 `DirectoryUnavailable`, `ProcessUnavailable`).
   * The client retries only these.
   */
  get retryable(): boolean {
    if (this.refusal !== null) return refusalOf(RefusalCode[this.refusal])?.retryable ?? false;
    return this.status === 429 || this.status === 503;
  }
}

/**
 * The server speaks another protocol: a different fingerprint (another build of the
 * game's protocol) or another wire version. The client does not go on, and does not
 * reconnect.
 */
export class ProtocolMismatchError extends NodelinkError {
  override readonly name = "ProtocolMismatchError";
  readonly kind = "protocol_mismatch";
  constructor(
    /** This client's protocol fingerprint, 16 hex digits. */
    readonly client: string,
    /** The server's, when it said (`null` when it did not). */
    readonly server: string | null,
    /** This client's wire version. */
    readonly clientWireVersion: number,
    /** The server's wire version, when it differs and is known. */
    readonly serverWireVersion: number | null = null,
  ) {
    super(
      serverWireVersion !== null && serverWireVersion !== clientWireVersion
        ? `protocol mismatch: this client speaks wire version ${clientWireVersion}, the server ${serverWireVersion}`
        : `protocol mismatch: this client's fingerprint is ${client}, the server's is ${server ?? "unknown"}`,
    );
  }
}

/** The connection opened but the server's first frame was not a valid welcome. */
export class HandshakeError extends NodelinkError {
  override readonly name = "HandshakeError";
  readonly kind = "handshake";
  constructor(readonly reason: string) {
    super(`handshake failed: ${reason}`);
  }
}

/** The send queue is full: the event was not queued. */
export class QueueFullError extends NodelinkError {
  override readonly name = "QueueFullError";
  readonly kind = "queue_full";
  constructor(
    /** The queue's capacity, in frames. */
    readonly capacity: number,
  ) {
    super(`send queue is full (${capacity} frames)`);
  }
}

/** The client was closed with `close()`: nothing more can be sent or connected. */
export class StoppedError extends NodelinkError {
  override readonly name = "StoppedError";
  readonly kind = "stopped";
  constructor() {
    super("the client has been closed");
  }
}

/** A handler registered on the client threw; the connection goes on. */
export class HandlerError extends NodelinkError {
  override readonly name = "HandlerError";
  readonly kind = "handler";
  constructor(
    /** Which handler: an event's wire name, or `connect`, `state_sync`… */
    readonly handler: string,
    /** What it threw. */
    override readonly cause: unknown,
  ) {
    super(`${handler} handler threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Every error the client reports to `onError` or throws. */
export type ClientError =
  | SchemaError
  | EncodeError
  | DecodeError
  | UnknownNetIdError
  | UrlError
  | ConnectError
  | RefusedError
  | ProtocolMismatchError
  | HandshakeError
  | QueueFullError
  | StoppedError
  | HandlerError;
