//! The client: connects to a server, runs typed handlers for the server's events,
//! and mirrors every player's state.
//!
//! Two ways to use it:
//! - callbacks: register handlers, then [`Client::run`] (async) or
//!   [`Client::connect`] (blocking);
//! - polling, for game loops that own their thread: [`Client::spawn`] returns a
//!   [`PollClient`] whose [`poll`](PollClient::poll) drains what arrived since the
//!   last frame, with no callbacks on other threads.
//!
//! ```no_run
//! use nodelink::client::Client;
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
//! let mut client = Client::<Game>::new("localhost", 5000);
//! client.send(ToServer::Move { x: 10.0, y: 20.0 })?; // queued until connected
//! client.on_joined(|ctx, ToClientJoined { id }| println!("player {id} joined; {} online", ctx.world().online()));
//! client.on_state_sync(|ctx, _sync| {
//!     for (id, state) in ctx.world().players() {
//!         println!("{id}: {state:?}");
//!     }
//! });
//! client.connect()?; // blocks until disconnected
//! # Ok::<(), nodelink::client::ClientError>(())
//! ```

mod config;
mod connection;
mod ctx;
mod error;
mod poll;
mod sender;
mod session;
mod stats;
mod world;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

pub use config::{ClientConfig, Reconnect};
pub use ctx::ClientCtx;
pub use error::{ClientError, Disconnect};
pub use poll::{ClientEvent, PollClient};
pub use sender::ClientSender;
pub use stats::ClientStats;
pub use world::{StateSync, World};

use crate::handler::{
    panic_message, BoxedHandler, BoxedMiddleware, HandlerResult, IntoHandlerResult, Route, Verdict,
};
use crate::wire::{MatchListing, MatchRequest, Settings, SyncFrame, Welcome};
use crate::{Events, PlayerId, Protocol};
use connection::Deliver;

type EventHandler<P> = BoxedHandler<Client<P>, <P as Protocol>::ToClient>;
type CtxHandler<P> =
    Box<dyn for<'a> FnMut(&mut ClientCtx<'a, P>) -> HandlerResult + Send + 'static>;
type SyncHandler<P> =
    Box<dyn for<'a> FnMut(&mut ClientCtx<'a, P>, &StateSync<P>) -> HandlerResult + Send + 'static>;
type Middleware<P> = BoxedMiddleware<Client<P>, <P as Protocol>::ToClient>;
type ReconnectingHandler = Box<dyn FnMut(u32, Duration) + Send + 'static>;

type DisconnectHandler = Box<dyn FnMut(&Disconnect) + Send + 'static>;
type PauseHandler = Box<dyn FnMut(&Disconnect) + Send + 'static>;
type ErrorHandler = Box<dyn FnMut(&ClientError) + Send + 'static>;

struct Handlers<P: Protocol> {
    events: Vec<Option<EventHandler<P>>>,
    all: Option<EventHandler<P>>,
    middleware: Vec<Vec<Middleware<P>>>,
    on_reconnecting: Option<ReconnectingHandler>,
    on_connect: Option<CtxHandler<P>>,
    on_disconnect: Option<DisconnectHandler>,
    on_pause: Option<PauseHandler>,
    on_resume: Option<CtxHandler<P>>,
    on_error: Option<ErrorHandler>,
    on_state_sync: Option<SyncHandler<P>>,
}

/// A nodelink client for the protocol `P`.
///
/// Per-event handlers come from the protocol's events enum: for `enum ToClient`,
/// import the generated `OnToClient` trait and call `client.on_chat(|ctx, chat| …)`,
/// where `chat` is the variant's fields by name (`ToClientChat { from, msg }`).
pub struct Client<P: Protocol> {
    url: String,
    config: ClientConfig,
    handlers: Handlers<P>,
    sender: ClientSender<P>,
    queue: mpsc::Receiver<Bytes>,
}

impl<P: Protocol> std::fmt::Debug for Client<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Client<P> {
    /// A client for the server at `host:port` (the Python `Client(host, port)`).
    #[must_use]
    pub fn new(host: &str, port: u16) -> Self {
        Self::from_url(format!("ws://{host}:{port}/"))
    }

    /// A client for the server at a `ws://` URL.
    #[must_use]
    pub fn from_url(url: impl Into<String>) -> Self {
        Self::with_config(url, ClientConfig::default())
    }

