//! The server: accepts connections, owns the game state in one world task, runs
//! typed handlers and syncs every player's state at the tick rate.
//!
//! ```no_run
//! use nodelink::server::{Server, ServerConfig};
//! # use nodelink::{PlayerId, Protocol, SyncState};
//! # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
//! # pub struct Avatar { pub x: f32, pub y: f32 }
//! # #[nodelink::events]
//! # pub enum ToServer { Move { x: f32, y: f32 } }
//! # #[nodelink::events]
//! # pub enum ToClient { Joined { id: PlayerId } }
//! # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
//! # pub struct Game;
//!
//! let mut server = Server::<Game>::new(ServerConfig::default().port(5000));
//! server.on_connect(|ctx| {
//!     let id = ctx.id();
//!     ctx.broadcast(ToClient::Joined { id });
//! });
//! // The event's fields arrive by name: `ToServerMove`, generated from `ToServer`.
//! server.on_move(|ctx, ToServerMove { x, y }| {
//!     ctx.player().state_mut().set_x(x).set_y(y);
//! });
//! server.start()?; // blocks until Ctrl-C
//! # Ok::<(), nodelink::server::RunError>(())
//! ```
//!
//! With the `axum` feature, `Server::mount` serves it from an axum `Router`
//! instead of its own listener: see `Mounted`.
//!
//! Data flow: each connection has a reader task that decodes frames off the world
//! task and a writer task that drains a bounded queue; the world task owns the
//! players, runs handlers one at a time, and encodes each broadcast and each tick's
//! sync frame once, sharing the bytes with every recipient. While a plain TCP
//! connection's writer has nothing queued, the world task writes its frames to
//! the socket itself, sparing the writer's wake-up.

mod config;
mod direct_write;
mod error;
mod game;
mod kind;
mod link;
mod log_budget;
pub(crate) mod matchmaking;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "axum")]
pub mod monitor;
mod outbound;
mod port;
pub(crate) mod runtime;
pub(crate) mod serve;
pub(crate) mod service;
mod transport;

use std::collections::HashMap;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use tokio::sync::mpsc;

pub use crate::wire::WireFormat;
pub use config::{RateLimit, ServerConfig, SyncScope, WireFormats};
pub use error::{RunError, SendError, ServerError, ServerStopped};
pub use game::{
    EntitiesMut, EntitySight, EventCtx, FieldSight, Player, PlayerInfo, PlayerSight, PlayersMut,
    Room, RoomMut, ServerCtx, ServerHandle, SyncStats,
};
pub use kind::MatchKind;
pub use matchmaking::{MatchInfo, ProcessStats};
pub use serve::{Serve, Transport};
#[cfg(feature = "axum")]
pub use transport::axum::{Mount, Mounted};
pub use transport::listener::{listen, BoundServer, LISTEN_BACKLOG};
pub use transport::refusal::RefusedConnection;
pub use transport::relay::{Relay, RelayedServer};
pub use transport::request::{HandshakeRequest, Rejection};

use crate::handler::{
    BoxedHandler, BoxedMiddleware, HandlerError, HandlerResult, Route, RouteHandler,
    RouteMiddleware, Verdict,
};
use crate::Protocol;
use game::Command;
use kind::KindBuilder;
use matchmaking::kinds::KindRuntime;
use matchmaking::{Directory, Kind, Matchmaker, Process};
use runtime::Spawner;
use transport::connection::Context;
use transport::request::Authenticator;

/// A nodelink server for the protocol `P`, with an optional game value `G` that
/// handlers reach through [`EventCtx::game`].
///
/// Register handlers, then [`run`](Self::run) it (async), [`start`](Self::start) it
/// (blocking, stops on Ctrl-C), or [`bind`](Self::bind) it first to learn the port.
/// With the `axum` feature, `mount` puts it on an axum `Router` instead, on the
/// same port as the site's pages.
///
/// A server is a [`MatchKind`] (its handlers, registered on it, are the kind's;
/// see there for `on_connect`, `on_tick`, …) that runs one match from the start,
/// its default match, where every client that names no match plays: a game with
/// one match writes no matchmaking code. It can host more: of its own kind (set
/// [`game_factory`](MatchKind::game_factory) when it has a game value) and of
/// other kinds, with their own protocols ([`kind`](Self::kind)), which clients
/// create, join by code, find and list.
///
/// Per-event handlers come from the protocol's events enum: for `enum ToServer`,
/// import the generated `OnToServer` trait and call `server.on_move(|ctx, event| …)`,
/// where `event` is the variant's fields by name (`ToServerMove { x, y }`).
///
/// Handlers run one at a time on the server's world task, inside its Tokio runtime
/// (the one [`run`](Self::run) is awaited in, or the one [`start`](Self::start)
/// builds), so `tokio::spawn` works in them; see [`ServerCtx`].
pub struct Server<P: Protocol, G = ()> {
    config: ServerConfig,
    /// The server's own kind, whose handlers are registered on the server.
    own: MatchKind<P, G>,
    /// The default match's game value.
    game: G,
    kinds: Vec<Box<dyn KindBuilder>>,
    authenticate: Option<Authenticator>,
    on_refusal: Option<transport::refusal::RefusalHook>,
    handle: ServerHandle<P>,
    commands: mpsc::UnboundedReceiver<Command<P>>,
}

