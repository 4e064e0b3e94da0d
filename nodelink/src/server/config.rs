//! Server settings: the Python `Server(host, port, tick_rate, delta_only)` and every
//! limit, each with its default.

use std::time::Duration;

/// Which players' states a client receives: `nodelink::server::SyncScope`, set with
/// [`ServerConfig::sync_scope`].
///
/// With [`Rooms`](Self::Rooms), entities follow rooms too: a client sees the
/// entities spawned in its rooms (`spawn_in`) and those in no room (`spawn`), and an
/// entity visibility rule (`Server::entity_visibility`) is asked only about those.
///
/// ```
/// use nodelink::server::{ServerConfig, SyncScope};
///
/// let config = ServerConfig::default().sync_scope(SyncScope::Rooms);
/// assert_eq!(config.sync_scope, SyncScope::Rooms);
/// assert_eq!(ServerConfig::default().sync_scope, SyncScope::Everyone);
/// ```
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

/// Which wire formats a server speaks; each connection picks one in its handshake.
///
/// A client that offers the nodelink subprotocol (`nodelink.3.<fingerprint>`, what
/// nodelink's [`Client`](crate::client::Client) does) gets the native wire; a
/// client that offers no nodelink subprotocol (Python nodelink's client, a browser's
/// `new WebSocket(url)`) gets the JSON wire. Both kinds play in the same game: the
/// same players, state, rooms and broadcasts, each frame encoded once per wire in
/// use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WireFormats {
    /// Native clients and JSON clients (the default).
    #[default]
    NativeAndJson,
    /// Native clients only: a client without the nodelink subprotocol is refused
    /// with HTTP 400 naming the subprotocol it should offer.
    NativeOnly,
    /// JSON clients only: a native client is refused with HTTP 400.
    JsonOnly,
}

impl WireFormats {
    pub(crate) fn accepts(self, wire: crate::wire::WireFormat) -> bool {
        use crate::wire::WireFormat;
        matches!(
            (self, wire),
            (Self::NativeAndJson, _)
                | (Self::NativeOnly, WireFormat::Native)
                | (Self::JsonOnly, WireFormat::Json)
        )
    }
}

/// A token bucket on each connection's inbound frames, applied in the connection's
/// own task before decoding, so a flood costs the world task nothing.
///
/// Frames beyond the rate are dropped; the first drop of a flood is reported to
/// `on_error`. A client that has had `disconnect_after` frames dropped in a row is
/// disconnected with "sending too fast".
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Sustained frames per second. Default 100.
    pub per_second: f64,
    /// Frames allowed in a burst above the rate. Default 200.
    pub burst: u32,
    /// Dropped frames in a row that disconnect the client. Default 500.
    pub disconnect_after: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: 100.0,
            burst: 200,
            disconnect_after: 500,
        }
    }
}

impl RateLimit {
    /// No limit (for trusted clients, such as load tests).
    #[must_use]
    pub fn unlimited() -> Self {
        Self {
            per_second: f64::INFINITY,
            burst: u32::MAX,
            disconnect_after: u32::MAX,
        }
    }

