//! The relay's settings: where it listens and every limit, each with its default
//! and what happens at it.

use std::time::Duration;

pub use nodelink::server::RateLimit;

/// A token bucket on failed joins from one address: `burst` failures at once, then
/// one more every `1 / per_second` seconds.
///
/// ```
/// use nodelink_relay::JoinRate;
///
/// let rate = JoinRate::new(0.2, 10); // 10 at once, then one every 5 s
/// assert_eq!(rate.burst, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct JoinRate {
    /// Failures forgiven per second, sustained. Default 0.2 (one every 5 s).
    pub per_second: f64,
    /// Failures allowed in a row before joins are refused. Default 10.
    pub burst: u32,
}

impl JoinRate {
    /// A rate of `per_second`, with bursts of `burst`.
    #[must_use]
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second, burst }
    }
}

impl Default for JoinRate {
    fn default() -> Self {
        Self {
            per_second: 0.2,
            burst: 10,
        }
    }
}

/// How a [`Relay`](crate::Relay) listens and bounds its resources.
///
/// Start from [`RelayConfig::default`] and change what you need, with the chained
/// setters or by assigning the public fields:
///
/// ```
/// use std::time::Duration;
/// use nodelink_relay::RelayConfig;
///
/// let config = RelayConfig::default()
///     .port(0)
///     .max_games(100)
///     .host_grace(Duration::from_secs(10));
/// assert_eq!(config.host, "0.0.0.0");
/// assert_eq!(config.code_len, 6);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RelayConfig {
    /// The address to bind. Default `"0.0.0.0"`: every interface.
    pub host: String,
    /// The port to bind. Default `9000`; `0` picks a free port, which
    /// [`BoundRelay::local_addr`](crate::BoundRelay::local_addr) reports.
    pub port: u16,
    /// Characters in a game code, from 4 to 16 (values outside are clamped).
    /// Default 6: 29.4 bits, enough with the default
    /// [`failed_joins`](Self::failed_joins) limit (see the crate docs); a relay
    /// with many more games, or facing attackers with many addresses, should use 7
    /// (34.3 bits) or 8 (39.3 bits).
    pub code_len: usize,
    /// Games (hosts, Python or native, a native one within its grace period too)
    /// at once, each match code a native host claimed counting as one more: this
    /// bounds the codes a guesser could find. Default 1,000. Beyond it, `/host` and
    /// `/link` are refused with HTTP 503 "relay full", and a host's `claim` is
    /// granted no more codes.
    pub max_games: usize,
    /// Match codes one native host may hold at once, besides its game's own code:
    /// one per match it hosts, and a few spare. Default 64. Beyond it, the host's
    /// `claim` is granted no more codes until it releases one (its server then
    /// refuses new matches with 503 "server full").
    pub max_codes_per_host: usize,
    /// Players in one game at once (whichever of its codes they joined with),
    /// counting those waiting for their host's answer. Default 256. Beyond it, joins are refused with HTTP 503 "game
    /// full"; the host's own limits apply on top.
    pub max_players_per_game: usize,
    /// Joins of one native host's game (by any of its codes) waiting for the host
    /// to accept or refuse them. Default 16. Beyond it, joins are refused with HTTP 503 "too many
    /// players waiting to join".
    pub max_pending_joins: usize,
    /// Open connections of every kind at once. Default 10,000. At the limit the
    /// relay stops accepting until one closes (new connections wait in the
    /// kernel's backlog).
    pub max_connections: usize,
    /// Open connections from one IP address. Default 64. Beyond it, the upgrade is
    /// refused with HTTP 429. A host's data connections stop counting once their
    /// token is checked (a host has one per player).
    pub max_connections_per_ip: usize,
    /// The largest message a player or a control link may send, in bytes (for the
    /// whole message and each WebSocket frame of it). Default 64 KiB, a nodelink
    /// server's own limit. A larger one closes the connection at once with 4003.
    pub max_frame_len: usize,
    /// The largest message a host may send on its Python host link or a data
    /// connection, in bytes. Default 1 MiB: a Python host's state sync carries
    /// every player's state in one message. A larger one closes that connection
    /// with 4003.
    pub max_host_frame_len: usize,
    /// Messages queued for one connection's socket. Default 256. What happens when
    /// it is full: see [`slow_consumer_timeout`](Self::slow_consumer_timeout).
    pub send_queue_len: usize,
    /// Bytes queued for one connection's socket. Default 1 MiB. A message larger
    /// than this still goes through, alone in the queue.
    pub send_queue_bytes: usize,
    /// How long a message may wait for room in one peer's full send queue before
    /// that peer is closed as a slow consumer (4004). Default 5 s, a nodelink
    /// server's own. Meanwhile the sender is not read, so TCP slows it down. A
    /// Python host's `__send__` and `__broadcast__` never wait: a player whose queue
    /// is full is closed at once, as a nodelink server closes a player that an
    /// event does not fit, so that one slow player never delays the others.
    pub slow_consumer_timeout: Duration,
    /// Messages per second from each player of a Python host, where the relay is
    /// the server's only defence. Default: nodelink's (100 a second, bursts of
    /// 200, closed with 4005 after 500 dropped in a row). A native host's players
    /// are limited by the host itself.
    pub player_rate_limit: RateLimit,
    /// Messages a connection may send that cannot be relayed (not JSON, not an
    /// object, a binary message to a Python host, an unknown control message)
    /// before it is closed with 4003. Default 16. Each is dropped and logged.
    pub max_invalid_frames: u32,
    /// Failed joins (an unknown game code, a wrong token) per address; past the
    /// bucket, every join from that address is refused with HTTP 429 until a
    /// token refills. Default 10 at once, then one every 5 s.
    pub failed_joins: JoinRate,
    /// Addresses whose failed joins are remembered. Default 65,536; past it, the
    /// refilled ones are forgotten first.
    pub failed_join_addresses: usize,
    /// How long a connection may take from its first byte to the WebSocket
    /// upgrade (a request sent slowly, byte by byte, is cut off here). Default 10 s.
    pub handshake_timeout: Duration,
    /// How long a native host has to accept or refuse a player. Default 10 s. After
    /// it, the player is refused with HTTP 504 and the host is told `gone`.
    pub accept_timeout: Duration,
    /// How long a native host's game outlives its control link: reconnecting with
    /// its token within this, the host keeps its code and its players. Default 30 s.
    pub host_grace: Duration,
    /// How often the relay sends a WebSocket ping on every connection. Default
    /// 10 s; `Duration::ZERO` disables pings and the idle timeout.
    pub ping_interval: Duration,
    /// A connection from which nothing arrives, not even a pong to the relay's
    /// pings, for this long is closed with 4006. Default 30 s; checked at each ping.
    pub idle_timeout: Duration,
    /// After sending a close frame, how long the relay waits for the answer before
    /// dropping the socket. Default 2 s.
    pub close_timeout: Duration,
    /// How long [`RelayHandle::shutdown`](crate::RelayHandle::shutdown) waits for
    /// connections to close before aborting them. Default 5 s.
    pub shutdown_timeout: Duration,
    /// The kernel's send buffer for each connection, in bytes. Default 256 KiB;
    /// `None` leaves it to the OS. With the send queue, this bounds what a peer that
    /// stops reading holds, and so how soon it is found out.
    pub socket_send_buffer: Option<usize>,
    /// Serve `wss://` with this certificate chain and key (made from PEM with
    /// [`TlsConfig::from_pem_files`](nodelink::tls::TlsConfig::from_pem_files)).
    /// Default `None`: plain `ws://`. The TLS handshake counts against
    /// [`handshake_timeout`](Self::handshake_timeout); a connection that fails it
    /// is closed and costs nothing else.
    pub tls: Option<nodelink::tls::TlsConfig>,
    /// The Redis of a service of game processes (`redis://host:port`, the URL the
    /// processes' [`ClusterConfig`](nodelink::cluster::ClusterConfig) names): with
    /// it the relay is also the service's **gateway**, routing every WebSocket
    /// upgrade that is not one of the relay's own paths to a game process by its
    /// query, and splicing it there (PROTOCOL.md, "Gateways"). Default `None`: a
    /// relay only. A gateway starts without Redis, and refuses those requests with
    /// 503 (4216) while it cannot read it.
    pub redis: Option<String>,
    /// The service's name in that Redis, as its processes'
    /// [`ClusterConfig::service`](nodelink::cluster::ClusterConfig::service) gives
    /// it. Default `"nodelink"`.
    pub service: String,
    /// How long a gateway waits for each answer from the service's directory
    /// before refusing the request with 503 (4216). Default 1 s.
    pub directory_timeout: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 9000,
            code_len: 6,
            max_games: 1_000,
            max_codes_per_host: 64,
            max_players_per_game: 256,
            max_pending_joins: 16,
            max_connections: 10_000,
            max_connections_per_ip: 64,
            max_frame_len: 64 * 1024,
            max_host_frame_len: 1024 * 1024,
            send_queue_len: 256,
            send_queue_bytes: 1024 * 1024,
            slow_consumer_timeout: Duration::from_secs(5),
            player_rate_limit: RateLimit::default(),
            max_invalid_frames: 16,
            failed_joins: JoinRate::default(),
            failed_join_addresses: 65_536,
            handshake_timeout: Duration::from_secs(10),
            accept_timeout: Duration::from_secs(10),
            host_grace: Duration::from_secs(30),
            ping_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(5),
            socket_send_buffer: Some(256 * 1024),
            tls: None,
            redis: None,
            service: "nodelink".to_owned(),
            directory_timeout: Duration::from_secs(1),
        }
    }
}

