//! A server mounted on an axum `Router`, on the same port as the site's pages.
//!
//! axum's HTTP server reads the request; admission is the stand-alone server's
//! (see `admission.rs`); the upgrade goes through hyper, answered here, and the
//! upgraded connection then plays exactly as one the stand-alone server accepted.
//! axum's own `ws` feature is not used: it would bring a second WebSocket
//! implementation next to the one every nodelink connection already runs on.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ::axum::body::Body;
use ::axum::extract::{ConnectInfo, Request, State};
use ::axum::handler::Handler;
use ::axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Version};
use ::axum::response::Response;
use ::axum::routing::{self, MethodRouter};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, watch};
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::server::error::RunError;
use crate::server::error::ServerError;
use crate::server::port::Io;
use crate::server::runtime::Feed;
use crate::server::serve::sealed::Accept;
use crate::server::serve::{BoxFuture, Serve};
use crate::server::transport::admission::{self, Admitted, IpCounts, IpSlot, Refusal};
use crate::server::transport::connection::{websocket_config, Context};
use crate::server::transport::refusal;
use crate::server::transport::request::{self, HandshakeRequest};
use crate::server::{Server, ServerConfig, ServerHandle};
use crate::wire::{RefusalKind, REFUSALS_SUBPROTOCOL};
use crate::Protocol;

/// Admitted upgrades waiting for [`Mounted::run`] to give them a task. Each is
/// taken at once while the server runs; the bound only matters before it runs.
const PENDING_UPGRADES: usize = 128;

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Prepares the server to be mounted on an axum `Router`, on the same port as
    /// the site's pages; nothing runs yet: a shortcut for a [`Mount`] and
    /// [`serve`](Self::serve) on it. See [`Mounted`]. Available with the `axum`
    /// feature.
    #[must_use]
    pub fn mount(self) -> Mounted<P, G> {
        Mounted {
            server: self,
            mount: Mount::new(),
        }
    }
}

/// The axum transport: a route for an axum `Router` (or several), whose upgrades
/// the server it is [served](Server::serve) by plays. Requests that arrive before
/// it is served wait for it, within the default handshake timeout. Available with
/// the `axum` feature.
///
/// ```no_run
/// use std::net::SocketAddr;
///
/// use axum::Router;
/// use nodelink::server::{Mount, Server, ServerConfig};
/// # use nodelink::{PlayerId, SyncState};
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// # pub struct Avatar { pub x: f32 }
/// # #[nodelink::events] pub enum ToServer { Ready }
/// # #[nodelink::events] pub enum ToClient { Joined { id: PlayerId } }
/// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// # pub struct Game;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::<Game>::new(ServerConfig::default());
/// let mount = Mount::new();
/// let app = Router::new().route("/play", mount.route()); // ws://host:8080/play
/// let handle = server.handle();
/// tokio::spawn(server.serve(mount));
///
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
///     .with_graceful_shutdown(async move {
///         let _ = tokio::signal::ctrl_c().await;
///         handle.shutdown(); // every player is closed with "server shutting down"
///     })
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct Mount {
    upgrades: mpsc::Receiver<Upgrade>,
    serving: watch::Sender<Option<Context>>,
    gateway: Arc<Gateway>,
}

impl fmt::Debug for Mount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mount").finish_non_exhaustive()
    }
}

impl Default for Mount {
    fn default() -> Self {
        Self::new()
    }
}

impl Mount {
    /// A route not served yet.
    #[must_use]
    pub fn new() -> Self {
        let (upgrades_tx, upgrades) = mpsc::channel(PENDING_UPGRADES);
        let (serving, context) = watch::channel(None);
        Self {
            upgrades,
            serving,
            gateway: Arc::new(Gateway {
                context,
                per_ip: IpCounts::default(),
                upgrades: upgrades_tx,
                reported_no_peer: AtomicBool::new(false),
            }),
        }
    }

    /// The game's route: a `GET` handler that upgrades admitted requests to
    /// nodelink connections. Add it to a router with `.route(path, ...)`; it may
    /// be added at several paths, or to several routers, which then share the
    /// server and its limits.
    pub fn route<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let gateway = self.gateway.clone();
        routing::get(move |request: Request| async move { gateway.answer(request).await })
    }

    /// The game's route sharing its path with a page: WebSocket upgrades go to
    /// the game (as with [`route`](Self::route)), other `GET` requests to `page`,
    /// any axum handler. Python nodelink's client connects to `ws://host:port/`, the
    /// site's root, where the site's home page usually is:
    ///
    /// ```no_run
    /// # use nodelink::server::Mount;
    /// let mount = Mount::new();
    /// let app: axum::Router = axum::Router::new()
    ///     .route("/", mount.route_or(|| async { "Welcome!" }));
    /// ```
    ///
    /// Other methods can be added to the result as to any `MethodRouter`
    /// (`.post(...)`).
    pub fn route_or<H, T, S>(&self, page: H) -> MethodRouter<S>
    where
        H: Handler<T, S>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        let gateway = self.gateway.clone();
        routing::get(move |State(state): State<S>, request: Request| async move {
            if wants_websocket(request.headers()) {
                gateway.answer(request).await
            } else {
                page.call(request, state).await
            }
        })
    }
}

