//! What can go wrong on the server, by who can act on it.

use crate::error::{DecodeError, EncodeError};
use crate::handler::HandlerError;
use crate::wire::WireFormat;
use crate::PlayerId;

/// A problem with one player's traffic or in a handler: passed to `on_error` with
/// the player, or logged when there is no error handler. The server goes on
/// serving everyone else.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A handler returned an error.
    #[error("{handler} handler failed: {source}")]
    Handler {
        /// Which handler: an event's wire name, `connect` or `disconnect`.
        handler: &'static str,
        /// The handler's error.
        source: HandlerError,
    },
    /// A handler panicked; the panic was caught.
    #[error("{handler} handler panicked: {message}")]
    Panic {
        /// Which handler.
        handler: &'static str,
        /// The panic message.
        message: String,
    },
    /// A client sent a frame that could not be decoded; it was ignored.
    #[error("undecodable frame: {0}")]
    BadFrame(#[from] DecodeError),
    /// A client sent a WebSocket message of the other kind than its wire format
    /// uses (text on the native wire, binary on the JSON wire); it was ignored.
    #[error("{}", wrong_message_type(*wire))]
    WrongMessageType {
        /// The connection's wire format.
        wire: WireFormat,
    },
    /// A client sent frames faster than the rate limit; they are being dropped.
    /// Reported once per flood.
    #[error("rate limit of {per_second} frames/s exceeded: dropping frames")]
    RateLimited {
        /// The configured sustained rate.
        per_second: f64,
    },
    /// An event could not be queued for a player whose send queue is full; the
    /// player is disconnected as a slow consumer.
    #[error("send queue of player {player} is full; event `{event}` dropped")]
    QueueFull {
        /// The recipient.
        player: PlayerId,
        /// The event's wire name.
        event: &'static str,
    },
    /// An event could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A server mounted on a router (feature `axum`) was asked to upgrade a request
    /// without the peer's address, which the per-IP connection cap needs: the router
    /// is not served with `into_make_service_with_connect_info::<SocketAddr>()`.
    /// Every such request is refused with HTTP 500; this is reported once.
    #[error(
        "no peer address for a connection: serve the router with \
         into_make_service_with_connect_info::<SocketAddr>()"
    )]
    NoPeerAddress,
    /// A handler of the server's default match asked to end it
    /// (`ctx.end_match()`); the default match lasts as long as the server, so it
    /// goes on.
    #[error("the default match lasts as long as its server: end_match is ignored there")]
    DefaultMatchEnded,
}

fn wrong_message_type(wire: WireFormat) -> &'static str {
    match wire {
        WireFormat::Native => "text frame ignored: the nodelink wire uses binary frames",
        WireFormat::Json => "binary frame ignored: the JSON wire uses text frames",
    }
}

/// Why a server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the config.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Registering on a relay ([`Server::relay`](super::Server::relay)) failed.
    #[error("cannot host through the relay {url}: {reason}")]
    Relay {
        /// The relay's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Building the async runtime for [`Server::start`](super::Server::start) failed.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// The TLS certificate or key cannot be used. Made (and so found) by the
    /// [`TlsConfig`](crate::tls::TlsConfig) constructors, before the server binds;
    /// converted from their error so that a server's setup can use `?`.
    #[cfg(feature = "tls")]
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// A message for one player could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The player's send queue is full (it is not reading fast enough).
    #[error("send queue is full")]
    QueueFull,
    /// The player is gone.
    #[error("player disconnected")]
    Disconnected,
    /// The event could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// The server has stopped; the handle can no longer reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server has stopped")]
pub struct ServerStopped;
