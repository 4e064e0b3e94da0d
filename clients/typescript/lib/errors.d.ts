/**
 * Everything that can go wrong, as classes: catch them with `instanceof`, or switch
 * on `kind` (a discriminated union over {@link ClientError}).
 */
import { type RefusalName } from "./close.js";
/**
 * The base of every error nodelink-client throws or reports. Each class sets its
 * `name` to its own name as a string, so that it survives minification (a bundler
 * may rename the class itself).
 */
export declare abstract class NodelinkError extends Error {
    /** Which error this is, for `switch` statements. */
    abstract readonly kind: string;
    /** The class's name (`"RefusedError"`), also in a minified bundle. */
    abstract readonly name: string;
}
/** A schema that is not a nodelink protocol schema; `path` names the offending part. */
export declare class SchemaError extends NodelinkError {
    /** Where in the schema, as a JSON path (`$.to_server.events[0].fields[1].type`). */
    readonly path: string;
    /** What is wrong there. */
    readonly reason: string;
    readonly name = "SchemaError";
    readonly kind = "schema";
    constructor(
    /** Where in the schema, as a JSON path (`$.to_server.events[0].fields[1].type`). */
    path: string, 
    /** What is wrong there. */
    reason: string);
}
/** A value that does not fit its schema type, found while encoding an event. */
export declare class EncodeError extends NodelinkError {
    /** What was being encoded and where inside it (`event \`move\`: field \`x\``). */
    readonly where: string;
    /** What is wrong. */
    readonly reason: string;
    readonly name = "EncodeError";
    readonly kind = "encode";
    constructor(
    /** What was being encoded and where inside it (`event \`move\`: field \`x\``). */
    where: string, 
    /** What is wrong. */
    reason: string);
}
/** A frame from the server that could not be decoded. It was skipped. */
export declare class DecodeError extends NodelinkError {
    /** What was being decoded and where inside it (`event \`chat\`: field \`msg\``). */
    readonly where: string;
    /** What is wrong. */
    readonly reason: string;
    readonly name = "DecodeError";
    readonly kind = "decode";
    constructor(
    /** What was being decoded and where inside it (`event \`chat\`: field \`msg\``). */
    where: string, 
    /** What is wrong. */
    reason: string);
}
/**
 * A sync frame's player entry named a net id that no `joined` entry announced on
 * this connection. The entry was ignored; the rest of the frame was applied.
 */
export declare class UnknownNetIdError extends NodelinkError {
    /** The net id. */
    readonly netId: number;
    readonly name = "UnknownNetIdError";
    readonly kind = "unknown_net_id";
    constructor(
    /** The net id. */
    netId: number);
}
/** The server URL is not a `ws://` or `wss://` URL. */
export declare class UrlError extends NodelinkError {
    readonly url: string;
    readonly reason: string;
    readonly name = "UrlError";
    readonly kind = "url";
    constructor(url: string, reason: string);
}
/** The connection could not be opened, or failed before the welcome. */
export declare class ConnectError extends NodelinkError {
    readonly url: string;
    readonly reason: string;
    readonly name = "ConnectError";
    readonly kind = "connect";
    constructor(url: string, reason: string);
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
export declare class RefusedError extends NodelinkError {
    /** The HTTP status (for a refusal told with a close code, its kind's status). */
    readonly status: number;
    /** The server's reason: the response body, or the close frame's text. */
    readonly reason: string;
    /**
     * The refusal's kind (`"OriginNotAllowed"`, `"Unauthorized"`, `"ServerFull"`,
     * `"MatchFull"`, …) when the server named it: with a close code, or with an HTTP
     * response's `x-nodelink-refusal` header; `null` from a server that did not.
     */
    readonly refusal: RefusalName | null;
    readonly name = "RefusedError";
    readonly kind = "refused";
    constructor(
    /** The HTTP status (for a refusal told with a close code, its kind's status). */
    status: number, 
    /** The server's reason: the response body, or the close frame's text. */
    reason: string, 
    /**
     * The refusal's kind (`"OriginNotAllowed"`, `"Unauthorized"`, `"ServerFull"`,
     * `"MatchFull"`, …) when the server named it: with a close code, or with an HTTP
     * response's `x-nodelink-refusal` header; `null` from a server that did not.
     */
    refusal?: RefusalName | null);
    /**
     * Whether the same request may be let in later: too many connections (429), a
     * full server (503), a full match (409 `MatchFull`) or a gateway whose directory
     * or game process is away (503 `DirectoryUnavailable`, `ProcessUnavailable`).
     * The client retries only these.
     */
    get retryable(): boolean;
}
/**
 * The server speaks another protocol: a different fingerprint (another build of the
 * game's protocol) or another wire version. The client does not go on, and does not
 * reconnect.
 */
export declare class ProtocolMismatchError extends NodelinkError {
    /** This client's protocol fingerprint, 16 hex digits. */
    readonly client: string;
    /** The server's, when it said (`null` when it did not). */
    readonly server: string | null;
    /** This client's wire version. */
    readonly clientWireVersion: number;
    /** The server's wire version, when it differs and is known. */
    readonly serverWireVersion: number | null;
    readonly name = "ProtocolMismatchError";
    readonly kind = "protocol_mismatch";
    constructor(
    /** This client's protocol fingerprint, 16 hex digits. */
    client: string, 
    /** The server's, when it said (`null` when it did not). */
    server: string | null, 
    /** This client's wire version. */
    clientWireVersion: number, 
    /** The server's wire version, when it differs and is known. */
    serverWireVersion?: number | null);
}
/** The connection opened but the server's first frame was not a valid welcome. */
export declare class HandshakeError extends NodelinkError {
    readonly reason: string;
    readonly name = "HandshakeError";
    readonly kind = "handshake";
    constructor(reason: string);
}
/** The send queue is full: the event was not queued. */
export declare class QueueFullError extends NodelinkError {
    /** The queue's capacity, in frames. */
    readonly capacity: number;
    readonly name = "QueueFullError";
    readonly kind = "queue_full";
    constructor(
    /** The queue's capacity, in frames. */
    capacity: number);
}
/** The client was closed with `close()`: nothing more can be sent or connected. */
export declare class StoppedError extends NodelinkError {
    readonly name = "StoppedError";
    readonly kind = "stopped";
    constructor();
}
/** A handler registered on the client threw; the connection goes on. */
export declare class HandlerError extends NodelinkError {
    /** Which handler: an event's wire name, or `connect`, `state_sync`… */
    readonly handler: string;
    /** What it threw. */
    readonly cause: unknown;
    readonly name = "HandlerError";
    readonly kind = "handler";
    constructor(
    /** Which handler: an event's wire name, or `connect`, `state_sync`… */
    handler: string, 
    /** What it threw. */
    cause: unknown);
}
/** Every error the client reports to `onError` or throws. */
export type ClientError = SchemaError | EncodeError | DecodeError | UnknownNetIdError | UrlError | ConnectError | RefusedError | ProtocolMismatchError | HandshakeError | QueueFullError | StoppedError | HandlerError;