impl Accept for Mount {
    fn accept(self: Box<Self>, mut feed: Feed) -> BoxFuture<Result<(), RunError>> {
        Box::pin(async move {
            let Mount {
                mut upgrades,
                serving,
                gateway,
            } = *self;
            #[cfg(feature = "tls")]
            if feed.context().config.tls.is_some() {
                tracing::warn!(
                    "ServerConfig::tls is not used by a mounted server: serve the router over TLS"
                );
            }
            serving.send_replace(Some(feed.context().clone()));
            // `gateway` keeps a sender alive, so the channel closes only here.
            while let Some(Some(upgrade)) = feed.next(upgrades.recv()).await {
                feed.spawn(upgrade.play(feed.context().clone()));
            }
            // Upgrades admitted just before the shutdown still get their close frame.
            upgrades.close();
            while let Some(upgrade) = upgrades.recv().await {
                feed.spawn(upgrade.play(feed.context().clone()));
            }
            serving.send_replace(None);
            drop(gateway);
            Ok(())
        })
    }
}

/// A nodelink server mounted on an axum `Router`: the game and the site's pages
/// on one port. Available with the `axum` feature.
///
/// [`route`](Self::route) is the game's route, to add to the router (or
/// [`route_or`](Self::route_or), to share a path with a page);
/// [`run`](Self::run) is the server itself (its world task), to spawn; the router
/// is served as usual, with the peer's address:
///
/// ```no_run
/// use std::net::SocketAddr;
///
/// use axum::routing::get;
/// use axum::Router;
/// use nodelink::server::{Server, ServerConfig};
/// # use nodelink::{PlayerId, Protocol, SyncState};
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// # pub struct Avatar { pub x: f32, pub y: f32 }
/// # #[nodelink::events]
/// # pub enum ToServer { Move { x: f32, y: f32 } }
/// # #[nodelink::events]
/// # pub enum ToClient { Joined { id: PlayerId } }
/// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// # pub struct Game;
///
/// # #[tokio::main]
/// # async fn main() -> std::io::Result<()> {
/// let mut server = Server::<Game>::new(ServerConfig::default());
/// server.on_move(|ctx, ToServerMove { x, y }| {
///     ctx.player().state_mut().set_x(x).set_y(y);
/// });
/// let mounted = server.mount();
/// let handle = mounted.handle();
/// let app = Router::new()
///     .route("/", get(|| async { "Welcome to the game" }))
///     .route("/play", mounted.route()); // ws://host:8080/play
/// tokio::spawn(mounted.run());
///
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
///     .with_graceful_shutdown(async move {
///         let _ = tokio::signal::ctrl_c().await;
///         handle.shutdown(); // every player is closed with "server shutting down"
///     })
///     .await
/// # }
/// ```
///
/// Every connection to the route passes the stand-alone server's admission, in
/// the same order and with the same answers: the per-IP cap (429), the WebSocket
/// upgrade itself (400), the origin allow-list (403), the protocol (400 with the
/// `x-nodelink-fingerprint` header on a fingerprint or wire-version mismatch;
/// the nodelink subprotocol picks the native wire, none the JSON wire, per
/// [`WireFormats`](crate::server::WireFormats)), the player cap (503), then the
/// authentication hook (401 or 403, its identity passed to the player). A client
/// that offers [`REFUSALS_SUBPROTOCOL`](crate::wire::REFUSALS_SUBPROTOCOL) (a
/// browser's, which cannot read these responses) is told the same refusals with
/// a close code after the upgrade, as by the stand-alone server, and each refusal
/// reaches [`Server::on_refusal`]. An admitted connection is then served as the
/// stand-alone server serves it: every limit of
/// [`ServerConfig`](crate::server::ServerConfig) applies.
///
/// What differs, because the HTTP server is axum's:
///
/// - [`host`](crate::server::ServerConfig::host) and [`port`](crate::server::ServerConfig::port)
///   are not used: the router's listener decides where the game is served.
/// - The peer's address comes from axum's `ConnectInfo<SocketAddr>`, which the
///   router has only when served with
///   `into_make_service_with_connect_info::<SocketAddr>()`. Without it the
///   per-IP cap cannot be kept, so every upgrade is refused with HTTP 500 (the
///   body says how to fix it), and [`ServerError::NoPeerAddress`] goes to
///   `on_error` once.
/// - [`handshake_timeout`](crate::server::ServerConfig::handshake_timeout) bounds what
///   follows the request's arrival: admission (with the authentication hook) and
///   the upgrade. Reading the request is the HTTP server's work, under its own
///   limits. A handshake past the timeout is refused with HTTP 503.
/// - Socket options are the listener's: set `TCP_NODELAY` there (a game's small
///   frames would otherwise wait for the peer's acknowledgements), e.g.
///   `listener.tap_io(|tcp| { let _ = tcp.set_nodelay(true); })` with axum's
///   `ListenerExt`. [`socket_send_buffer`](crate::server::ServerConfig::socket_send_buffer)
///   is not applied.
/// - After [`ServerHandle::shutdown`] the route refuses upgrades with HTTP 503;
///   the router and its pages go on serving until the HTTP server is stopped.
/// - TLS is the HTTP server's job, as it is for the site's pages: serve the
///   router over TLS (axum-server's rustls support, or a TLS-terminating proxy
///   such as Caddy or nginx in front), and clients connect to
///   `wss://host/play`. The config's `tls` (feature `tls`) is not used, and
///   `mount` logs a warning when it is set.
pub struct Mounted<P: Protocol, G = ()> {
    server: Server<P, G>,
    mount: Mount,
}