impl<P: Protocol, G> std::fmt::Debug for Server<P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("kind", &self.own.name)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Server<P, ()> {
    /// A server with no game value: every match of its kind, the default one and
    /// any created on request, is made the same way.
    #[must_use]
    pub fn new(config: ServerConfig) -> Self {
        let mut server = Self::with_game(config, ());
        server.own.game_factory(|_| ());
        server
    }
}

impl<P: Protocol, G> Deref for Server<P, G> {
    type Target = MatchKind<P, G>;

    fn deref(&self) -> &MatchKind<P, G> {
        &self.own
    }
}

impl<P: Protocol, G> DerefMut for Server<P, G> {
    fn deref_mut(&mut self) -> &mut MatchKind<P, G> {
        &mut self.own
    }
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// A server whose default match's handlers share `game`, owned by the match's
    /// task: handlers get `&mut` access to it through [`EventCtx::game`], with no
    /// locks. Other matches of the server's kind get theirs from
    /// [`game_factory`](MatchKind::game_factory); without one, clients cannot create
    /// them.
    pub fn with_game(config: ServerConfig, game: G) -> Self {
        let shutdown = Arc::new(tokio::sync::watch::Sender::new(false));
        let (handle, commands) = ServerHandle::new(shutdown, Arc::default());
        Self {
            config,
            own: MatchKind::without_games(),
            game,
            kinds: Vec::new(),
            authenticate: None,
            on_refusal: None,
            handle,
            commands,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A handle for acting on the server's default match (and on the server: its
    /// matches, its shutdown) from other tasks and threads; it works before the
    /// server runs (commands wait) and after (they fail once it stops).
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.handle.clone()
    }

    /// Hosts matches of another kind too, with its own protocol and handlers:
    /// clients name it (its [`name`](MatchKind::name)) to create or find one, and
    /// join its matches by code. Two kinds of a server cannot share a name: a
    /// second one with a name already taken is not hosted (and says so in the
    /// log when the server starts).
    ///
    /// ```
    /// use nodelink::server::{MatchKind, Server, ServerConfig};
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)] pub struct Lobby;
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)] pub struct Arena;
    /// let mut arena = MatchKind::<Arena>::new();
    /// arena.max_players(4);
    ///
    /// let mut server = Server::<Lobby>::new(ServerConfig::default());
    /// server.kind(arena); // clients create, find and join "arena" matches
    /// ```
    pub fn kind<Q: Protocol, H: Send + 'static>(&mut self, kind: MatchKind<Q, H>) -> &mut Self {
        self.kinds.push(Box::new(kind));
        self
    }

    /// Checks every connection before a player is created: the hook sees the
    /// upgrade request (path, query, headers, peer address) and either returns an
    /// identity, which handlers read with [`Player::identity`], or a [`Rejection`],
    /// sent as HTTP 401 or 403 with its reason. It may be `async` (look a token up
    /// in a database); it runs in the connection's own task, within the handshake
    /// timeout, and only for clients that passed the cheaper checks (origin,
    /// protocol, capacity). It runs before the connection takes a place in a
    /// match, and sees which it asks for in the request's query.
    pub fn authenticate<F, Fut, I>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(HandshakeRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<I, Rejection>> + Send + 'static,
        I: Send + Sync + 'static,
    {
        self.authenticate = Some(transport::request::authenticator(hook));
        self
    }

    /// The server made ready to serve: its matchmaker with every kind, what
    /// connection tasks need, and the default match, to start (a task is spawned
    /// only once the server runs); its match codes kept in `directory` (a relayed
    /// server's come from its relay).
    pub(crate) fn into_runtime_with(
        self,
        directory: Directory,
        service: Option<Arc<dyn service::ServiceLink>>,
    ) -> Started {
        let Server {
            config,
            own,
            game,
            kinds,
            authenticate,
            on_refusal,
            handle,
            commands,
        } = self;
        let process = Arc::new(Process {
            directory,
            online: Arc::new(AtomicUsize::new(0)),
            max_players: config.max_players,
            spawner: Spawner::default(),
            shutdown: handle.shutdown.clone(),
            draining: tokio::sync::watch::Sender::new(false),
            link: handle.process.clone(),
            counters: Arc::default(),
            service,
        });
        let default_kind = own.name.clone();
        let runtime = KindRuntime::new(own, &config, process.clone());
        let start_default = runtime.prepare_default(game, handle.clone(), commands);
        let mut by_name: HashMap<String, Arc<dyn Kind>> = HashMap::new();
        by_name.insert(default_kind.clone(), runtime);
        for kind in kinds {
            let name = kind.name().to_owned();
            if by_name.contains_key(&name) {
                tracing::error!("two kinds are named `{name}`: only the first is hosted");
                continue;
            }
            by_name.insert(name, kind.build(&config, process.clone()));
        }
        let matchmaker = Arc::new(Matchmaker::new(by_name, default_kind, process.clone()));
        let _ = handle.process.set(Arc::downgrade(&matchmaker));
        let context = Context {
            config: Arc::new(config),
            matchmaker,
            authenticate,
            refusals: Arc::new(transport::refusal::Refusals::new(
                on_refusal,
                process.counters.clone(),
            )),
        };
        Started {
            context,
            spawner: process.spawner.clone(),
            shutdown: handle.shutdown.subscribe(),
            start_default,
        }
    }
}

