//! Server settings: the Python `Server(host, port, tick_rate, delta_only)` and every
//! limit, each with its default.

use std::time::Duration;

/// Which players' states a client receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SyncScope {
    /// Every client receives every player's state: one frame per tick, encoded once.
    #[default]
    Everyone,
    /// A client receives its own state and the states of the players that share a
    /// room with it; one frame per room per tick, encoded once for its members.
    Rooms,
}

/// How a [`Server`](super::Server) listens, syncs and bounds its resources.
///
/// Start from [`ServerConfig::default`] and change what you need, with the chained
/// setters or by assigning the public fields:
///
/// ```
/// use nodelink::server::ServerConfig;
///
/// let config = ServerConfig::default().port(0).tick_rate(30);
/// assert_eq!(config.host, "0.0.0.0");
/// assert!(config.delta_only);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The address to bind. Default `"0.0.0.0"`: every interface.
    pub host: String,
    /// The port to bind. Default `5000`; `0` picks a free port, which
    /// [`BoundServer::local_addr`](super::BoundServer::local_addr) reports.
    pub port: u16,
    /// State sync ticks per second. Default `20`. Values below 1 count as 1.
    pub tick_rate: u32,
    /// Send only the fields that changed (`true`, the default), or every player's
    /// whole state on every tick (`false`, as Python nodelink's `delta_only=False`).
    pub delta_only: bool,
    /// Who receives whose state. [`SyncScope::Everyone`] (the default): every client
    /// mirrors every player. [`SyncScope::Rooms`]: a client mirrors itself and the
    /// players that share a room with it (interest management).
    pub sync_scope: SyncScope,
    /// How often each player's round-trip time is measured with a ping frame.
    /// Default 5 s; `Duration::ZERO` disables pings.
    pub ping_interval: Duration,
    /// The largest inbound WebSocket message or frame, in bytes. Default 64 KiB.
    /// The WebSocket layer refuses a larger one before buffering it, and the
    /// connection is closed.
    pub max_frame_len: usize,
    /// Frames queued for one connection's socket. Default 256. A sync frame that finds
    /// the queue full is dropped for that player, who is sent one full snapshot
    /// instead once the queue has room; an event (a broadcast or `send`) that finds it
    /// full is dropped and reported to `on_error`.
    pub send_queue_len: usize,
    /// Inbound events waiting for the world task, from all connections together.
    /// Default 4096. When full, connections stop reading until there is room, so a
    /// burst slows its senders down instead of growing memory.
    pub event_queue_len: usize,
    /// How long a WebSocket handshake may take. Default 10 s.
    pub handshake_timeout: Duration,
    /// After the server sends a close frame, how long it waits for the peer's reply
    /// before dropping the socket. Default 2 s.
    pub close_timeout: Duration,
    /// How long [`ServerHandle::shutdown`](super::ServerHandle::shutdown) waits for
    /// connections to close before aborting them. Default 5 s.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 5000,
            tick_rate: 20,
            delta_only: true,
            sync_scope: SyncScope::Everyone,
            ping_interval: Duration::from_secs(5),
            max_frame_len: crate::wire::DEFAULT_MAX_FRAME_LEN,
            send_queue_len: 256,
            event_queue_len: 4096,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty;)*) => {
        impl ServerConfig {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $field(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

impl ServerConfig {
    /// Sets [`host`](Self::host).
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }
}

setters! {
    /// Sets [`port`](Self::port).
    port: u16;
    /// Sets [`tick_rate`](Self::tick_rate).
    tick_rate: u32;
    /// Sets [`delta_only`](Self::delta_only).
    delta_only: bool;
    /// Sets [`sync_scope`](Self::sync_scope).
    sync_scope: SyncScope;
    /// Sets [`ping_interval`](Self::ping_interval).
    ping_interval: Duration;
    /// Sets [`max_frame_len`](Self::max_frame_len).
    max_frame_len: usize;
    /// Sets [`send_queue_len`](Self::send_queue_len).
    send_queue_len: usize;
    /// Sets [`event_queue_len`](Self::event_queue_len).
    event_queue_len: usize;
    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    handshake_timeout: Duration;
    /// Sets [`close_timeout`](Self::close_timeout).
    close_timeout: Duration;
    /// Sets [`shutdown_timeout`](Self::shutdown_timeout).
    shutdown_timeout: Duration;
}

impl ServerConfig {
    pub(crate) fn tick_interval(&self) -> Duration {
        Duration::from_secs(1) / self.tick_rate.max(1)
    }
}
