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
//! sync frame once, sharing the bytes with every recipient.

mod config;
mod error;
mod game;
mod port;
mod runtime;
mod transport;

use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use std::time::Instant;

use tokio::sync::mpsc;

pub use crate::wire::WireFormat;
pub use config::{RateLimit, ServerConfig, SyncScope, WireFormats};
pub use error::{RunError, SendError, ServerError, ServerStopped};
pub use game::{EventCtx, Player, PlayerInfo, Room, RoomMut, ServerCtx, ServerHandle, SyncStats};
#[cfg(feature = "axum")]
pub use transport::axum::Mounted;
pub use transport::listener::BoundServer;
pub use transport::refusal::RefusedConnection;
pub use transport::relay::RelayedServer;
pub use transport::request::{HandshakeRequest, Rejection};

use crate::handler::{HandlerResult, IntoHandlerResult, Route};
use crate::{EntityId, Events, PlayerId, Protocol};
use game::{
    Command, EntityVisibility, Handlers, IdGenerator, Match, MatchState, Middleware, PlayerIds,
};
use runtime::MatchTask;
use transport::connection::Context;
use transport::request::Authenticator;

/// A nodelink server for the protocol `P`, with an optional game value `G` that
/// handlers reach through [`EventCtx::game`].
///
/// Register handlers, then [`run`](Self::run) it (async), [`start`](Self::start) it
/// (blocking, stops on Ctrl-C), or [`bind`](Self::bind) it first to learn the port.
/// With the `axum` feature, `mount` puts it on an axum `Router` instead, on the
/// same port as the site's pages.
/// Per-event handlers come from the protocol's events enum: for `enum ToServer`,
/// import the generated `OnToServer` trait and call `server.on_move(|ctx, event| …)`,
/// where `event` is the variant's fields by name (`ToServerMove { x, y }`).
///
/// Handlers run one at a time on the server's world task, inside its Tokio runtime
/// (the one [`run`](Self::run) is awaited in, or the one [`start`](Self::start)
/// builds), so `tokio::spawn` works in them; see [`ServerCtx`].
pub struct Server<P: Protocol, G = ()> {
    config: ServerConfig,
    game: G,
    handlers: Handlers<P, G>,
    id_generator: Option<IdGenerator>,
    authenticate: Option<Authenticator>,
    on_refusal: Option<transport::refusal::RefusalHook>,
    entity_visibility: Option<EntityVisibility<P>>,
    handle: ServerHandle<P>,
    commands: mpsc::UnboundedReceiver<Command<P>>,
}

impl<P: Protocol, G> std::fmt::Debug for Server<P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Server<P, ()> {
    /// A server with no game value.
    #[must_use]
    pub fn new(config: ServerConfig) -> Self {
        Self::with_game(config, ())
    }
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// A server whose handlers share `game`, owned by the world task: handlers get
    /// `&mut` access to it through [`EventCtx::game`], with no locks.
    pub fn with_game(config: ServerConfig, game: G) -> Self {
        let (commands_tx, commands) = mpsc::unbounded_channel();
        Self {
            config,
            game,
            handlers: Handlers {
                events: (0..P::ToServer::NAMES.len()).map(|_| None).collect(),
                all: None,
                middleware: (0..P::ToServer::NAMES.len()).map(|_| Vec::new()).collect(),
                on_connect: None,
                on_disconnect: None,
                on_pause: None,
                on_resume: None,
                on_tick: None,
                on_error: None,
            },
            id_generator: None,
            entity_visibility: None,
            authenticate: None,
            on_refusal: None,
            handle: ServerHandle {
                commands: commands_tx,
                online: Arc::new(AtomicUsize::new(0)),
                shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
            },
            commands,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A handle for acting on the server from other tasks and threads; it works
    /// before the server runs (commands wait) and after (they fail once it stops).
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.handle.clone()
    }

    /// Runs when a player has connected, after it was sent the world's snapshot.
    pub fn on_connect<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_connect = Some(Box::new(move |ctx| handler(ctx).into_handler_result()));
        self
    }

