//! Why a connection was closed: the code and text of the WebSocket close frame;
//! and why a connection was refused, which a client that cannot read HTTP
//! responses (a browser) learns from a close code too.

use std::fmt;

/// Why the server (or a relay between it and the client) closed a connection.
/// Sent as the WebSocket close frame's code (in the 4000–4999 range that RFC 6455
/// leaves to applications) with [`CloseReason::description`] as its text.
///
/// Codes 4000–4011 are a nodelink server's; 4100–4105 are `nodelink-relay`'s
/// (PROTOCOL.md, "Relay close codes"), which a player that joined with a game code
/// or through a gateway may see. A refused connection's codes (4200 and up) are [`RefusalKind`]'s.
///
/// ```
/// use nodelink::wire::CloseReason;
///
/// assert_eq!(CloseReason::Kicked.code(), 4000);
/// assert_eq!(CloseReason::from_code(4000), Some(CloseReason::Kicked));
/// assert_eq!(CloseReason::Kicked.to_string(), "kicked by the server");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server removed the player (`kick`).
    Kicked,
    /// The server is shutting down.
    ServerShutdown,
    /// The client was built with a different protocol or wire version.
    ProtocolMismatch,
    /// The client sent frames that could not be decoded, past the configured limit.
    InvalidFrames,
    /// The client did not read its frames fast enough.
    SlowConsumer,
    /// The client sent events faster than the configured rate, past the limit.
    RateLimited,
    /// Nothing was heard from the client within the idle timeout.
    IdleTimeout,
    /// The server holds its maximum number of players.
    ServerFull,
    /// A resume named no session the server holds: its token is unknown, was
    /// already used, or its grace period ended (or the server restarted since). The
    /// client joins afresh.
    SessionExpired,
    /// A session could not be resumed without a gap: events sent to the client (or
    /// by it) while it was away are no longer held. The session is over; the
    /// client joins afresh.
    MissedEvents,
    /// The session was resumed by a newer connection, which this one gives way to.
    Replaced,
    /// The match ended: its game ended it, or it ended as the player joined.
    /// The player is gone; its client may find or create another match.
    MatchEnded,
    /// From a relay: the game ended, its host left for good (a Python host's link
    /// closed, a native host's grace period passed or it shut down). Its game code
    /// is gone: a client does not come back with it.
    HostGone,
    /// From a relay, to a player: the host's connection for this player ended
    /// without a close frame. The host saw a lost connection too and holds the
    /// player for a while: the client resumes its session.
    HostConnectionLost,
    /// From a relay, to a host's connection for one player: the player's
    /// connection ended without a close frame.
    PlayerConnectionLost,
    /// From a relay: it is shutting down. Its games end with it.
    RelayShutdown,
    /// From a relay, to a host's control link: a newer link reclaimed the game.
    LinkReplaced,
    /// From a gateway (`nodelink-relay --redis`): its connection to the game
    /// process that held the player's match ended without a close frame (the
    /// process was killed, or cut off). The match is gone with it, so the session
    /// cannot be resumed: a client that asked to create or find a match asks again,
    /// and lands on a live process.
    ProcessLost,
}

impl CloseReason {
    const ALL: [Self; 18] = [
        Self::Kicked,
        Self::ServerShutdown,
        Self::ProtocolMismatch,
        Self::InvalidFrames,
        Self::SlowConsumer,
        Self::RateLimited,
        Self::IdleTimeout,
        Self::ServerFull,
        Self::SessionExpired,
        Self::MissedEvents,
        Self::Replaced,
        Self::MatchEnded,
        Self::HostGone,
        Self::HostConnectionLost,
        Self::PlayerConnectionLost,
        Self::RelayShutdown,
        Self::LinkReplaced,
        Self::ProcessLost,
    ];

