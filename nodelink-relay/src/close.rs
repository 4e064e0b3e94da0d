//! The close codes the relay itself sends. Those that mean what a nodelink
//! server's do (kicked, invalid frames, slow consumer, rate, idle) keep the
//! server's numbers and words, so a relayed player is told what a direct one would
//! be; the relay's own start at 4100.

use std::fmt;

use nodelink::wire::CloseReason as ServerReason;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Why the relay closed a WebSocket connection: the close frame's code and text.
///
/// ```
/// use nodelink_relay::CloseReason;
///
/// assert_eq!(CloseReason::HostGone.code(), 4100);
/// assert_eq!(CloseReason::from_code(4100), Some(CloseReason::HostGone));
/// assert_eq!(CloseReason::SlowConsumer.to_string(), "not reading fast enough");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// A Python host kicked the player (`__kick__`). 4000, as a nodelink server's kick.
    Kicked,
    /// Frames that could not be relayed, past the limit, or one message over the
    /// size limit. 4003.
    InvalidFrames,
    /// The connection's send queue stayed full: the peer is not reading. 4004.
    SlowConsumer,
    /// A player of a Python host sent messages faster than the rate limit, past its
    /// limit of dropped messages. 4005.
    RateLimited,
    /// Nothing arrived from the peer, not even a pong to the relay's pings, for the
    /// idle timeout. 4006.
    IdleTimeout,
    /// The game's host left for good: a Python host's link closed, or a native
    /// host's grace period passed without its return. 4100.
    HostGone,
    /// To a spliced player: the host's data connection for it ended without a close
    /// frame, or the relay closed it. 4101.
    HostConnectionLost,
    /// To a host's data connection: its player's connection ended without a close
    /// frame. 4102.
    PlayerConnectionLost,
    /// The relay is shutting down. 4103.
    RelayShutdown,
    /// To a native host's control link: a newer link reclaimed the game with its
    /// token. 4104.
    LinkReplaced,
    /// To a gateway's player: the gateway's connection to the game process that
    /// holds the player's match ended without a close frame (the process was
    /// killed, or cut off). Not resumable: the client asks again as it first
    /// did. 4105.
    ProcessLost,
}

impl CloseReason {
    const ALL: [Self; 11] = [
        Self::Kicked,
        Self::InvalidFrames,
        Self::SlowConsumer,
        Self::RateLimited,
        Self::IdleTimeout,
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
            Self::Kicked => ServerReason::Kicked.code(),
            Self::InvalidFrames => ServerReason::InvalidFrames.code(),
            Self::SlowConsumer => ServerReason::SlowConsumer.code(),
            Self::RateLimited => ServerReason::RateLimited.code(),
            Self::IdleTimeout => ServerReason::IdleTimeout.code(),
            Self::HostGone => 4100,
            Self::HostConnectionLost => 4101,
            Self::PlayerConnectionLost => 4102,
            Self::RelayShutdown => 4103,
            Self::LinkReplaced => 4104,
            Self::ProcessLost => ServerReason::ProcessLost.code(),
        }
    }

    /// The reason with this close code, if the relay sends it.
    #[must_use]
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// A short lowercase sentence: the close frame's text.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Kicked => ServerReason::Kicked.description(),
            Self::InvalidFrames => ServerReason::InvalidFrames.description(),
            Self::SlowConsumer => ServerReason::SlowConsumer.description(),
            Self::RateLimited => ServerReason::RateLimited.description(),
            Self::IdleTimeout => ServerReason::IdleTimeout.description(),
            Self::HostGone => "host gone",
            Self::HostConnectionLost => "host connection lost",
            Self::PlayerConnectionLost => "player connection lost",
            Self::RelayShutdown => "relay shutting down",
            Self::LinkReplaced => "replaced by a new link",
            Self::ProcessLost => ServerReason::ProcessLost.description(),
        }
    }

    /// The close frame that carries this reason.
    pub(crate) fn frame(self) -> CloseFrame {
        CloseFrame {
            code: CloseCode::from(self.code()),
            reason: self.description().into(),
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
        let mut codes: Vec<u16> = CloseReason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CloseReason::ALL.len());
    }

    #[test]
    fn shared_codes_mean_what_the_server_means() {
        assert_eq!(CloseReason::Kicked.code(), 4000);
        assert_eq!(CloseReason::InvalidFrames.code(), 4003);
        assert_eq!(CloseReason::SlowConsumer.code(), 4004);
        assert_eq!(CloseReason::RateLimited.code(), 4005);
        assert_eq!(CloseReason::IdleTimeout.code(), 4006);
        // nodelink's `CloseReason` knows every code the relay sends, for its clients
        // to read, with the same words: the relay's own codes (4100 and up) are
        // clear of those a server sends itself (4000 to 4010).
        for reason in CloseReason::ALL {
            let known = ServerReason::from_code(reason.code()).map(ServerReason::description);
            assert_eq!(known, Some(reason.description()), "{reason:?}");
        }
    }
}
