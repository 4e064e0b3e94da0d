//! What can go wrong on the client.

use crate::error::{DecodeError, EncodeError};
use crate::handler::HandlerError;
use crate::wire::CloseReason;

/// A client failure: passed to `on_error`, or returned by `connect`/`run` when the
/// connection could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not a WebSocket URL.
    #[error("invalid server url `{url}`: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The connection or the WebSocket handshake failed.
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The server's URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The TLS handshake of a `wss://` connection failed (feature `tls`): the
    /// server's certificate does not chain to a trusted root (see
    /// [`ClientConfig::root_certificates`](super::ClientConfig::root_certificates)),
    /// does not name the URL's host, has expired, or the server does not speak
    /// TLS. Not retried by [`Reconnect`](super::Reconnect): trying again would
    /// meet the same certificate.
    #[cfg(feature = "tls")]
    #[error("TLS with {url} failed: {reason}")]
    Tls {
        /// The server's URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The server refused the connection before it was upgraded: 401 or 403 from
    /// its authentication hook or origin check, 429 (too many connections from
    /// this address), 503 (server full); a relay's own refusals (404 for an
    /// unknown game code). A server that closed an upgraded connection before its
    /// welcome with a refusal's close code (PROTOCOL.md, "Refusals a browser can
    /// read") is reported the same way, with the HTTP status of its
    /// [`RefusalKind`](crate::wire::RefusalKind). Retried by
    /// [`Reconnect`](super::Reconnect) only for 429 and 503, which may pass later.
    #[error("refused by the server: HTTP {status}: {reason}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's reason.
        reason: String,
        /// What kind of refusal it is, when the server said (its
        /// `x-nodelink-refusal` header, or the close code it was told with).
        kind: Option<crate::wire::RefusalKind>,
    },
    /// The server was built with a different protocol (or speaks another wire
    /// version). Never retried.
    #[error("protocol mismatch: this client's fingerprint is {client:016x}, the server's is {}", .server.map_or_else(|| "unknown".to_owned(), |s| format!("{s:016x}")))]
    ProtocolMismatch {
        /// This build's [`Protocol::FINGERPRINT`](crate::Protocol::FINGERPRINT).
        client: u64,
        /// The server's, when it said.
        server: Option<u64>,
    },
    /// The server's first frame was not a welcome.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// A frame from the server could not be decoded; it was skipped.
    #[error("undecodable frame from the server: {0}")]
    BadFrame(#[from] DecodeError),
    /// A handler returned an error.
    #[error("{handler} handler failed: {source}")]
    Handler {
        /// Which handler: an event's wire name, `connect`, `state_sync`…
        handler: &'static str,
        /// The handler's error.
        source: HandlerError,
    },
    /// A handler panicked; the panic was caught and the connection goes on.
    #[error("{handler} handler panicked: {message}")]
    Panic {
        /// Which handler.
        handler: &'static str,
        /// The panic message.
        message: String,
    },
    /// The send queue is full: the event was not queued.
    #[error("send queue is full ({capacity} frames)")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
    },
    /// The client has stopped; nothing more can be sent.
    #[error("the client has stopped")]
    Stopped,
    /// An event could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The runtime for the blocking API could not be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(String),
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disconnect {
    /// The server closed the connection with this code and text.
    Closed {
        /// The WebSocket close code.
        code: u16,
        /// The close frame's text.
        reason: String,
    },
    /// The connection failed (reset, timeout, protocol error).
    Lost(String),
    /// This client disconnected ([`ClientSender::disconnect`](super::ClientSender::disconnect)),
    /// whether or not a connection was open then.
    Local,
}

impl Disconnect {
    /// nodelink's reason, when the server closed with one of its codes
    /// (kicked, shutting down…).
    #[must_use]
    pub fn close_reason(&self) -> Option<CloseReason> {
        match self {
            Self::Closed { code, .. } => CloseReason::from_code(*code),
            _ => None,
        }
    }
}

impl std::fmt::Display for Disconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Closed { code, reason } => write!(f, "closed by the server ({code}: {reason})"),
            Self::Lost(reason) => write!(f, "connection lost: {reason}"),
            Self::Local => f.write_str("disconnected by this client"),
        }
    }
}