/// The server routes its events to its own kind, so that handler types written
/// for `Server<P, G>` (an exhaustive `ToServerHandler<Server<Game>>`) keep working.
impl<P: Protocol, G: Send + 'static> Route<P::ToServer> for Server<P, G> {
    type Ctx<'a> = EventCtx<'a, P, G>;

    fn route(&mut self, index: usize, handler: BoxedHandler<Self, P::ToServer>) {
        self.own.route(index, Box::new(ViaServer(handler)));
    }

    fn route_all(&mut self, handler: BoxedHandler<Self, P::ToServer>) {
        self.own.route_all(Box::new(ViaServer(handler)));
    }

    fn route_middleware(&mut self, index: usize, middleware: BoxedMiddleware<Self, P::ToServer>) {
        self.own
            .route_middleware(index, Box::new(ViaServer(middleware)));
    }
}

/// A handler registered on a server, as its kind keeps it: the same context.
struct ViaServer<H>(H);

impl<P: Protocol, G: Send + 'static> RouteHandler<MatchKind<P, G>, P::ToServer>
    for ViaServer<BoxedHandler<Server<P, G>, P::ToServer>>
{
    fn call(&mut self, ctx: &mut EventCtx<'_, P, G>, event: P::ToServer) -> HandlerResult {
        self.0.call(ctx, event)
    }

    fn clone_box(&self) -> BoxedHandler<MatchKind<P, G>, P::ToServer> {
        Box::new(ViaServer(self.0.clone_box()))
    }
}

impl<P: Protocol, G: Send + 'static> RouteMiddleware<MatchKind<P, G>, P::ToServer>
    for ViaServer<BoxedMiddleware<Server<P, G>, P::ToServer>>
{
    fn call(
        &mut self,
        ctx: &mut EventCtx<'_, P, G>,
        event: &mut P::ToServer,
    ) -> Result<Verdict, HandlerError> {
        self.0.call(ctx, event)
    }

    fn clone_box(&self) -> BoxedMiddleware<MatchKind<P, G>, P::ToServer> {
        Box::new(ViaServer(self.0.clone_box()))
    }
}

/// A server ready to serve; see [`Server::into_runtime`].
pub(crate) struct Started {
    pub(crate) context: Context,
    pub(crate) spawner: Spawner,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    /// Spawns the default match's task; call it once, in the runtime.
    pub(crate) start_default: Box<dyn FnOnce() + Send>,
}

impl Started {
    /// The tasks of the running server, its default match started.
    pub(crate) fn run(self) -> (Context, runtime::Tasks) {
        let Started {
            context,
            spawner,
            shutdown,
            start_default,
        } = self;
        start_default();
        let tasks = runtime::Tasks::new(spawner, shutdown, context.config.shutdown_timeout);
        (context, tasks)
    }
}