    /// Sets [`per_second`](Self::per_second) and [`burst`](Self::burst).
    #[must_use]
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            per_second,
            burst,
            ..Self::default()
        }
    }

    /// Sets [`disconnect_after`](Self::disconnect_after).
    #[must_use]
    pub fn disconnect_after(mut self, dropped: u32) -> Self {
        self.disconnect_after = dropped;
        self
    }
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
    /// The address to bind. Default `"0.0.0.0"`: every interface. Not used by a
    /// server mounted on a router (`Server::mount`, feature `axum`), which is
    /// served wherever the router is.
    pub host: String,
    /// The port to bind. Default `5000`; `0` picks a free port, which
    /// [`BoundServer::local_addr`](super::BoundServer::local_addr) reports. Not
    /// used by a server mounted on a router, like [`host`](Self::host).
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
    /// Which wire formats clients may speak; see [`WireFormats`]. Default: both,
    /// the native one and Python nodelink's JSON.
    pub wire_formats: WireFormats,
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
    /// The most players at once. Default 10,000. Beyond it, the handshake is
    /// refused with HTTP 503 "server full"; players already connected are not
    /// affected. Newcomers whose handshakes pass the check together while the last
    /// places go are admitted by the world task one at a time: any left over are
    /// closed right after the upgrade with 4007 "server full", so there are never
    /// more players than this.
    pub max_players: usize,
    /// The most simultaneous connections from one IP address. Default 64. Beyond it,
    /// the handshake is refused with HTTP 429. A connection counts from its accept
    /// until it ends, or until it is refused: a refused connection stops counting
    /// before its refusal is sent.
    pub max_connections_per_ip: usize,
    /// Rate limit on each connection's inbound frames; see [`RateLimit`].
    pub rate_limit: RateLimit,
    /// Undecodable frames a connection may send before it is closed with "too many
    /// invalid frames". Default 16. Each one is reported to `on_error` and ignored
    /// until then; `0` closes at the first.
    pub max_invalid_frames: u32,
    /// How long a player's send queue may stay full before the player is
    /// disconnected as a slow consumer. Default 5 s. While the queue is full, sync
    /// frames are skipped for that player (it gets one snapshot when the queue has
    /// room again); an event that does not fit disconnects it at once.
    pub slow_consumer_timeout: Duration,
    /// A connection from which nothing arrives (no frame, no pong) for this long is
    /// closed with "idle timeout" (4006), as a lost connection: a native client's
    /// player is paused for its client to resume (see
    /// [`resume_grace`](Self::resume_grace); `on_pause` runs), and a player that
    /// cannot resume (a JSON client's, or any when `resume_grace` is zero) is
    /// removed (`on_disconnect` runs). Checked once per tick. Default 20 s; keep it
    /// well above [`ping_interval`](Self::ping_interval), whose pongs keep healthy
    /// clients alive. `Duration::ZERO` disables it.
    pub idle_timeout: Duration,
    /// If set, browsers may only connect from these origins (the `Origin` header,
    /// e.g. `"https://game.example"`); others are refused with HTTP 403 (close code
    /// 4201 to a client that asked for refusals as close codes). Protects players
    /// against cross-site WebSocket hijacking when the server trusts cookies.
    /// Clients that send no `Origin` (native clients, not browsers) are not
    /// affected. Default `None`: any origin, so a page served from another origin
    /// than the server's may connect.
    ///
    /// An origin is a scheme, a host and a port as the browser writes them, with no
    /// path and no trailing slash, the port left out when it is the scheme's default;
    /// the header must equal one of these strings exactly. So
    /// `http://localhost:8080` and `http://127.0.0.1:8080` are two origins, as are
    /// `http://game.example` and `https://game.example`.
    ///
    /// ```
    /// use nodelink::server::ServerConfig;
    ///
    /// let config = ServerConfig::default().allow_origins([
    ///     "http://localhost:8080", // the page's dev server, opened as localhost
    ///     "http://127.0.0.1:8080", // the same server, opened by address
    ///     "https://game.example",  // the site in production
    /// ]);
    /// assert_eq!(config.allowed_origins.map(|origins| origins.len()), Some(3));
    /// ```
    pub allowed_origins: Option<Vec<String>>,
    /// The addresses of proxies in front of the server (gateways,
    /// `nodelink-relay --redis`) whose `X-Forwarded-For` header is believed: a
    /// connection from one of them counts as coming from the player's address the
    /// header names, for [`max_connections_per_ip`](Self::max_connections_per_ip),
    /// the refusal log and a player's `addr()`, and the proxy's own connections stop
    /// counting against its address (it carries many players). The player's
    /// address is the header's right-most entry that is not itself a trusted proxy;
    /// the port is unknown and given as 0. From any other address the header is
    /// ignored, so a player cannot pass for another by sending it. Default empty:
    /// trust no one.
    ///
    /// ```
    /// use std::net::IpAddr;
    /// use nodelink::server::ServerConfig;
    ///
    /// let gateway: IpAddr = "10.0.0.7".parse()?;
    /// let config = ServerConfig::default().trusted_proxies([gateway]);
    /// assert_eq!(config.trusted_proxies, [gateway]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Bytes a connection reads from its socket at a time. Default 512: client
    /// frames are small (a move is 23 bytes with its WebSocket header), and the
    /// WebSocket layer zeroes this much of its buffer before every read attempt, so
    /// a larger value costs CPU on every frame and memory on every connection; a
    /// frame larger than this is read in several reads.
    pub read_buffer_len: usize,
    /// Bytes the WebSocket layer gathers before writing, for what it still writes
    /// itself: its answers to a client's pings and close, and the close frame of
    /// a connection refused after the upgrade. Default 4 KiB. The game's frames do
    /// not pass through it: the match (while the connection's writer is idle) or
    /// the writer sends each from the payload its recipients share, with no copy
    /// per connection, so this buffer stays empty for most connections' whole
    /// life.
    pub write_buffer_len: usize,
    /// The kernel's send buffer for each connection, in bytes. Default 256 KiB;
    /// `None` leaves it to the OS (Linux grows it up to several MiB per socket).
    /// With the send queue, this bounds what a client that stops reading can
    /// hold, and so how soon it is found out. Not applied by a
    /// server mounted on a router, whose sockets belong to the router's listener.
    pub socket_send_buffer: Option<usize>,
    /// How long a WebSocket handshake may take, from the first byte to the upgrade
    /// (a client that sends its request slowly, byte by byte, is cut off here).
    /// Default 10 s. A server mounted on a router counts from the request's
    /// arrival (reading it is the HTTP server's work) and refuses with HTTP 503
    /// when admission and the upgrade take longer.
    pub handshake_timeout: Duration,
    /// After the server sends a close frame, how long it waits for the peer's reply
    /// before dropping the socket. Default 2 s.
    pub close_timeout: Duration,
    /// How long a native player whose connection was lost (reset, gone silent past
    /// the idle timeout) is held for its client to resume it. Default 30 s;
    /// `Duration::ZERO` disables resuming: a lost connection is a departure.
    ///
    /// Meanwhile the player is paused: it stays in the table, in its rooms, with its
    /// state (other clients see no departure; it still counts in the online count
    /// and towards [`max_players`](Self::max_players)), `on_pause` runs instead of
    /// `on_disconnect`, and events sent to it are kept (up to
    /// [`resume_buffer_len`](Self::resume_buffer_len)). A client that reconnects
    /// with the session's token gets the same player back (`on_resume`), the events
    /// it missed, and a snapshot. When the grace period ends unresumed, the player
    /// leaves (`on_disconnect`). A player that closed its connection itself, was
    /// kicked, or was dropped for misbehaving is gone at once; clients of the JSON
    /// wire cannot resume.
    pub resume_grace: Duration,
    /// Event frames kept per native player so that a resumed session misses none:
    /// the last ones sent, which a dropped connection may not have delivered, and
    /// those sent while the player is paused. Default 256. Past it while paused,
    /// the session ends (`on_disconnect`) and a resume is refused with 4009 "missed
    /// events no longer held"; a resume whose client missed more than this is
    /// refused alike. Each kept frame costs a reference to bytes shared with the
    /// frame's other recipients.
    pub resume_buffer_len: usize,
    /// How long [`ServerHandle::shutdown`](super::ServerHandle::shutdown) waits for
    /// connections to close before aborting them. Default 5 s. A process of a
    /// service drains first, for as long at most: its matches play on until
    /// their players have left.
    pub shutdown_timeout: Duration,
    /// Serve `wss://` with this certificate and key (feature `tls`). Default
    /// `None`: plain `ws://`.
    ///
    /// Each connection's TLS handshake comes first, then its upgrade request,
    /// both within [`handshake_timeout`](Self::handshake_timeout). A connection
    /// that fails the handshake (a plain `ws://` client, a client that does not
    /// trust the certificate, bytes that are not TLS) is closed and costs nothing
    /// else: no player was made, and its place in the per-IP count is given back.
    ///
    /// Not used by a server mounted on a router (feature `axum`): there, TLS is
    /// the HTTP server's job.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::TlsConfig>,
    /// The roots a `wss://` relay's certificate must chain to, when the server
    /// hosts through a relay ([`Server::relay`](super::Server::relay), feature
    /// `tls`). Default: the platform's; a relay with a self-signed certificate is
    /// trusted by giving its certificate here.
    #[cfg(feature = "tls")]
    pub relay_root_certificates: crate::tls::RootCertificates,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 5000,
            tick_rate: 20,
            delta_only: true,
            sync_scope: SyncScope::Everyone,
            wire_formats: WireFormats::NativeAndJson,
            ping_interval: Duration::from_secs(5),
            max_frame_len: crate::wire::DEFAULT_MAX_FRAME_LEN,
            send_queue_len: 256,
            event_queue_len: 4096,
            max_players: 10_000,
            max_connections_per_ip: 64,
            rate_limit: RateLimit::default(),
            max_invalid_frames: 16,
            slow_consumer_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(20),
            allowed_origins: None,
            trusted_proxies: Vec::new(),
            read_buffer_len: 512,
            write_buffer_len: 4 * 1024,
            socket_send_buffer: Some(256 * 1024),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
            resume_grace: Duration::from_secs(30),
            resume_buffer_len: 256,
            shutdown_timeout: Duration::from_secs(5),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            relay_root_certificates: crate::tls::RootCertificates::platform(),
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
    /// Sets [`wire_formats`](Self::wire_formats).
    wire_formats: WireFormats;
    /// Sets [`ping_interval`](Self::ping_interval).
    ping_interval: Duration;
    /// Sets [`max_frame_len`](Self::max_frame_len).
    max_frame_len: usize;
    /// Sets [`send_queue_len`](Self::send_queue_len).
    send_queue_len: usize;
    /// Sets [`event_queue_len`](Self::event_queue_len).
    event_queue_len: usize;
    /// Sets [`max_players`](Self::max_players).
    max_players: usize;
    /// Sets [`max_connections_per_ip`](Self::max_connections_per_ip).
    max_connections_per_ip: usize;
    /// Sets [`rate_limit`](Self::rate_limit).
    rate_limit: RateLimit;
    /// Sets [`max_invalid_frames`](Self::max_invalid_frames).
    max_invalid_frames: u32;
    /// Sets [`slow_consumer_timeout`](Self::slow_consumer_timeout).
    slow_consumer_timeout: Duration;
    /// Sets [`idle_timeout`](Self::idle_timeout).
    idle_timeout: Duration;
    /// Sets [`read_buffer_len`](Self::read_buffer_len).
    read_buffer_len: usize;
    /// Sets [`write_buffer_len`](Self::write_buffer_len).
    write_buffer_len: usize;
    /// Sets [`socket_send_buffer`](Self::socket_send_buffer).
    socket_send_buffer: Option<usize>;
    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    handshake_timeout: Duration;
    /// Sets [`close_timeout`](Self::close_timeout).
    close_timeout: Duration;
    /// Sets [`resume_grace`](Self::resume_grace).
    resume_grace: Duration;
    /// Sets [`resume_buffer_len`](Self::resume_buffer_len).
    resume_buffer_len: usize;
    /// Sets [`shutdown_timeout`](Self::shutdown_timeout).
    shutdown_timeout: Duration;
}

