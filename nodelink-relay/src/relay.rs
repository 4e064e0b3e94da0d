//! The relay: its listener, the path every connection takes from its first byte
//! to its handler, its handle, and its shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;

use crate::code::GameCode;
use crate::config::RelayConfig;
use crate::directory::{too_many_failed_joins, Game, IpSlot, Shared};
use crate::http::{read_request, Refusal};
use crate::{gateway, native, python};

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the config.
        addr: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The async runtime could not be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Who hosts a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostKind {
    /// A Python nodelink `Server(relay_url=…)`, on `/host`.
    Python,
    /// A native host, on `/link`.
    Native,
}

/// A game the relay holds, as [`RelayHandle::games`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GameInfo {
    /// The game's code.
    pub code: String,
    /// Who hosts it.
    pub host: HostKind,
    /// Whether the host's link is up (`false` for a native host within its grace
    /// period).
    pub host_connected: bool,
    /// Players connected to the game.
    pub players: usize,
    /// Players waiting for a native host's answer.
    pub waiting: usize,
    /// The codes a native host claimed for its matches (sorted), each joining
    /// this game as its own code does; the game's players and limits are shared
    /// by all of them.
    pub match_codes: Vec<String>,
}

/// A relay for nodelink games: hosts connect out to it and get a game code, and
/// players join with the code.
///
/// ```no_run
/// use nodelink_relay::{Relay, RelayConfig};
///
/// # async fn serve() -> Result<(), nodelink_relay::RelayError> {
/// let relay = Relay::new(RelayConfig::default().port(9000)).bind().await?;
/// println!("relay on {}", relay.local_addr());
/// relay.run().await; // until `RelayHandle::shutdown`
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Relay {
    config: RelayConfig,
}

impl Relay {
    /// A relay with these settings.
    #[must_use]
    pub fn new(config: RelayConfig) -> Self {
        Self { config }
    }

    /// Binds the listening socket, so the address is known before serving.
    ///
    /// # Errors
    /// [`RelayError::Bind`] when the address cannot be bound.
    pub async fn bind(self) -> Result<BoundRelay, RelayError> {
        let addr = format!("{}:{}", self.config.host, self.config.port);
        let bind_error = |source| RelayError::Bind {
            addr: addr.clone(),
            source,
        };
        let listener = nodelink::server::listen(&addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        Ok(BoundRelay {
            listener,
            local_addr,
            shared: Shared::new(self.config),
        })
    }

    /// Binds and serves until [`RelayHandle::shutdown`].
    ///
    /// # Errors
    /// [`RelayError::Bind`] when the address cannot be bound.
    pub async fn run(self) -> Result<(), RelayError> {
        self.bind().await?.run().await;
        Ok(())
    }
}

/// A relay whose socket is bound: its address is known; [`run`](Self::run) serves.
#[derive(Debug)]
pub struct BoundRelay {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl BoundRelay {
    /// The bound address (with the real port when the config asked for port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle to the relay.
    #[must_use]
    pub fn handle(&self) -> RelayHandle {
        RelayHandle {
            shared: self.shared.clone(),
        }
    }