impl<P: Protocol, G> fmt::Debug for Mounted<P, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mounted")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol, G: Send + 'static> Mounted<P, G> {
    /// A handle to the server; see [`Server::handle`].
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.server.handle()
    }

    /// The game's route; see [`Mount::route`]. Requests that arrive before
    /// [`run`](Self::run) starts wait for it, within the handshake timeout.
    pub fn route<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.mount.route()
    }

    /// The game's route sharing its path with a page; see [`Mount::route_or`].
    pub fn route_or<H, T, S>(&self, page: H) -> MethodRouter<S>
    where
        H: Handler<T, S>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        self.mount.route_or(page)
    }

    /// The server served on its mount: [`Server::serve`], to add a
    /// graceful-shutdown future or another transport.
    pub fn serve(self) -> Serve<P, G> {
        self.server.serve(self.mount)
    }

    /// Runs the server: its matches, and the connections its route admits.
    /// Returns after [`ServerHandle::shutdown`], once every connection has closed
    /// (or the shutdown timeout passed and the rest were aborted).
    pub async fn run(self) {
        // A mount's transport never fails.
        let _ = self.serve().await;
    }
}

/// What the route shares between its requests and with the served [`Mount`].
struct Gateway {
    /// The serving server's, while it is served.
    context: watch::Receiver<Option<Context>>,
    per_ip: IpCounts,
    upgrades: mpsc::Sender<Upgrade>,
    reported_no_peer: AtomicBool,
}

/// A request whose `101 Switching Protocols` is on its way: admitted, or refused
/// to a client that asked to be told with a close code.
struct Upgrade {
    on_upgrade: OnUpgrade,
    addr: SocketAddr,
    verdict: Result<Admitted, Refusal>,
    slot: IpSlot,
    /// The end of the handshake timeout, counted from the request's arrival.
    deadline: Instant,
}

impl Gateway {
    /// Answers an upgrade request: `101 Switching Protocols`, with the connection
    /// handed to [`Mounted::run`], or the refusal.
    async fn answer(&self, request: Request) -> Response {
        let shutting_down = || {
            refused(&Refusal::new(
                RefusalKind::ShuttingDown,
                "server shutting down",
            ))
        };
        if self.upgrades.is_closed() {
            return shutting_down();
        }
        let mut serving = self.context.clone();
        let wait = ServerConfig::default().handshake_timeout;
        // A route that is not served yet waits for its server, a while.
        let context = match tokio::time::timeout(wait, serving.wait_for(Option::is_some)).await {
            Ok(Ok(context)) => context.clone(),
            _ => None,
        };
        match context {
            Some(context) => self.answer_served(request, &context).await,
            None => shutting_down(),
        }
    }