    /// A client for the game hosted under `code` on the relay at `relay_url` (its
    /// root, e.g. `ws://relay.example.com:9000`): it connects to
    /// `<relay_url>/join/<CODE>`. The twin of Python nodelink's
    /// `Client(code=…, relay_url=…)`; codes are read case-insensitively.
    ///
    /// ```
    /// # use nodelink::{Protocol, SyncState, PlayerId};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32 }
    /// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
    /// # pub enum ToServer { Move { x: f32 } }
    /// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
    /// # pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// use nodelink::client::Client;
    ///
    /// let client = Client::<Game>::from_code("ws://relay.example.com:9000", "k7mq4p");
    /// assert_eq!(client.url(), "ws://relay.example.com:9000/join/K7MQ4P");
    /// ```
    #[must_use]
    pub fn from_code(relay_url: &str, code: &str) -> Self {
        Self::from_url(crate::wire::relay_join_url(relay_url, code))
    }

    /// The URL the client connects to.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client for a new match of this protocol's kind ([`Protocol::KIND`]) on
    /// the server at `url`, made from `options` and listed for others to find; it
    /// joins the match it made. In one request: the match exists once the client
    /// is welcomed, and its code is `ctx.match_code()`. Reconnecting later, it
    /// goes back to that match by its code.
    ///
    /// ```no_run
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// #[nodelink::data]
    /// #[derive(Clone, Debug, Default)]
    /// pub struct Mode { pub ranked: bool }
    ///
    /// #[nodelink::protocol(state = S, to_server = E, to_client = E, options = Mode)]
    /// pub struct Arena;
    ///
    /// use nodelink::client::Client;
    /// let mut client = Client::<Arena>::create("ws://game.example:5000/", &Mode { ranked: true })?;
    /// client.on_connect(|ctx| println!("tell your friends: {}", ctx.match_code().unwrap_or("?")));
    /// # Ok::<(), nodelink::client::ClientError>(())
    /// ```
    ///
    /// # Errors
    /// [`ClientError::Encode`] when the options cannot be encoded.
    pub fn create(url: &str, options: &P::MatchOptions) -> Result<Self, ClientError> {
        let request = MatchRequest::create(P::KIND, options, false)?;
        Ok(Self::from_url(request.apply(url)))
    }

    /// As [`create`](Self::create), but the match is private: not listed, not
    /// found; players join it by its code.
    ///
    /// # Errors
    /// [`ClientError::Encode`] when the options cannot be encoded.
    pub fn create_private(url: &str, options: &P::MatchOptions) -> Result<Self, ClientError> {
        let request = MatchRequest::create(P::KIND, options, true)?;
        Ok(Self::from_url(request.apply(url)))
    }

    /// A client for the match with this code on the server at `url` (codes are
    /// read case-insensitively). A full or locked match, or a code no match has,
    /// is refused ([`ClientError::Refused`], with its
    /// [`RefusalKind`](crate::wire::RefusalKind)).
    #[must_use]
    pub fn join(url: &str, code: &str) -> Self {
        Self::from_url(MatchRequest::join(code).apply(url))
    }

    /// A client for a listed match of this protocol's kind that the server finds
    /// suits `options` (by the kind's filter on each match's metadata), or, when
    /// none does, for a new one made from them: join-or-create, in one request.
    /// Two clients racing for a match's last place never both get it.
    ///
    /// # Errors
    /// [`ClientError::Encode`] when the options cannot be encoded.
    pub fn find(url: &str, options: &P::MatchOptions) -> Result<Self, ClientError> {
        let request = MatchRequest::find(P::KIND, options)?;
        Ok(Self::from_url(request.apply(url)))
    }