    /// The WebSocket close code.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            Self::Kicked => 4000,
            Self::ServerShutdown => 4001,
            Self::ProtocolMismatch => 4002,
            Self::InvalidFrames => 4003,
            Self::SlowConsumer => 4004,
            Self::RateLimited => 4005,
            Self::IdleTimeout => 4006,
            Self::ServerFull => 4007,
            Self::SessionExpired => 4008,
            Self::MissedEvents => 4009,
            Self::Replaced => 4010,
            Self::MatchEnded => 4011,
            Self::HostGone => 4100,
            Self::HostConnectionLost => 4101,
            Self::PlayerConnectionLost => 4102,
            Self::RelayShutdown => 4103,
            Self::LinkReplaced => 4104,
            Self::ProcessLost => 4105,
        }
    }

    /// The reason with this close code, if it is one of nodelink's.
    #[must_use]
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// A short lowercase sentence for the close frame's text and for logs.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Kicked => "kicked by the server",
            Self::ServerShutdown => "server shutting down",
            Self::ProtocolMismatch => "protocol mismatch",
            Self::InvalidFrames => "too many invalid frames",
            Self::SlowConsumer => "not reading fast enough",
            Self::RateLimited => "sending too fast",
            Self::IdleTimeout => "idle timeout",
            Self::ServerFull => "server full",
            Self::SessionExpired => "session expired",
            Self::MissedEvents => "missed events no longer held",
            Self::Replaced => "session resumed elsewhere",
            Self::MatchEnded => "match ended",
            Self::HostGone => "host gone",
            Self::HostConnectionLost => "host connection lost",
            Self::PlayerConnectionLost => "player connection lost",
            Self::RelayShutdown => "relay shutting down",
            Self::LinkReplaced => "replaced by a new link",
            Self::ProcessLost => "game process lost",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// The WebSocket subprotocol a client offers, beside its usual
/// `nodelink.2.<fingerprint>`, to be told why it is refused with a close code
/// rather than an HTTP response that a browser's `WebSocket` cannot read.
/// A server that refuses such a client completes the upgrade selecting this
/// subprotocol and closes at once with the [`RefusalKind`]'s code and a reason
/// (PROTOCOL.md, "Refusals a browser can read").
pub const REFUSALS_SUBPROTOCOL: &str = "nodelink.refusals";

/// The most bytes a close frame's reason may hold (RFC 6455: a control frame's
/// payload is at most 125 bytes, two of which are the code).
pub const MAX_CLOSE_REASON_LEN: usize = 123;