impl ServerConfig {
    /// Allows browsers from these origins only; see
    /// [`allowed_origins`](Self::allowed_origins).
    #[must_use]
    pub fn allow_origins<S: Into<String>>(mut self, origins: impl IntoIterator<Item = S>) -> Self {
        self.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Believes the `X-Forwarded-For` header of connections from these addresses;
    /// see [`trusted_proxies`](Self::trusted_proxies).
    #[must_use]
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = std::net::IpAddr>) -> Self {
        self.trusted_proxies = proxies.into_iter().collect();
        self
    }

    /// Serves `wss://` with this certificate and key; see [`tls`](Self::tls).
    ///
    /// ```
    /// use nodelink::server::ServerConfig;
    /// use nodelink::tls::TlsConfig;
    ///
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
    /// let config = ServerConfig::default()
    ///     .port(443)
    ///     .tls(TlsConfig::from_pem(cert.as_bytes(), key.as_bytes())?);
    /// assert!(config.tls.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, tls: crate::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets [`relay_root_certificates`](Self::relay_root_certificates): trust these
    /// roots for a `wss://` relay rather than the platform's.
    ///
    /// ```
    /// use nodelink::server::ServerConfig;
    /// use nodelink::tls::RootCertificates;
    ///
    /// let made = rcgen::generate_simple_self_signed(vec!["relay.example".to_owned()])?;
    /// let roots = RootCertificates::from_pem(made.cert.pem().as_bytes())?;
    /// let config = ServerConfig::default().relay_root_certificates(roots);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn relay_root_certificates(mut self, roots: crate::tls::RootCertificates) -> Self {
        self.relay_root_certificates = roots;
        self
    }

    pub(crate) fn tick_interval(&self) -> Duration {
        Duration::from_secs(1) / self.tick_rate.max(1)
    }
}