    /// The listed matches of this protocol's kind on the server at `url`: each
    /// one's code, players, places, lock and metadata, for a lobby screen.
    ///
    /// ```no_run
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)] pub struct Arena;
    /// use nodelink::client::Client;
    ///
    /// # async fn lobby() -> Result<(), nodelink::client::ClientError> {
    /// for listing in Client::<Arena>::list("ws://game.example:5000/").await? {
    ///     println!("{}: {}/{}", listing.code, listing.players, listing.max_players);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As connecting ([`ClientError::Connect`], [`ClientError::Refused`], …), and
    /// [`ClientError::BadFrame`] when the answer is not a listing of this
    /// protocol's metadata.
    pub async fn list(url: &str) -> Result<Vec<MatchListing<P::MatchMetadata>>, ClientError> {
        Self::list_with(url, &ClientConfig::default()).await
    }

    /// [`list`](Self::list), with explicit settings (TLS roots, timeouts).
    ///
    /// # Errors
    /// As [`list`](Self::list).
    pub async fn list_with(
        url: &str,
        config: &ClientConfig,
    ) -> Result<Vec<MatchListing<P::MatchMetadata>>, ClientError> {
        let url = MatchRequest::list(P::KIND).apply(url);
        connection::listing::<P>(&url, config).await
    }

    /// A client with explicit settings.
    #[must_use]
    pub fn with_config(url: impl Into<String>, config: ClientConfig) -> Self {
        let (sender, queue) = ClientSender::new(config.send_queue_len);
        Self {
            url: url.into(),
            config,
            handlers: Handlers {
                events: (0..P::ToClient::NAMES.len()).map(|_| None).collect(),
                all: None,
                middleware: (0..P::ToClient::NAMES.len()).map(|_| Vec::new()).collect(),
                on_reconnecting: None,
                on_connect: None,
                on_disconnect: None,
                on_pause: None,
                on_resume: None,
                on_error: None,
                on_state_sync: None,
            },
            sender,
            queue,
        }
    }

    /// Queues an event; before the connection opens it waits and goes out first.
    ///
    /// # Errors
    /// As [`ClientSender::send`].
    pub fn send(&self, event: P::ToServer) -> Result<(), ClientError> {
        self.sender.send(event)
    }

    /// A sender for other threads and tasks.
    #[must_use]
    pub fn sender(&self) -> ClientSender<P> {
        self.sender.clone()
    }

    /// Runs once the server's welcome arrived: the id is known, queued events are
    /// on their way, and the world's snapshot follows. Only for a new session: a
    /// resumed one runs [`on_resume`](Self::on_resume) instead.
    pub fn on_connect<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut ClientCtx<'a, P>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_connect = Some(Box::new(move |ctx| handler(ctx).into_handler_result()));
        self
    }

    /// Runs when the connection ends, with the reason (kicked, server shutdown,
    /// connection lost…), and the mirror is cleared. After
    /// [`ClientSender::disconnect`] it runs once with [`Disconnect::Local`], also
    /// when no connection was open (the client was stopped before it connected,
    /// while connecting, or between reconnection attempts): it can run without
    /// `on_connect` before it.
    ///
    /// A connection lost while the client can resume its session (reconnection on,
    /// see [`Reconnect`]) runs [`on_pause`](Self::on_pause) instead; this runs
    /// only once the session is over: the server refused the resume (with its
    /// reason, such as 4008 "session expired"; the client then joins afresh and
    /// `on_connect` follows), or the client gave up.
    pub fn on_disconnect(
        &mut self,
        handler: impl FnMut(&Disconnect) + Send + 'static,
    ) -> &mut Self {
        self.handlers.on_disconnect = Some(Box::new(handler));
        self
    }

    /// Runs when the connection was lost and the client is about to resume its
    /// session (reconnection on, see [`Reconnect`]), with why it was lost. The
    /// server holds this player meanwhile, and the mirror is kept: then either
    /// [`on_resume`](Self::on_resume) runs, or, if the session is over,
    /// [`on_disconnect`](Self::on_disconnect) (and a fresh `on_connect`).
    ///
    /// ```no_run
    /// # use nodelink::{PlayerId, Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { pub x: f32 }
    /// # #[nodelink::events] pub enum ToServer { Move { x: f32 } }
    /// # #[nodelink::events] pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// use nodelink::client::{Client, ClientConfig, Reconnect};
    ///
    /// let config = ClientConfig::default().reconnect(Reconnect::default());
    /// let mut client = Client::<Game>::with_config("ws://localhost:5000/", config);
    /// client.on_pause(|reason| println!("connection lost ({reason}), resuming…"));
    /// client.on_resume(|ctx| println!("back as {}", ctx.id()));
    /// client.on_disconnect(|reason| println!("session over: {reason}"));
    /// ```
    pub fn on_pause(&mut self, handler: impl FnMut(&Disconnect) + Send + 'static) -> &mut Self {
        self.handlers.on_pause = Some(Box::new(handler));
        self
    }

    /// Runs when the session was resumed on a new connection, instead of
    /// `on_connect`: the same player id; the events missed meanwhile follow, then a
    /// snapshot that brings the mirror up to date; events sent while away go out
    /// once. See [`on_pause`](Self::on_pause).
    pub fn on_resume<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut ClientCtx<'a, P>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_resume = Some(Box::new(move |ctx| handler(ctx).into_handler_result()));
        self
    }

    /// Receives errors: a handler's `Err` or panic, an undecodable frame. Without
    /// it, errors are logged with `tracing`.
    pub fn on_error(&mut self, handler: impl FnMut(&ClientError) + Send + 'static) -> &mut Self {
        self.handlers.on_error = Some(Box::new(handler));
        self
    }

    /// Runs after each sync frame was applied to the mirror, with the typed deltas;
    /// `ctx.world()` is the whole mirrored world. The twin of Python's
    /// `__state_sync__` event (`data["players"]`, `data["count"]`).
    pub fn on_state_sync<F, O>(&mut self, mut handler: F) -> &mut Self
    where
        F: for<'a> FnMut(&mut ClientCtx<'a, P>, &StateSync<P>) -> O + Send + 'static,
        O: IntoHandlerResult,
    {
        self.handlers.on_state_sync = Some(Box::new(move |ctx, sync| {
            handler(ctx, sync).into_handler_result()
        }));
        self
    }

    /// Runs before each reconnection attempt with the attempt number (from 1) and
    /// the delay before it; see [`ClientConfig::reconnect`].
    pub fn on_reconnecting(
        &mut self,
        handler: impl FnMut(u32, Duration) + Send + 'static,
    ) -> &mut Self {
        self.handlers.on_reconnecting = Some(Box::new(handler));
        self
    }

    /// Connects and serves until the connection ends for good (with reconnection
    /// on, after the last attempt) or [`ClientSender::disconnect`] stops the
    /// client; `Ok` after a connection that ended or a disconnect (see
    /// `on_disconnect`), `Err` when the last attempt could not connect. Returns at
    /// once, without connecting, when the client was disconnected before it ran.
    ///
    /// # Errors
    /// [`ClientError::Connect`], [`ClientError::ProtocolMismatch`] (naming both
    /// fingerprints), [`ClientError::Handshake`], [`ClientError::Url`].
    pub async fn run(mut self) -> Result<(), ClientError> {
        let mut dispatcher = Dispatcher {
            handlers: &mut self.handlers,
            world: World::default(),
            me: PlayerId::from_raw(0),
            latency: None,
            settings: Settings::default(),
        };
        connection::run(
            &self.url,
            &self.config,
            &mut self.queue,
            &self.sender,
            &mut dispatcher,
        )
        .await
    }

    /// [`run`](Self::run) on a runtime of its own, blocking the calling thread (the
    /// twin of Python's `client.connect()`).
    ///
    /// # Errors
    /// As [`run`](Self::run).
    pub fn connect(self) -> Result<(), ClientError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ClientError::Runtime(error.to_string()))?;
        runtime.block_on(self.run())
    }

    /// Connects on a background thread and returns a [`PollClient`] for a game
    /// loop. Handlers registered on this client are not used: the game reads
    /// events from [`PollClient::poll`].
    ///
    /// # Errors
    /// When the background thread cannot be started.
    pub fn spawn(self) -> Result<PollClient<P>, ClientError> {
        PollClient::start(self.url, self.config, self.sender, self.queue)
    }
}