/// Why a server refused a connection before it became a player.
///
/// Every refusal is an HTTP response to a client that does not offer
/// [`REFUSALS_SUBPROTOCOL`]. To one that does, those with a
/// [`close_code`](Self::close_code) come as a close frame right after the upgrade
/// instead; the others cannot (the request is not a WebSocket upgrade this server
/// can complete, or the server is past answering).
///
/// ```
/// use nodelink::wire::RefusalKind;
///
/// assert_eq!(RefusalKind::ProtocolMismatch.close_code(), Some(4202));
/// assert_eq!(RefusalKind::from_close_code(4202), Some(RefusalKind::ProtocolMismatch));
/// assert_eq!(RefusalKind::ProtocolMismatch.status(), 400);
/// assert!(!RefusalKind::ProtocolMismatch.is_retryable());
/// assert!(RefusalKind::ServerFull.is_retryable());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The client's address holds the server's maximum of connections
    /// (`max_connections_per_ip`). HTTP 429, close code 4200. Worth retrying
    /// later.
    TooManyConnections,
    /// The request is not a WebSocket upgrade. HTTP 400; never a close code.
    NotAnUpgrade,
    /// A WebSocket version other than 13. HTTP 426; never a close code.
    WebSocketVersion,
    /// The page's origin is not on the server's allow-list. HTTP 403, close code
    /// 4201.
    OriginNotAllowed,
    /// The client was built from another protocol: its fingerprint differs. HTTP
    /// 400, close code 4202; the reason names both fingerprints.
    ProtocolMismatch,
    /// The client offers another nodelink wire version. HTTP 400, close code 4203;
    /// the reason names the subprotocol the server speaks.
    WireVersion,
    /// The client speaks a wire this server does not serve: the native wire to a
    /// JSON-only server, or the JSON wire to a native-only one. HTTP 400, close
    /// code 4204.
    WireNotServed,
    /// The server holds its maximum of players. HTTP 503, close code 4205. Worth
    /// retrying later.
    ServerFull,
    /// The authentication hook refused the client as unknown
    /// (`Rejection::unauthorized`). HTTP 401, close code 4206; the reason is the
    /// hook's.
    Unauthorized,
    /// The authentication hook refused the client as not allowed
    /// (`Rejection::forbidden`). HTTP 403, close code 4207; the reason is the
    /// hook's.
    Forbidden,
    /// The offer to resume a session is not of the documented form. HTTP 400,
    /// close code 4208.
    MalformedResume,
    /// The request was not admitted within the handshake timeout (a slow
    /// authentication hook, say). HTTP 503 from a mounted server; the stand-alone
    /// server drops the connection. Never a close code.
    HandshakeTimeout,
    /// The server is shutting down. HTTP 503; never a close code (a connection
    /// upgraded meanwhile is closed with 4001).
    ShuttingDown,
    /// The request's matchmaking parameters are malformed (an unknown `match`, a
    /// `create` without `kind`, options that are not base64url). HTTP 400, close
    /// code 4209.
    BadMatchRequest,
    /// The request names a kind of match the server does not host. HTTP 404,
    /// close code 4210.
    UnknownKind,
    /// The request names a match code no live match has: a mistyped code, or a
    /// match that has ended. HTTP 404, close code 4211.
    UnknownMatch,
    /// The match asked for holds its maximum of players. HTTP 409, close code
    /// 4212. Worth retrying later.
    MatchFull,
    /// The match asked for takes no new players: its game locked it. HTTP 409,
    /// close code 4213.
    MatchLocked,
    /// The options sent to create or find a match do not decode as the kind's
    /// options. HTTP 400, close code 4214; the reason says where they fail.
    BadOptions,
    /// The kind does not make new matches on request (it hosts its server's one
    /// default match and has no game factory). HTTP 403, close code 4215.
    CannotCreate,
    /// From a gateway: the service's directory (Redis), where it looks up which
    /// game process to send the request to, cannot be read now. HTTP 503, close
    /// code 4216. Worth retrying later; players already connected are not
    /// affected.
    DirectoryUnavailable,
    /// From a gateway: the game process its directory names for the request
    /// does not answer (it died and its lease has not run out yet, or it did not
    /// answer within the handshake timeout). HTTP 503, close code 4217. Worth
    /// retrying later: once the directory forgets a dead process, the request goes
    /// elsewhere or is refused for what it is.
    ProcessUnavailable,
}

impl RefusalKind {
    pub(crate) const ALL: [Self; 22] = [
        Self::TooManyConnections,
        Self::NotAnUpgrade,
        Self::WebSocketVersion,
        Self::OriginNotAllowed,
        Self::ProtocolMismatch,
        Self::WireVersion,
        Self::WireNotServed,
        Self::ServerFull,
        Self::Unauthorized,
        Self::Forbidden,
        Self::MalformedResume,
        Self::HandshakeTimeout,
        Self::ShuttingDown,
        Self::BadMatchRequest,
        Self::UnknownKind,
        Self::UnknownMatch,
        Self::MatchFull,
        Self::MatchLocked,
        Self::BadOptions,
        Self::CannotCreate,
        Self::DirectoryUnavailable,
        Self::ProcessUnavailable,
    ];

    /// The close code that carries this refusal to a client that offered
    /// [`REFUSALS_SUBPROTOCOL`]; `None` for those only ever answered in HTTP.
    #[must_use]
    pub const fn close_code(self) -> Option<u16> {
        Some(match self {
            Self::TooManyConnections => 4200,
            Self::OriginNotAllowed => 4201,
            Self::ProtocolMismatch => 4202,
            Self::WireVersion => 4203,
            Self::WireNotServed => 4204,
            Self::ServerFull => 4205,
            Self::Unauthorized => 4206,
            Self::Forbidden => 4207,
            Self::MalformedResume => 4208,
            Self::BadMatchRequest => 4209,
            Self::UnknownKind => 4210,
            Self::UnknownMatch => 4211,
            Self::MatchFull => 4212,
            Self::MatchLocked => 4213,
            Self::BadOptions => 4214,
            Self::CannotCreate => 4215,
            Self::DirectoryUnavailable => 4216,
            Self::ProcessUnavailable => 4217,
            Self::NotAnUpgrade
            | Self::WebSocketVersion
            | Self::HandshakeTimeout
            | Self::ShuttingDown => return None,
        })
    }

