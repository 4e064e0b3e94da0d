//! Why a connection was closed: the code and text of the WebSocket close frame.

use std::fmt;

/// Why the server closed a connection. Sent as the WebSocket close frame's code
/// (in the 4000–4999 range that RFC 6455 leaves to applications) with
/// [`CloseReason::description`] as its text.
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
}

impl CloseReason {
    const ALL: [Self; 11] = [
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
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
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
    }
}