impl<P: Protocol> Route<P::ToClient> for Client<P> {
    type Ctx<'a> = ClientCtx<'a, P>;

    fn route(&mut self, index: usize, handler: EventHandler<P>) {
        if let Some(slot) = self.handlers.events.get_mut(index) {
            *slot = Some(handler);
        }
    }

    fn route_all(&mut self, handler: EventHandler<P>) {
        self.handlers
            .events
            .iter_mut()
            .for_each(|slot| *slot = None);
        self.handlers.all = Some(handler);
    }

    fn route_middleware(&mut self, index: usize, middleware: Middleware<P>) {
        if let Some(chain) = self.handlers.middleware.get_mut(index) {
            chain.push(middleware);
        }
    }
}

/// Runs the callback client's handlers for what a connection delivers.
struct Dispatcher<'h, P: Protocol> {
    handlers: &'h mut Handlers<P>,
    world: World<P>,
    me: PlayerId,
    latency: Option<Duration>,
    /// The last welcome's.
    settings: Settings,
}

impl<P: Protocol> Dispatcher<'_, P> {
    fn report(&mut self, handler: &'static str, result: std::thread::Result<HandlerResult>) {
        let error = match result {
            Ok(Ok(())) => return,
            Ok(Err(source)) => ClientError::Handler { handler, source },
            Err(panic) => ClientError::Panic {
                handler,
                message: panic_message(&*panic),
            },
        };
        Deliver::<P>::error(self, error);
    }
}