    /// The refusal with this close code, if it is one.
    #[must_use]
    pub fn from_close_code(code: u16) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.close_code() == Some(code))
    }

    /// The HTTP status of the refusal as a response.
    #[must_use]
    pub const fn status(self) -> u16 {
        match self {
            Self::TooManyConnections => 429,
            Self::NotAnUpgrade
            | Self::ProtocolMismatch
            | Self::WireVersion
            | Self::WireNotServed
            | Self::MalformedResume
            | Self::BadMatchRequest
            | Self::BadOptions => 400,
            Self::UnknownKind | Self::UnknownMatch => 404,
            Self::MatchFull | Self::MatchLocked => 409,
            Self::CannotCreate => 403,
            Self::WebSocketVersion => 426,
            Self::Unauthorized => 401,
            Self::OriginNotAllowed | Self::Forbidden => 403,
            Self::ServerFull
            | Self::HandshakeTimeout
            | Self::ShuttingDown
            | Self::DirectoryUnavailable
            | Self::ProcessUnavailable => 503,
        }
    }

    /// Whether the same client may be admitted if it tries again later: only
    /// when the server was too busy (or a gateway could not read its directory or
    /// reach the game process). A client with another protocol, from a page of
    /// another origin, or with credentials the server refused, is refused again,
    /// however often it tries.
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::TooManyConnections
                | Self::ServerFull
                | Self::HandshakeTimeout
                | Self::ShuttingDown
                | Self::MatchFull
                | Self::DirectoryUnavailable
                | Self::ProcessUnavailable
        )
    }

    /// A short lowercase name, for logs (`protocol mismatch`).
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::TooManyConnections => "too many connections",
            Self::NotAnUpgrade => "not a websocket upgrade",
            Self::WebSocketVersion => "unsupported websocket version",
            Self::OriginNotAllowed => "origin not allowed",
            Self::ProtocolMismatch => "protocol mismatch",
            Self::WireVersion => "unsupported wire version",
            Self::WireNotServed => "wire not served",
            Self::ServerFull => "server full",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::MalformedResume => "malformed resume offer",
            Self::HandshakeTimeout => "handshake timeout",
            Self::ShuttingDown => "server shutting down",
            Self::BadMatchRequest => "bad match request",
            Self::UnknownKind => "unknown kind",
            Self::UnknownMatch => "unknown match",
            Self::MatchFull => "match full",
            Self::MatchLocked => "match locked",
            Self::BadOptions => "bad options",
            Self::CannotCreate => "cannot create",
            Self::DirectoryUnavailable => "directory unavailable",
            Self::ProcessUnavailable => "game process unavailable",
        }
    }
}

impl fmt::Display for RefusalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// `reason` cut to at most [`MAX_CLOSE_REASON_LEN`] bytes, at a character
/// boundary, to fit a close frame.
///
/// ```
/// use nodelink::wire::close_reason_text;
///
/// assert_eq!(close_reason_text("server full"), "server full");
/// assert_eq!(close_reason_text(&"é".repeat(100)).len(), 122);
/// ```
#[must_use]
pub fn close_reason_text(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON_LEN {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for reason in CloseReason::ALL {
            assert_eq!(CloseReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(CloseReason::from_code(1000), None);
        let mut codes: Vec<u16> = CloseReason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CloseReason::ALL.len());
    }

    #[test]
    fn refusal_codes_round_trip_and_stay_clear_of_the_others() {
        let mut codes = Vec::new();
        for kind in RefusalKind::ALL {
            if let Some(code) = kind.close_code() {
                assert_eq!(RefusalKind::from_close_code(code), Some(kind));
                assert_eq!(CloseReason::from_code(code), None, "{code} is taken");
                assert!((4200..4300).contains(&code));
                codes.push(code);
            }
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 18);
        assert_eq!(RefusalKind::from_close_code(4000), None);
    }

    #[test]
    fn close_reasons_are_cut_at_a_character_boundary() {
        let long = format!("{}é", "a".repeat(122));
        assert_eq!(close_reason_text(&long), "a".repeat(122));
        let exact = "b".repeat(MAX_CLOSE_REASON_LEN);
        assert_eq!(close_reason_text(&exact), exact);
    }
}
