/** Why a connection was closed or refused: the close codes of PROTOCOL.md. */
/** nodelink's close codes, by name: a server's (4000–4011), a relay's (4100–4104) and a gateway's (4105). */
export declare const CloseCode: {
    /** The server removed the player (`kick`). The client does not reconnect. */
    readonly Kicked: 4000;
    /** The server is stopping. */
    readonly ServerShutdown: 4001;
    /** The client's protocol or wire version differs. The client does not reconnect. */
    readonly ProtocolMismatch: 4002;
    /** The client sent undecodable frames past the server's limit. */
    readonly InvalidFrames: 4003;
    /** The client did not read its frames fast enough. */
    readonly SlowConsumer: 4004;
    /** The client sent events faster than the server's rate limit. */
    readonly RateLimited: 4005;
    /** Nothing was heard from the client in time. */
    readonly IdleTimeout: 4006;
    /** The server holds its maximum number of players. */
    readonly ServerFull: 4007;
    /** A resume named no session the server holds (unknown, used, or its grace period over). The client joins afresh. */
    readonly SessionExpired: 4008;
    /** A resume would leave a gap: missed events are no longer held. The session is over; the client joins afresh. */
    readonly MissedEvents: 4009;
    /** A newer connection resumed this connection's session. */
    readonly Replaced: 4010;
    /**
     * The player's match ended: its game ended it, or it ended as the player joined.
     * The player is gone and its match with it: the client does not reconnect (it may
     * find or create another match).
     */
    readonly MatchEnded: 4011;
    /** From a relay: the game ended, its host left for good. Its code is gone: the client does not reconnect. */
    readonly HostGone: 4100;
    /** From a relay: the host's connection for this player was lost. The host holds the player: the client resumes. */
    readonly HostConnectionLost: 4101;
    /** From a relay, to a host's connection: its player's connection was lost. */
    readonly PlayerConnectionLost: 4102;
    /** From a relay: it is shutting down, and its games with it. The client does not reconnect. */
    readonly RelayShutdown: 4103;
    /** From a relay, to a host's control link: a newer link reclaimed the game. */
    readonly LinkReplaced: 4104;
    /**
     * From a gateway: its connection to the game process that held the player's match
     * was lost (the process was killed, or cut off). The match is gone with it, so the
     * session cannot be resumed: the client reconnects with its original request (a
     * new `create`, the same `find`, the default match, or its `join` by code, which
     * is refused with `UnknownMatch` if that match was on the lost process).
     */
    readonly GameProcessLost: 4105;
};
/** The name of one of nodelink's close codes. */
export type CloseReasonName = keyof typeof CloseCode;
/** One of nodelink's close reasons. */
export interface CloseReason {
    readonly name: CloseReasonName;
    readonly code: number;
    /** The short lowercase sentence the server sends as the close text. */
    readonly description: string;
}
/** nodelink's reason for a close code, or `null` for a code that is not one of its own. */
export declare function closeReasonOf(code: number): CloseReason | null;
/**
 * The subprotocol a client offers, beside its own, to be refused with a close code
 * rather than an HTTP response its `WebSocket` cannot read (PROTOCOL.md, "Refusals a
 * browser can read").
 */
export declare const REFUSALS_SUBPROTOCOL = "nodelink.refusals";
/**
 * The close codes of a refused connection, by the kind of refusal: what a server
 * closes with right after the upgrade when the client offered {@link REFUSALS_SUBPROTOCOL}.
 */
export declare const RefusalCode: {
    /** Too many connections from the client's address (HTTP 429). Worth retrying later. */
    readonly TooManyConnections: 4200;
    /** The page's origin is not on the server's allow-list (HTTP 403). */
    readonly OriginNotAllowed: 4201;
    /** The client was built from another protocol: the reason names both fingerprints (HTTP 400). */
    readonly ProtocolMismatch: 4202;
    /** The client speaks another wire version (HTTP 400). */
    readonly WireVersion: 4203;
    /** The server does not serve this client's wire (configured native-only or JSON-only; HTTP 400). */
    readonly WireNotServed: 4204;
    /** The server is full (HTTP 503). Worth retrying later. */
    readonly ServerFull: 4205;
    /** The authentication hook did not know the client (HTTP 401). */
    readonly Unauthorized: 4206;
    /** The authentication hook does not allow the client (HTTP 403). */
    readonly Forbidden: 4207;
    /** The offer to resume a session was malformed (HTTP 400). */
    readonly MalformedResume: 4208;
    /** The request's matchmaking parameters are malformed: an unknown `match`, a `create` without `kind`, options that are not base64url (HTTP 400). */
    readonly BadMatchRequest: 4209;
    /** The server hosts no kind of match by the name asked for (HTTP 404). */
    readonly UnknownKind: 4210;
    /** No live match has the code asked for: mistyped, or the match has ended (HTTP 404). */
    readonly UnknownMatch: 4211;
    /** The match asked for holds its maximum of players (HTTP 409). Worth retrying later. */
    readonly MatchFull: 4212;
    /** The match asked for takes no new players: its game locked it (HTTP 409). */
    readonly MatchLocked: 4213;
    /** The options sent to create or find a match do not decode as the kind's options (HTTP 400); the reason says where. */
    readonly BadOptions: 4214;
    /** The kind makes no new matches on request: it hosts its server's one match, and has no game factory (HTTP 403). */
    readonly CannotCreate: 4215;
    /**
     * From a gateway: the service's directory, where it looks up which game process
     * takes the request, cannot be read now (HTTP 503). Worth retrying later; players
     * already connected are not affected.
     */
    readonly DirectoryUnavailable: 4216;
    /**
     * From a gateway: the game process its directory names for the request does not
     * answer (it died within its lease, or did not answer in time) (HTTP 503). Worth
     * retrying later.
     */
    readonly ProcessUnavailable: 4217;
};
/** The kind of a refusal told with a close code. */
export type RefusalName = keyof typeof RefusalCode;
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
export declare function refusalOf(code: number): Refusal | null;
/**
 * The header of an HTTP refusal that names its kind by its close code
 * (`x-nodelink-refusal: 4212`), so that a client that reads HTTP responses tells
 * apart refusals of one status (a full match from a locked one).
 */
export declare const REFUSAL_HEADER = "x-nodelink-refusal";