impl<P: Protocol> Deliver<P> for Dispatcher<'_, P> {
    fn connected(&mut self, welcome: Welcome, sender: &ClientSender<P>) {
        self.me = welcome.player;
        self.settings = welcome.settings;
        let mut ctx = ClientCtx {
            me: self.me,
            world: &self.world,
            sender,
            latency: self.latency,
            settings: &self.settings,
        };
        let Some(handler) = self.handlers.on_connect.as_mut() else {
            return;
        };
        let result = catch_unwind(AssertUnwindSafe(|| handler(&mut ctx)));
        self.report("connect", result);
    }

    fn resumed(&mut self, welcome: Welcome, sender: &ClientSender<P>) {
        self.me = welcome.player;
        self.settings = welcome.settings;
        let mut ctx = ClientCtx {
            me: self.me,
            world: &self.world,
            sender,
            latency: self.latency,
            settings: &self.settings,
        };
        let Some(handler) = self.handlers.on_resume.as_mut() else {
            return;
        };
        let result = catch_unwind(AssertUnwindSafe(|| handler(&mut ctx)));
        self.report("resume", result);
    }

    fn paused(&mut self, reason: Disconnect) {
        if let Some(handler) = self.handlers.on_pause.as_mut() {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(&reason))) {
                self.report("pause", Err(panic));
            }
        }
    }

    fn event(&mut self, mut event: P::ToClient, sender: &ClientSender<P>) {
        let name = event.name();
        let index = event.index();
        let mut ctx = ClientCtx {
            me: self.me,
            world: &self.world,
            sender,
            latency: self.latency,
            settings: &self.settings,
        };
        if let Some(chain) = self.handlers.middleware.get_mut(index) {
            for middleware in chain {
                match catch_unwind(AssertUnwindSafe(|| middleware.call(&mut ctx, &mut event))) {
                    Ok(Ok(Verdict::Pass)) => {}
                    Ok(Ok(Verdict::Reject)) => return,
                    Ok(Err(source)) => return self.report(name, Ok(Err(source))),
                    Err(panic) => return self.report(name, Err(panic)),
                }
            }
        }
        let handler = match self.handlers.events.get_mut(index).and_then(Option::as_mut) {
            Some(handler) => handler,
            None => match self.handlers.all.as_mut() {
                Some(handler) => handler,
                None => return,
            },
        };
        let result = catch_unwind(AssertUnwindSafe(|| handler.call(&mut ctx, event)));
        self.report(name, result);
    }

    fn sync(&mut self, frame: SyncFrame<P>, sender: &ClientSender<P>) {
        let sync = self.world.apply(frame);
        let mut ctx = ClientCtx {
            me: self.me,
            world: &self.world,
            sender,
            latency: self.latency,
            settings: &self.settings,
        };
        let Some(handler) = self.handlers.on_state_sync.as_mut() else {
            return;
        };
        let result = catch_unwind(AssertUnwindSafe(|| handler(&mut ctx, &sync)));
        self.report("state_sync", result);
    }

    fn latency(&mut self, rtt: Duration) {
        self.latency = Some(rtt);
    }

    fn error(&mut self, error: ClientError) {
        match self.handlers.on_error.as_mut() {
            Some(handler) => {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(&error))) {
                    tracing::error!("error handler panicked: {}", panic_message(&*panic));
                }
            }
            None => tracing::warn!("{error}"),
        }
    }

    fn disconnected(&mut self, reason: Disconnect) {
        self.world.clear();
        if let Some(handler) = self.handlers.on_disconnect.as_mut() {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(&reason))) {
                self.report("disconnect", Err(panic));
            }
        }
    }

    fn reconnecting(&mut self, attempt: u32, delay: Duration) {
        if let Some(handler) = self.handlers.on_reconnecting.as_mut() {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(attempt, delay))) {
                self.report("reconnecting", Err(panic));
            }
        }
    }
}