    /// Runs once for every player that leaves, however it leaves: it closed the
    /// connection, it was kicked, it misbehaved past a limit, the server shut down,
    /// or its connection was lost and it was not resumed within
    /// [`ServerConfig::resume_grace`] (then [`on_pause`](Self::on_pause) ran first).
    /// The player is still in the table while this runs (its state and rooms can
    /// be read); it is removed right after.
    pub fn on_disconnect<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_disconnect = Some(Box::new(move |ctx| handler(ctx).into_handler_result()));
        self
    }

    /// Runs when a player's connection was lost (a reset, a network change, silence
    /// past the idle timeout) and the server holds the player for its client to
    /// resume, instead of [`on_disconnect`](Self::on_disconnect). The player stays
    /// in the table, its rooms and the other clients' mirrors, which see nothing;
    /// events sent to it are kept for its client. Then either
    /// [`on_resume`](Self::on_resume) runs, or, once [`ServerConfig::resume_grace`]
    /// is over, `on_disconnect`. To end a player's session at once instead (a game
    /// that cannot wait for it), kick it here: `on_disconnect` follows.
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{PlayerId, Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum ToClient { Away { id: PlayerId }, Back { id: PlayerId } }
    /// # #[nodelink::events] pub enum ToServer { Hello }
    /// # #[nodelink::protocol(state = S, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.on_pause(|ctx| {
    ///     let id = ctx.id();
    ///     ctx.broadcast(ToClient::Away { id });
    /// });
    /// server.on_resume(|ctx| {
    ///     let id = ctx.id();
    ///     ctx.broadcast(ToClient::Back { id });
    /// });
    /// ```
    pub fn on_pause<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_pause = Some(Box::new(move |ctx| handler(ctx).into_handler_result()));
        self
    }

    /// Runs when a paused player's client has resumed its session on a new
    /// connection, instead of [`on_connect`](Self::on_connect): it is the same
    /// player (id, state, rooms, identity); the events it missed and a snapshot of
    /// the world are queued for it before this runs. See [`on_pause`](Self::on_pause).
    pub fn on_resume<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_resume = Some(Box::new(move |ctx| handler(ctx).into_handler_result()));
        self
    }

    /// Runs every tick with the time since the previous one, before that tick's
    /// sync, so state set here goes out in the same tick's frames. An `Err` or a
    /// panic goes to `on_error` (with no player) and the ticks go on.
    pub fn on_tick<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut ServerCtx<'a, P, G>, std::time::Duration) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_tick = Some(Box::new(move |ctx, dt| {
            handler(ctx, dt).into_handler_result()
        }));
        self
    }

    /// Decides, per player, which entities its client sees (fog of war): asked
    /// every tick for each player and each entity its sync scope allows, so it can
    /// narrow the scope but never widen it. With [`SyncScope::Everyone`] that is
    /// every entity; with [`SyncScope::Rooms`], only the entities spawned in one of
    /// the player's rooms (`spawn_in`) and those in no room (`spawn`): an entity of
    /// a room the player is not in stays hidden, and the rule is not asked about it.
    /// An entity coming into view reaches the client whole; one going out of view
    /// is despawned for it. With a rule, entering or leaving a room changes what a
    /// player sees at the next tick, when the rule is next asked. Players whose
    /// views change alike share one encoded frame. Without it, every allowed entity
    /// is seen.
    ///
    /// ```no_run
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32, pub y: f32 }
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Crate { pub x: f32, pub y: f32 }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing, entity = Crate)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// // A player sees the crates within 100 units of itself.
    /// server.entity_visibility(|player, _id, entity| {
    ///     let (dx, dy) = (player.state().x - entity.x, player.state().y - entity.y);
    ///     dx * dx + dy * dy <= 100.0 * 100.0
    /// });
    /// ```
    pub fn entity_visibility(
        &mut self,
        visible: impl Fn(&Player<P>, EntityId, &P::Entity) -> bool + Send + 'static,
    ) -> &mut Self {
        self.entity_visibility = Some(Box::new(visible));
        self
    }

    /// Replaces the player id generator. Ids already in use are never handed out:
    /// the generator is asked again (and after 64 clashes in a row, a random id is
    /// used). The default draws random, unguessable ids.
    pub fn id_generator(
        &mut self,
        generator: impl FnMut() -> PlayerId + Send + 'static,
    ) -> &mut Self {
        self.id_generator = Some(Box::new(generator));
        self
    }

    /// Checks every connection before a player is created: the hook sees the
    /// upgrade request (path, query, headers, peer address) and either returns an
    /// identity, which handlers read with [`Player::identity`], or a [`Rejection`],
    /// sent as HTTP 401 or 403 with its reason. It may be `async` (look a token up
    /// in a database); it runs in the connection's own task, within the handshake
    /// timeout, and only for clients that passed the cheaper checks (origin,
    /// protocol, capacity).
    pub fn authenticate<F, Fut, I>(&mut self, hook: F) -> &mut Self
    where
        F: Fn(HandshakeRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<I, Rejection>> + Send + 'static,
        I: Send + Sync + 'static,
    {
        self.authenticate = Some(transport::request::authenticator(hook));
        self
    }

    /// Receives every [`ServerError`]: a handler's `Err` or panic, an undecodable
    /// frame, a full send queue; with the player concerned, when there is one.
    /// Without it, errors are logged with `tracing`.
    pub fn on_error<F>(&mut self, handler: F) -> &mut Self
    where
        F: FnMut(&ServerError, Option<&Player<P>>) + Send + 'static,
    {
        self.handlers.on_error = Some(Box::new(handler));
        self
    }

    /// The match this server runs, ready for the runtime, with what connection
    /// tasks need to reach it.
    pub(crate) fn into_match(self) -> (MatchTask<P, G>, Context<P>) {
        let Server {
            config,
            game,
            handlers,
            id_generator,
            authenticate,
            on_refusal,
            entity_visibility,
            handle,
            commands,
        } = self;
        let config = Arc::new(config);
        let (inbox_tx, inbox) = mpsc::channel(config.event_queue_len.max(1));
        let context = Context {
            inbox: inbox_tx,
            config: config.clone(),
            fingerprint: P::FINGERPRINT,
            online: handle.online.clone(),
            authenticate,
            refusals: Arc::new(transport::refusal::Refusals::new(on_refusal)),
        };
        let ids = PlayerIds::new(id_generator);
        let shutdown = handle.shutdown.subscribe();
        let state = MatchState::new(game, config, entity_visibility, ids, handle);
        let task = MatchTask::new(
            Match::new(state, handlers, Instant::now()),
            inbox,
            commands,
            shutdown,
        );
        (task, context)
    }
}

impl<P: Protocol, G: Send + 'static> Route<P::ToServer> for Server<P, G> {
    type Ctx<'a> = EventCtx<'a, P, G>;

    fn route(
        &mut self,
        index: usize,
        handler: Box<
            dyn for<'a> FnMut(&mut EventCtx<'a, P, G>, P::ToServer) -> HandlerResult
                + Send
                + 'static,
        >,
    ) {
        if let Some(slot) = self.handlers.events.get_mut(index) {
            *slot = Some(handler);
        }
    }

    fn route_all(
        &mut self,
        handler: Box<
            dyn for<'a> FnMut(&mut EventCtx<'a, P, G>, P::ToServer) -> HandlerResult
                + Send
                + 'static,
        >,
    ) {
        self.handlers
            .events
            .iter_mut()
            .for_each(|slot| *slot = None);
        self.handlers.all = Some(handler);
    }

    fn route_middleware(&mut self, index: usize, middleware: Middleware<P, G>) {
        if let Some(chain) = self.handlers.middleware.get_mut(index) {
            chain.push(middleware);
        }
    }
}