macro_rules! setters {
    ($($field:ident: $ty:ty;)*) => {
        impl RelayConfig {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                #[must_use]
                pub fn $field(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

impl RelayConfig {
    /// Sets [`host`](Self::host).
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Sets [`tls`](Self::tls): serve `wss://`.
    #[must_use]
    pub fn tls(mut self, tls: nodelink::tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets [`redis`](Self::redis): the relay is also the gateway of the service
    /// whose directory is this Redis.
    ///
    /// ```
    /// use nodelink_relay::RelayConfig;
    ///
    /// let config = RelayConfig::default()
    ///     .redis("redis://10.0.0.2:6379")
    ///     .service("arena");
    /// assert_eq!(config.redis.as_deref(), Some("redis://10.0.0.2:6379"));
    /// ```
    #[must_use]
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.redis = Some(url.into());
        self
    }

    /// Sets [`service`](Self::service).
    #[must_use]
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = name.into();
        self
    }

    /// The code length, clamped to what the relay can hand out.
    pub(crate) fn clamped_code_len(&self) -> usize {
        self.code_len.clamp(
            *crate::code::LEN_RANGE.start(),
            *crate::code::LEN_RANGE.end(),
        )
    }
}

setters! {
    port: u16;
    code_len: usize;
    max_games: usize;
    max_codes_per_host: usize;
    max_players_per_game: usize;
    max_pending_joins: usize;
    max_connections: usize;
    max_connections_per_ip: usize;
    max_frame_len: usize;
    max_host_frame_len: usize;
    send_queue_len: usize;
    send_queue_bytes: usize;
    slow_consumer_timeout: Duration;
    player_rate_limit: RateLimit;
    max_invalid_frames: u32;
    failed_joins: JoinRate;
    failed_join_addresses: usize;
    handshake_timeout: Duration;
    accept_timeout: Duration;
    host_grace: Duration;
    ping_interval: Duration;
    idle_timeout: Duration;
    close_timeout: Duration;
    shutdown_timeout: Duration;
    socket_send_buffer: Option<usize>;
    directory_timeout: Duration;
}