    /// Serves until [`RelayHandle::shutdown`]; returns once every connection has
    /// closed (or the shutdown timeout passed and the rest were aborted).
    pub async fn run(self) {
        let Self {
            listener, shared, ..
        } = self;
        let config = &shared.config;
        let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
        let mut connections = JoinSet::new();
        let mut stopping = shared.stopping();
        'serving: loop {
            // At the connection limit, waiting here leaves newcomers in the
            // kernel's backlog until a connection closes.
            let next = async {
                let permit = permits.clone().acquire_owned().await;
                (permit, listener.accept().await)
            };
            tokio::pin!(next);
            let (permit, accepted) = loop {
                tokio::select! {
                    next = &mut next => break next,
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                    // An error means every handle is gone with the relay: stopping too.
                    _ = stopping.wait_for(|stopping| *stopping) => break 'serving,
                }
            };
            let Ok(permit) = permit else { break };
            match accepted {
                Ok((tcp, peer)) => {
                    shared
                        .counters
                        .connections
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    prepare(&tcp, config);
                    let slot = IpSlot::take(&shared, peer.ip());
                    let shared = shared.clone();
                    connections.spawn(async move {
                        match shared.config.tls.clone() {
                            None => serve_connection(tcp, peer, shared, slot).await,
                            Some(tls) => {
                                // The TLS handshake is part of the upgrade's time.
                                let securing =
                                    timeout(shared.config.handshake_timeout, tls.accept(tcp));
                                match securing.await {
                                    Ok(Ok(stream)) => {
                                        serve_connection(stream, peer, shared, slot).await
                                    }
                                    Ok(Err(error)) => {
                                        tracing::debug!(%peer, "TLS handshake failed: {error}")
                                    }
                                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                                }
                            }
                        }
                        drop(permit);
                    });
                }
                // Running out of file descriptors and the like: keep serving the
                // connections already open.
                Err(error) => tracing::warn!("accept failed: {error}"),
            }
        }
        drop(listener);
        let drained = timeout(config.shutdown_timeout, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            connections.abort_all();
            while connections.join_next().await.is_some() {}
        }
    }
}

fn prepare(tcp: &TcpStream, config: &RelayConfig) {
    let _ = tcp.set_nodelay(true);
    if let Some(bytes) = config.socket_send_buffer {
        let _ = socket2::SockRef::from(tcp).set_send_buffer_size(bytes);
    }
}

/// A handle to a running relay: cheap to clone, usable from any task or thread.
///
/// ```no_run
/// use nodelink_relay::{Relay, RelayConfig};
///
/// # async fn serve() -> Result<(), nodelink_relay::RelayError> {
/// let relay = Relay::new(RelayConfig::default().port(0)).bind().await?;
/// let handle = relay.handle();
/// let running = tokio::spawn(relay.run());
/// for game in handle.games() {
///     println!("{}: {} players", game.code, game.players);
/// }
/// handle.shutdown();
/// running.await.expect("the relay's task");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RelayHandle {
    shared: Arc<Shared>,
}

impl RelayHandle {
    /// Stops accepting, closes every connection with "relay shutting down" (4103)
    /// and refuses waiting players with 503; [`BoundRelay::run`] returns once they
    /// are closed.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }

    /// Every game the relay holds now.
    #[must_use]
    pub fn games(&self) -> Vec<GameInfo> {
        self.shared.games()
    }

    /// The relay's metrics (and, with `--redis`, its gateway's) in the
    /// OpenMetrics text format Prometheus scrapes
    /// (`nodelink::server::metrics::CONTENT_TYPE`); `nodelink-relay --metrics
    /// ADDR --metrics-token TOKEN` serves them. The series:
    ///
    /// | metric | type | labels |
    /// |---|---|---|
    /// | `nodelink_relay_games`, `nodelink_relay_players`, `nodelink_relay_waiting_players` | gauge | |
    /// | `nodelink_relay_connections_total` | counter | (connections accepted) |
    /// | `nodelink_relay_refusals_total` | counter | `status` (the HTTP status) |
    /// | `nodelink_relay_messages_total`, `nodelink_relay_bytes_total` | counter | `direction` (`to_game`, `to_players`) |
    /// | `nodelink_gateway_requests_total` (a gateway's) | counter | `outcome` (`spliced`, `listing`) |
    ///
    /// ```
    /// use nodelink_relay::{Relay, RelayConfig};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), nodelink_relay::RelayError> {
    /// let relay = Relay::new(RelayConfig::default().host("127.0.0.1").port(0)).bind().await?;
    /// let text = relay.handle().metrics_text();
    /// assert!(text.contains("nodelink_relay_games 0"));
    /// assert!(text.ends_with("# EOF\n"));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn metrics_text(&self) -> String {
        let shared = &self.shared;
        shared
            .counters
            .text(shared.games(), shared.gateway.is_some())
    }
}

/// Where a request goes.
enum Route {
    PythonHost,
    Join(String),
    Link,
    Accept(String),
    Unknown,
}

fn route(path: &str) -> Route {
    match path {
        "/host" => Route::PythonHost,
        "/link" => Route::Link,
        _ => {
            if let Some(code) = path.strip_prefix("/join/") {
                Route::Join(code.to_owned())
            } else if let Some(cid) = path.strip_prefix("/link/accept/") {
                Route::Accept(cid.to_owned())
            } else {
                Route::Unknown
            }
        }
    }
}