    /// [`answer`](Self::answer), once the mount is served.
    async fn answer_served(&self, mut request: Request, context: &Context) -> Response {
        let Some(&ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
            self.report_no_peer(context);
            return refused(&Refusal::http(500, ServerError::NoPeerAddress.to_string()));
        };
        // A WebSocket upgrade is an HTTP/1.1 GET (RFC 6455, 4.1); `get` lets HEAD in.
        if request.method() != Method::GET || request.version() != Version::HTTP_11 {
            return self.refuse(
                context,
                addr,
                Refusal::new(RefusalKind::NotAnUpgrade, "not a WebSocket upgrade"),
            );
        }
        if self.upgrades.is_closed() {
            return self.refuse(
                context,
                addr,
                Refusal::new(RefusalKind::ShuttingDown, "server shutting down"),
            );
        }
        let deadline = Instant::now() + context.config.handshake_timeout;
        let handshake = handshake_request(&request, addr);
        // Behind a trusted proxy, the player's address is the one that counts.
        let addr = request::forwarded_peer(&handshake, &context.config.trusted_proxies);
        let handshake = handshake.with_peer(addr);
        let slot = IpSlot::take(&self.per_ip, addr.ip());
        let on_upgrade = hyper::upgrade::on(&mut request);
        let wants_close = refusal::wants_close(&handshake);
        let key = request.headers().get(header::SEC_WEBSOCKET_KEY).cloned();
        let admitting = async {
            let verdict = match admission::admit(context, handshake, &slot).await {
                Err(refused) if !(wants_close && refusal::has_close_code(&refused)) => {
                    return Err(refused)
                }
                verdict => verdict,
            };
            let permit = self.upgrades.reserve().await;
            let shutting_down = || Refusal::new(RefusalKind::ShuttingDown, "server shutting down");
            let permit = permit.map_err(|_| shutting_down())?;
            Ok::<_, Refusal>((verdict, permit))
        };
        let (verdict, permit) = match timeout_at(deadline, admitting).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(refused)) => return self.refuse(context, addr, refused),
            Err(_) => {
                let timed_out = Refusal::new(RefusalKind::HandshakeTimeout, "handshake timed out");
                return self.refuse(context, addr, timed_out);
            }
        };
        // Refused, but told with a close code once upgraded.
        if let Err(refused) = &verdict {
            context.refusals.report(addr, refused);
        }
        let subprotocol = match &verdict {
            Ok(admitted) => admitted.subprotocol.as_deref(),
            Err(_) => Some(REFUSALS_SUBPROTOCOL),
        };
        // Admission checked the key is there.
        let accept = derive_accept_key(key.as_ref().map_or(&[][..], HeaderValue::as_bytes));
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        if let Some(Ok(protocol)) = subprotocol.map(HeaderValue::from_str) {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        permit.send(Upgrade {
            on_upgrade,
            addr,
            verdict,
            slot,
            deadline,
        });
        response
    }

    /// Reports a refusal and answers it in HTTP.
    fn refuse(&self, context: &Context, addr: SocketAddr, refusal: Refusal) -> Response {
        context.refusals.report(addr, &refusal);
        refused(&refusal)
    }

    /// Tells `on_error`, once, that the router is served without peer addresses.
    fn report_no_peer(&self, context: &Context) {
        if self.reported_no_peer.swap(true, Ordering::Relaxed) {
            return;
        }
        context.matchmaker.report(ServerError::NoPeerAddress);
    }
}

impl Upgrade {
    /// Waits for hyper to hand over the connection once the 101 is sent, then
    /// plays it as any other.
    async fn play(self, context: Context) {
        let Upgrade {
            on_upgrade,
            addr,
            verdict,
            slot,
            deadline,
        } = self;
        let upgraded = match timeout_at(deadline, on_upgrade).await {
            Ok(Ok(upgraded)) => upgraded,
            Ok(Err(error)) => {
                tracing::debug!(%addr, "upgrade failed: {error}");
                return;
            }
            Err(_) => {
                tracing::debug!(%addr, "upgrade timed out");
                return;
            }
        };
        let config = websocket_config(&context.config);
        let io: Io = Box::new(TokioIo::new(upgraded));
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        match verdict {
            Ok(admitted) => {
                admitted
                    .play(socket, addr, context.config.clone(), Role::Server)
                    .await
            }
            // Within the handshake timeout, the place in the per-IP count held.
            Err(refused) => {
                let closing = refusal::close(socket, &refused, context.config.close_timeout);
                let _ = timeout_at(deadline, closing).await;
            }
        }
        drop(slot);
    }
}

/// Whether a request asks for a WebSocket: a malformed upgrade still goes to the
/// game, which says what is wrong with it.
fn wants_websocket(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|value| value.trim().eq_ignore_ascii_case("websocket"))
}

/// What admission (and the authentication hook) sees of an HTTP request.
fn handshake_request(request: &Request, peer: SocketAddr) -> HandshakeRequest {
    let uri = request.uri();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    HandshakeRequest::new(
        uri.path().to_owned(),
        uri.query().map(str::to_owned),
        headers,
        peer,
    )
}

fn refused(refusal: &Refusal) -> Response {
    refusal.response().map(Body::from)
}