/// Serves one connection, from its first byte to its end. Generic over the
/// stream, so that a TLS acceptor can hand its streams here as they are.
pub(crate) async fn serve_connection<S>(
    mut stream: S,
    peer: SocketAddr,
    shared: Arc<Shared>,
    slot: IpSlot,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = &shared.config;
    let mut stopping = shared.stopping();
    let reading = timeout(config.handshake_timeout, read_request(&mut stream));
    let request = tokio::select! {
        read = reading => read.ok().flatten(),
        _ = stopping.wait_for(|stopping| *stopping) => None,
    };
    let Some(request) = request else { return };
    let route = route(&request.path);
    // A data connection proves itself with its token instead: a host has one per
    // player, all from its address.
    if slot.over_limit() && !matches!(route, Route::Accept(_)) {
        // Given back before the refusal is sent, so a client that retries at once
        // does not find its own refused connection counted.
        drop(slot);
        let refusal = Refusal::new(429, "too many connections from your address");
        return refusal.send(&mut stream, &shared.counters).await;
    }
    if let Err(refusal) = request.check_upgrade() {
        return refusal.send(&mut stream, &shared.counters).await;
    }
    match route {
        Route::PythonHost => python::host(stream, request, peer, shared.clone()).await,
        Route::Link => native::control(stream, request, peer, shared.clone()).await,
        Route::Accept(cid) => {
            native::accept(stream, request, peer, shared.clone(), cid, slot).await
        }
        Route::Join(code) => join(stream, request, peer, &shared, &code).await,
        Route::Unknown if shared.gateway.is_some() => {
            gateway::serve(stream, request, peer, shared.clone()).await;
        }
        Route::Unknown => {
            Refusal::new(404, "not found")
                .send(&mut stream, &shared.counters)
                .await
        }
    }
}

/// A player's join: checked against the failed-join limit and the game's, then
/// served by its host's kind.
async fn join<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: crate::http::Request,
    peer: SocketAddr,
    shared: &Arc<Shared>,
    code: &str,
) {
    let ip = peer.ip();
    if !shared.join_allowed(ip) {
        return too_many_failed_joins()
            .send(&mut stream, &shared.counters)
            .await;
    }
    let game =
        GameCode::parse(code, shared.config.clamped_code_len()).and_then(|code| shared.game(&code));
    let Some(game) = game else {
        shared.join_failed(ip);
        return Refusal::new(404, "unknown game code")
            .send(&mut stream, &shared.counters)
            .await;
    };
    let max = shared.config.max_players_per_game;
    let seat = match &game {
        Game::Python(game) => game.seat(max),
        Game::Native(game) => game.seat(max),
    };
    let Some(seat) = seat else {
        return Refusal::new(503, "game full")
            .send(&mut stream, &shared.counters)
            .await;
    };
    let shared = shared.clone();
    match game {
        Game::Python(game) => python::join(stream, request, peer, shared, game, seat).await,
        Game::Native(game) => native::join(stream, request, peer, shared, game, seat).await,
    }
}

/// Serves a stream that is not the listener's own (a test's in-memory pipe, as a
/// TLS stream would be): the path a TLS acceptor takes.
#[cfg(test)]
pub(crate) async fn serve_stream<S>(stream: S, peer: SocketAddr, handle: RelayHandle)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let slot = IpSlot::take(&handle.shared, peer.ip());
    serve_connection(stream, peer, handle.shared, slot).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    /// The accept path takes any stream: here an in-memory pipe, as a TLS stream
    /// would be.
    #[tokio::test]
    async fn a_python_host_registers_over_any_stream() {
        let relay = Relay::new(RelayConfig::default().host("127.0.0.1").port(0))
            .bind()
            .await
            .expect("binds");
        let handle = relay.handle();
        let (client, server) = tokio::io::duplex(64 * 1024);
        let peer: SocketAddr = "192.0.2.1:50000".parse().unwrap();
        let serving = tokio::spawn(serve_stream(server, peer, handle.clone()));
        let (mut host, _) = tokio_tungstenite::client_async("ws://relay/host", client)
            .await
            .expect("upgrades");
        let Some(Ok(Message::Text(registered))) = host.next().await else {
            panic!("expected the registration");
        };
        let registered: serde_json::Value = serde_json::from_str(&registered).unwrap();
        assert_eq!(registered["event"], "registered");
        let code = registered["data"]["code"].as_str().unwrap().to_owned();
        assert_eq!(handle.games()[0].code, code);
        host.send(Message::Close(None)).await.unwrap();
        serving.await.unwrap();
        assert!(handle.games().is_empty(), "the game ended with its host");
    }
}
