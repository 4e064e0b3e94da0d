//! Hosting through a relay: the server connects outward to a `nodelink-relay`,
//! gets a game code, and serves the players who join with it, with no listening
//! port of its own (the twin of Python nodelink's `Server(relay_url=…)`).
//!
//! The relay forwards each joining player's upgrade request over the host's
//! control link and holds it; the player then goes through this server's own
//! admission (per-IP cap on its original address, origin, subprotocol and
//! fingerprint, capacity, the authentication hook) exactly as a direct connection,
//! and is refused as one: with the HTTP refusal the relay answers for the host,
//! or, to a player that asked for refusals as close codes, with a data connection
//! of its own that is closed at once with the refusal's code.
//! An admitted player gets a data connection of its own to the relay, spliced to
//! the player's socket, over which it plays as any other connection: native
//! frames stay binary, and one slow player never holds up another. PROTOCOL.md's
//! "Relay" section is the contract.
//!
//! Each match has a relay code of its own. The default match's is the code the
//! relay gave the server; every other match takes one of a few spare codes the
//! server claimed from the relay ahead of need ([`RelayCodes`]), since
//! matchmaking hands codes out synchronously while it admits a connection. A
//! player joining with a match's code (`/join/CODE`) is placed in that match, and
//! the code goes back to the relay when the match ends.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::server::error::RunError;
use crate::server::matchmaking::directory::CodeSource;
use crate::server::matchmaking::{Directory, Intent};
use crate::server::port::Io;
use crate::server::runtime::Feed;
use crate::server::serve::sealed::Accept;
use crate::server::serve::{BoxFuture, Serve};
use crate::server::transport::admission::{self, IpCounts, IpSlot};
use crate::server::transport::connection::{websocket_config, Context};
use crate::server::transport::refusal;
use crate::server::transport::request::HandshakeRequest;
use crate::server::{Server, ServerHandle};
use crate::wire::MatchRequest;
use crate::Protocol;

type Link = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the relay has to answer the control link's opening.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait before reconnecting a lost control link; it doubles up to
/// [`MAX_RECONNECT_DELAY`].
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);
/// The most refusals waiting to go out on the control link; past it a refused
/// player is dropped without an answer (the relay times it out).
const REFUSAL_QUEUE_LEN: usize = 256;
/// Spare match codes kept at hand once a match has needed one: enough for a
/// burst of new matches while the relay answers the claim that refills them.
const SPARE_CODES: usize = 2;
/// How long a request that may make a match waits for the relay's codes when
/// none is at hand (well within the relay's 10 s for the host's answer).
const CODE_WAIT: Duration = Duration::from_secs(5);

/// A control message from the relay.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromRelay {
    Registered {
        code: String,
        token: String,
        #[serde(default)]
        grace_seconds: u64,
        /// Absent from a relay that hands out no match codes.
        #[serde(default)]
        max_codes: Option<usize>,
        /// On a reclaim, the match codes the game holds.
        #[serde(default)]
        codes: Vec<String>,
    },
    /// The answer to a claim.
    Codes {
        codes: Vec<String>,
        #[serde(default)]
        reason: Option<String>,
    },
    Player {
        cid: String,
        peer: String,
        target: String,
        headers: Vec<(String, String)>,
    },
    /// A held player left before it was accepted; its `cid` is not read: an
    /// admission in flight ends on its own when its data connection is refused.
    Gone {},
}

/// A control message to the relay.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToRelay {
    Refuse {
        cid: String,
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
    },
    Claim {
        count: usize,
    },
    Release {
        code: String,
    },
}

/// What the relay said when the control link opened.
#[derive(Debug, Clone)]
struct Registration {
    code: String,
    token: String,
    grace: Duration,
    /// The most match codes the relay lets this server hold; `None` from a relay
    /// that hands out none (matches then get codes of the server's own, joined
    /// through the game's code: `/join/GAME?match=join&code=…`).
    max_codes: Option<usize>,
    /// The match codes the relay holds for this server (on a reclaim).
    codes: Vec<String>,
}

/// The relay's codes for this server's matches: the default match's (the game's
/// code at registration), spare ones claimed ahead of need, and those of ended
/// matches, to release. Matchmaking takes and gives back codes synchronously
/// ([`CodeSource`]); the control link's loop sends the claims and releases that
/// follow, woken by [`wake`](Self::wake). Everything here is bounded by the
/// relay's limit on the codes one host holds.
struct RelayCodes {
    state: Mutex<CodesState>,
    /// Wakes the control link's loop: a claim or a release to send.
    wake: Notify,
    /// Counts the relay's answers to claims, for requests waiting for a code.
    answers: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct CodesState {
    default: String,
    max: Option<usize>,
    /// Codes the relay granted that no match has yet.
    spare: Vec<String>,
    /// Every match code the relay holds for this server, spare or in use.
    held: HashSet<String>,
    /// Codes of ended matches, to release.
    ended: Vec<String>,
    /// A claim is unanswered.
    claiming: bool,
    /// Spare codes to keep: none until a match first needs one, so that a server
    /// hosting only its default match holds no code but its game's.
    wanted: usize,
    /// Why the relay's last answer granted fewer codes than asked.
    short: Option<String>,
}

impl CodesState {
    /// How many codes to claim now, if a claim should go out.
    fn claim(&self) -> Option<usize> {
        let room = self.max?.saturating_sub(self.held.len());
        let count = self.wanted.saturating_sub(self.spare.len()).min(room);
        (!self.claiming && count > 0).then_some(count)
    }
}

impl RelayCodes {
    fn new(registration: &Registration) -> Self {
        let state = CodesState {
            default: registration.code.clone(),
            max: registration.max_codes,
            ..CodesState::default()
        };
        Self {
            state: Mutex::new(state),
            wake: Notify::new(),
            answers: watch::Sender::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CodesState> {
        // Each change under this lock is complete before anything can panic.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The claim and releases to send now, marking the claim as sent.
    fn to_send(&self) -> Vec<ToRelay> {
        let mut state = self.state();
        let mut messages: Vec<ToRelay> = state
            .ended
            .drain(..)
            .map(|code| ToRelay::Release { code })
            .collect();
        if let Some(count) = state.claim() {
            state.claiming = true;
            messages.push(ToRelay::Claim { count });
        }
        messages
    }

    /// The relay answered a claim.
    fn granted(&self, codes: Vec<String>, short: Option<String>) {
        {
            let mut state = self.state();
            state.claiming = false;
            state.held.extend(codes.iter().cloned());
            state.spare.extend(codes);
            let refill = short.is_none() && state.claim().is_some();
            state.short = short;
            if refill {
                // Matches took codes while the claim was out.
                self.wake.notify_one();
            }
        }
        self.answers.send_modify(|answers| *answers += 1);
    }

    /// The control link opened again: the same game (`reclaimed`, the relay
    /// listing the codes it holds for this server) or a new one, whose codes
    /// start afresh. A claim left unanswered on the old link is forgotten.
    fn registered(&self, registration: &Registration, reclaimed: bool) {
        {
            let mut state = self.state();
            state.max = registration.max_codes;
            state.claiming = false;
            state.short = None;
            if reclaimed {
                let listed: HashSet<&String> = registration.codes.iter().collect();
                state.spare.retain(|code| listed.contains(code));
                state.held.retain(|code| listed.contains(code));
                // Codes the relay holds that this server does not know of: a
                // release or an answer lost with the old link. Released.
                let unknown: Vec<String> = listed
                    .into_iter()
                    .filter(|code| !state.held.contains(*code) && !state.ended.contains(code))
                    .cloned()
                    .collect();
                state.ended.extend(unknown);
            } else {
                state.spare.clear();
                state.held.clear();
                state.ended.clear();
            }
        }
        self.wake.notify_one();
        self.answers.send_modify(|answers| *answers += 1);
    }

    /// Waits, within [`CODE_WAIT`], until a code is at hand for a new match, or
    /// the relay answered that there is none: a request that may make a match
    /// then finds one when matchmaking places it.
    async fn ready_for_a_match(&self) {
        let mut answers = self.answers.subscribe();
        {
            let mut state = self.state();
            let Some(max) = state.max else { return };
            state.wanted = SPARE_CODES;
            if !state.spare.is_empty() || state.held.len() >= max {
                return;
            }
            if state.claim().is_some() {
                self.wake.notify_one();
            }
        }
        let _ = timeout(CODE_WAIT, answers.changed()).await;
    }
}

impl CodeSource for RelayCodes {
    fn default_code(&self) -> String {
        self.state().default.clone()
    }

    fn take(&self) -> Result<Option<String>, String> {
        let mut state = self.state();
        let Some(max) = state.max else {
            return Ok(None);
        };
        state.wanted = SPARE_CODES;
        let taken = state.spare.pop();
        if state.claim().is_some() {
            self.wake.notify_one();
        }
        match taken {
            Some(code) => Ok(Some(code)),
            None if state.held.len() >= max => Err(format!(
                "this server holds its most match codes on the relay ({max}): \
                 try again when a match ends"
            )),
            None => Err(match &state.short {
                Some(short) => format!("the relay has no match code for this server: {short}"),
                None => "no match code from the relay at hand yet: try again shortly".to_owned(),
            }),
        }
    }

    fn give_back(&self, code: &str) {
        let mut state = self.state();
        if state.held.remove(code) {
            state.ended.push(code.to_owned());
            self.wake.notify_one();
        }
    }
}

/// The relay transport: a server's link to a relay (`nodelink-relay`), registered
/// and with its game code known, whose players it serves once
/// [served](Server::serve). A server served through a relay gets its matches'
/// codes from it, each joined through the relay by its own code.
///
/// ```no_run
/// # use nodelink::{SyncState, PlayerId};
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// # pub struct Avatar { pub x: f32 }
/// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
/// # pub enum ToServer { Move { x: f32 } }
/// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
/// # pub enum ToClient { Joined { id: PlayerId } }
/// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// # pub struct Game;
/// use nodelink::server::{Relay, Server, ServerConfig};
///
/// # async fn host() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::<Game>::new(ServerConfig::default());
/// let relay = Relay::register("ws://relay.example.com:9000", server.config()).await?;
/// println!("tell your friends: {}", relay.code());
/// server
///     .serve(relay)
///     .with_graceful_shutdown(async {
///         let _ = tokio::signal::ctrl_c().await;
///     })
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct Relay {
    relay: String,
    link: Link,
    registration: Registration,
    codes: watch::Sender<String>,
    relay_codes: Arc<RelayCodes>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("relay", &self.relay)
            .field("code", &self.registration.code)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Registers on the relay at `relay_url` (`ws://` or `wss://`, its root, e.g.
    /// `ws://relay.example.com:9000`) and learns the game code players join
    /// with. The twin of Python nodelink's `Server(relay_url=…)`. `config` is the
    /// server's (for its relay certificates, with `wss://`).
    ///
    /// # Errors
    /// [`RunError::Relay`] when the relay cannot be reached or does not register
    /// the game within 10 seconds.
    pub async fn register(
        relay_url: &str,
        config: &crate::server::ServerConfig,
    ) -> Result<Self, RunError> {
        let relay = relay_url.trim_end_matches('/').to_owned();
        let (link, registration) =
            register(&relay, None, config)
                .await
                .map_err(|refused| RunError::Relay {
                    url: relay.clone(),
                    reason: match refused {
                        Refused::Gone => "the relay refused a new game (410)".to_owned(),
                        Refused::Other(reason) => reason,
                    },
                })?;
        tracing::info!(
            "registered on the relay {relay}: game code {}",
            registration.code
        );
        let (codes, _) = watch::channel(registration.code.clone());
        let relay_codes = Arc::new(RelayCodes::new(&registration));
        Ok(Self {
            relay,
            link,
            registration,
            codes,
            relay_codes,
        })
    }

    /// The game code players join with (`Client::from_code`, Python's
    /// `Client(code=…, relay_url=…)`): the default match's code. Every other
    /// match gets a relay code of its own when it is made (its players' welcomes
    /// name it: `ctx.match_code()`), which players join it with in the same ways.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.registration.code
    }

    /// The URL players connect to: `<relay>/join/<code>`, the default match, and
    /// where clients make matches (`Client::create`, `Client::find`).
    #[must_use]
    pub fn join_url(&self) -> String {
        crate::wire::relay_join_url(&self.relay, &self.registration.code)
    }

    /// The game code as it changes: the relay keeps a code while the host's link
    /// is down for less than its grace period; after that the host registers
    /// again under a new one.
    #[must_use]
    pub fn codes(&self) -> watch::Receiver<String> {
        self.codes.subscribe()
    }
}

/// Serves the relay's players until the server stops, reconnecting the control
/// link when it drops (players already in play keep playing: each has its own
/// data connection).
impl Accept for Relay {
    fn directory(&self) -> Option<Directory> {
        Some(Directory::with_source(self.relay_codes.clone()))
    }

    fn accept(self: Box<Self>, mut feed: Feed) -> BoxFuture<Result<(), RunError>> {
        Box::pin(async move {
            let Relay {
                relay,
                link,
                mut registration,
                codes,
                relay_codes,
            } = *self;
            let context = feed.context().clone();
            let per_ip = IpCounts::default();
            let (refusals_tx, mut refusals) = mpsc::channel::<ToRelay>(REFUSAL_QUEUE_LEN);
            let mut link = Some(link);
            loop {
                let next = feed.next(async {
                    let Some(control) = link.as_mut() else {
                        return Step::Lost;
                    };
                    tokio::select! {
                        message = control.next() => match message {
                            Some(Ok(Message::Text(text))) => Step::Message(text.to_string()),
                            Some(Ok(Message::Close(_)) | Err(_)) | None => Step::Lost,
                            Some(Ok(_)) => Step::Ignored,
                        },
                        Some(refusal) = refusals.recv() => Step::Send(vec![refusal]),
                        () = relay_codes.wake.notified() => Step::Send(relay_codes.to_send()),
                    }
                });
                let Some(step) = next.await else { break };
                match step {
                    Step::Message(text) => match serde_json::from_str::<FromRelay>(&text) {
                        Ok(FromRelay::Player {
                            cid,
                            peer,
                            target,
                            headers,
                        }) => {
                            let peer: SocketAddr = peer
                                .parse()
                                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                            let slot = IpSlot::take(&per_ip, peer.ip());
                            let player = RelayedPlayer {
                                relay: relay.clone(),
                                token: registration.token.clone(),
                                game_code: registration.code.clone(),
                                cid,
                                peer,
                                target,
                                headers,
                            };
                            feed.spawn(player.serve(
                                context.clone(),
                                slot,
                                refusals_tx.clone(),
                                relay_codes.clone(),
                            ));
                        }
                        Ok(FromRelay::Codes { codes, reason }) => {
                            if let Some(reason) = &reason {
                                tracing::debug!("the relay granted fewer match codes: {reason}");
                            }
                            relay_codes.granted(codes, reason);
                        }
                        Ok(FromRelay::Gone { .. } | FromRelay::Registered { .. }) => {}
                        Err(error) => {
                            tracing::warn!("relay control message not understood: {error}");
                        }
                    },
                    Step::Send(messages) => {
                        for message in messages {
                            let (Some(control), Ok(text)) =
                                (link.as_mut(), serde_json::to_string(&message))
                            else {
                                break;
                            };
                            if control.send(Message::Text(text.into())).await.is_err() {
                                link = None;
                            }
                        }
                    }
                    Step::Ignored => {}
                    Step::Lost => {
                        link = None;
                        tracing::warn!("lost the relay link; reconnecting");
                        let again = feed.next(reconnect(&relay, &registration, &context));
                        let Some((control, renewed)) = again.await else {
                            break;
                        };
                        let reclaimed = renewed.code == registration.code;
                        if !reclaimed {
                            tracing::warn!(
                                "the relay gave a new game code {} (the link was down longer than its grace period)",
                                renewed.code
                            );
                            codes.send_replace(renewed.code.clone());
                        }
                        relay_codes.registered(&renewed, reclaimed);
                        registration = renewed;
                        link = Some(control);
                    }
                }
            }
            if let Some(mut control) = link {
                // A normal close ends the game on the relay at once: no grace period.
                let normal = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "server shutting down".into(),
                };
                let _ = timeout(context.config.close_timeout, control.close(Some(normal))).await;
            }
            Ok(())
        })
    }
}

/// A server registered on a relay: its game code is known; [`run`](Self::run)
/// serves the players who join with it. A shortcut for a [`Relay`] and
/// [`Server::serve`] on it.
///
/// ```no_run
/// # use nodelink::{Protocol, SyncState, PlayerId};
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// # pub struct Avatar { pub x: f32 }
/// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
/// # pub enum ToServer { Move { x: f32 } }
/// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
/// # pub enum ToClient { Joined { id: PlayerId } }
/// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// # pub struct Game;
/// use nodelink::server::{Server, ServerConfig};
///
/// # async fn host() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::<Game>::new(ServerConfig::default());
/// let hosted = server.relay("ws://relay.example.com:9000").await?;
/// println!("tell your friends: {}", hosted.code());
/// hosted.run().await;
/// # Ok(())
/// # }
/// ```
pub struct RelayedServer<P: Protocol, G = ()> {
    server: Server<P, G>,
    relay: Relay,
}

impl<P: Protocol, G> std::fmt::Debug for RelayedServer<P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayedServer")
            .field("relay", &self.relay)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Registers on the relay at `relay_url` instead of binding a port: a
    /// shortcut for [`Relay::register`] with this server's config, to
    /// [`run`](RelayedServer::run) (or [`serve`](RelayedServer::serve)).
    /// `ServerConfig::host` and `port` are not used.
    ///
    /// # Errors
    /// [`RunError::Relay`] when the relay cannot be reached or does not register
    /// the game within 10 seconds.
    pub async fn relay(self, relay_url: &str) -> Result<RelayedServer<P, G>, RunError> {
        let relay = Relay::register(relay_url, &self.config).await?;
        Ok(RelayedServer {
            server: self,
            relay,
        })
    }
}

impl<P: Protocol, G: Send + 'static> RelayedServer<P, G> {
    /// The game code players join with; see [`Relay::code`].
    #[must_use]
    pub fn code(&self) -> &str {
        self.relay.code()
    }

    /// The URL players connect to; see [`Relay::join_url`].
    #[must_use]
    pub fn join_url(&self) -> String {
        self.relay.join_url()
    }

    /// The URL players connect to for the game `code` on the relay at
    /// `relay_url`, as [`Client::from_code`](crate::client::Client::from_code)
    /// builds it (for clients made with other settings).
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
    /// use nodelink::server::RelayedServer;
    ///
    /// let url = RelayedServer::<Game>::join_url_for("wss://relay.example.com", "k7mq4p");
    /// assert_eq!(url, "wss://relay.example.com/join/K7MQ4P");
    /// ```
    #[must_use]
    pub fn join_url_for(relay_url: &str, code: &str) -> String {
        crate::wire::relay_join_url(relay_url, code)
    }

    /// The game code as it changes; see [`Relay::codes`].
    #[must_use]
    pub fn codes(&self) -> watch::Receiver<String> {
        self.relay.codes()
    }

    /// A handle to the server.
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.server.handle()
    }

    /// The server served through its relay: [`Server::serve`], to add a
    /// graceful-shutdown future or another transport.
    pub fn serve(self) -> Serve<P, G> {
        self.server.serve(self.relay)
    }

    /// Serves the relay's players until [`ServerHandle::shutdown`], reconnecting
    /// the control link when it drops (players already in play keep playing: each
    /// has its own data connection); returns once every connection has closed.
    pub async fn run(self) {
        if let Err(error) = self.serve().await {
            tracing::error!("{error}");
        }
    }
}

enum Step {
    Message(String),
    Send(Vec<ToRelay>),
    Ignored,
    Lost,
}

/// Reconnects the control link, presenting the registration's token so the relay
/// keeps the code; retries with a doubling delay until it succeeds (or the server
/// shuts down, which drops this future).
async fn reconnect(
    relay: &str,
    registration: &Registration,
    context: &Context,
) -> (Link, Registration) {
    let mut delay = FIRST_RECONNECT_DELAY;
    let mut token = Some(registration.token.as_str());
    let started = tokio::time::Instant::now();
    loop {
        match register(relay, token, &context.config).await {
            Ok(done) => return done,
            // The game ended on the relay (the link was down past the grace
            // period): register afresh, under a new code.
            Err(Refused::Gone) => token = None,
            Err(Refused::Other(reason)) => {
                tracing::debug!("relay reconnection failed: {reason}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                if started.elapsed() > registration.grace {
                    token = None;
                }
            }
        }
    }
}

/// Why the control link could not be opened.
enum Refused {
    /// The relay no longer knows the game (410): its token is worthless.
    Gone,
    Other(String),
}

impl From<String> for Refused {
    fn from(reason: String) -> Self {
        Self::Other(reason)
    }
}

/// Opens the control link and reads the registration.
async fn register(
    relay: &str,
    token: Option<&str>,
    config: &crate::server::ServerConfig,
) -> Result<(Link, Registration), Refused> {
    let url = match token {
        Some(token) => format!("{relay}/link?token={}", percent_encode(token)),
        None => format!("{relay}/link"),
    };
    let (mut link, _) = match timeout(REGISTER_TIMEOUT, open(&url, config)).await {
        Err(_) => return Err("the relay did not answer within 10 s".to_owned().into()),
        Ok(Err(WsError::Http(response))) if response.status() == 410 => return Err(Refused::Gone),
        Ok(Err(error)) => return Err(error.to_string().into()),
        Ok(Ok(link)) => link,
    };
    let registered = timeout(REGISTER_TIMEOUT, async {
        while let Some(message) = link.next().await {
            if let Message::Text(text) = message.map_err(|error| error.to_string())? {
                if let Ok(FromRelay::Registered {
                    code,
                    token,
                    grace_seconds,
                    max_codes,
                    codes,
                }) = serde_json::from_str(&text)
                {
                    return Ok(Registration {
                        code,
                        token,
                        grace: Duration::from_secs(grace_seconds),
                        max_codes,
                        codes,
                    });
                }
            }
        }
        Err("the relay closed the link before registering the game".to_owned())
    })
    .await
    .map_err(|_| "the relay did not register the game within 10 s".to_owned())??;
    Ok((link, registration_checked(registered)?))
}

fn registration_checked(registration: Registration) -> Result<Registration, String> {
    if registration.code.is_empty() || registration.token.is_empty() {
        return Err("the relay registered the game without a code or token".to_owned());
    }
    Ok(registration)
}

/// Opens a WebSocket to the relay: over TLS for a `wss://` relay, trusting
/// [`ServerConfig::relay_root_certificates`](crate::server::ServerConfig::relay_root_certificates).
async fn open(
    url: &str,
    config: &crate::server::ServerConfig,
) -> Result<
    (
        Link,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    WsError,
> {
    #[cfg(feature = "tls")]
    {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        let connector = config
            .relay_root_certificates
            .connector(scheme)
            .map_err(|error| WsError::Io(std::io::Error::other(error)))?;
        tokio_tungstenite::connect_async_tls_with_config(
            url,
            Some(websocket_config(config)),
            true,
            Some(connector),
        )
        .await
    }
    #[cfg(not(feature = "tls"))]
    {
        tokio_tungstenite::connect_async_with_config(url, Some(websocket_config(config)), true)
            .await
    }
}

/// Opens a data connection to the relay (over TLS for a `wss://` relay, as
/// [`open`]), its stream boxed as every connection a match plays.
async fn open_io(
    url: &str,
    config: &crate::server::ServerConfig,
) -> Result<WebSocketStream<Io>, WsError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::error::UrlError;

    let request = url.into_client_request()?;
    let uri = request.uri();
    let secure = uri.scheme_str() == Some("wss");
    let host = uri
        .host()
        .ok_or(WsError::Url(UrlError::NoHostName))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(WsError::Io)?;
    let _ = tcp.set_nodelay(true);
    let io: Io = if secure {
        #[cfg(feature = "tls")]
        {
            let tls = config
                .relay_root_certificates
                .client_config()
                .map_err(|error| WsError::Io(std::io::Error::other(error)))?;
            let name = rustls::pki_types::ServerName::try_from(host)
                .map_err(|error| WsError::Io(std::io::Error::other(error)))?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(WsError::Io)?;
            Box::new(stream)
        }
        #[cfg(not(feature = "tls"))]
        return Err(WsError::Url(UrlError::TlsFeatureNotEnabled));
    } else {
        Box::new(tcp)
    };
    let (socket, _) =
        tokio_tungstenite::client_async_with_config(request, io, Some(websocket_config(config)))
            .await?;
    Ok(socket)
}

/// A player the relay holds for this server's verdict.
struct RelayedPlayer {
    relay: String,
    token: String,
    /// The game's code on the relay, which joins the default match.
    game_code: String,
    cid: String,
    peer: SocketAddr,
    target: String,
    headers: Vec<(String, String)>,
}

impl RelayedPlayer {
    /// Admits the player as a direct connection would be, then plays it over a
    /// data connection of its own; or has the relay refuse it with the same answer.
    async fn serve(
        mut self,
        context: Context,
        slot: IpSlot,
        refusals: mpsc::Sender<ToRelay>,
        relay_codes: Arc<RelayCodes>,
    ) {
        let target = match_target(&self.target, &self.game_code);
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (target.clone(), None),
        };
        let headers = std::mem::take(&mut self.headers);
        let request = HandshakeRequest::new(path, query, headers, self.peer);
        if let Ok(Intent::Create { .. } | Intent::Find { .. }) = Intent::of(&request) {
            relay_codes.ready_for_a_match().await;
        }
        let wants_close = refusal::wants_close(&request);
        let admitted = match admission::admit(&context, request, &slot).await {
            Ok(admitted) => admitted,
            Err(refused) if wants_close && refusal::has_close_code(&refused) => {
                context.refusals.report(self.peer, &refused);
                // Accepted with a data connection of its own, which is closed at
                // once with the refusal's code: the relay passes the close frame
                // on to the player. Within the handshake timeout, the place held.
                let url = self.accept_url(Some(crate::wire::REFUSALS_SUBPROTOCOL));
                let config = &context.config;
                let _ = timeout(config.handshake_timeout, async {
                    match open(&url, config).await {
                        Ok((socket, _)) => refusal::close(socket, &refused, config.close_timeout).await,
                        Err(error) => {
                            tracing::debug!(peer = %self.peer, "relay data connection failed: {error}")
                        }
                    }
                })
                .await;
                drop(slot);
                return;
            }
            Err(refused) => {
                drop(slot);
                context.refusals.report(self.peer, &refused);
                let headers = refused
                    .headers()
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone()))
                    .collect();
                let _ = refusals.try_send(ToRelay::Refuse {
                    cid: self.cid,
                    status: refused.status,
                    reason: refused.body,
                    headers,
                });
                return;
            }
        };
        let url = self.accept_url(admitted.subprotocol.as_deref());
        let connecting = open_io(&url, &context.config);
        match timeout(context.config.handshake_timeout, connecting).await {
            Ok(Ok(socket)) => {
                admitted
                    .play(socket, self.peer, context.config.clone(), Role::Client)
                    .await;
            }
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, "relay data connection failed: {error}")
            }
            Err(_) => tracing::debug!(peer = %self.peer, "relay data connection timed out"),
        }
        drop(slot);
    }
}

impl RelayedPlayer {
    /// The data connection's URL, asking the relay to answer the player's upgrade
    /// with `subprotocol`.
    fn accept_url(&self, subprotocol: Option<&str>) -> String {
        let mut url = format!(
            "{}/link/accept/{}?token={}",
            self.relay,
            percent_encode(&self.cid),
            percent_encode(&self.token)
        );
        if let Some(subprotocol) = subprotocol {
            url.push_str("&subprotocol=");
            url.push_str(&percent_encode(subprotocol));
        }
        url
    }
}

/// The target a relayed player's request stands for. A player names its match by
/// the code it joined with: `/join/CODE` with a match's relay code asks for that
/// match, as `?match=join&code=CODE` does (so Python nodelink's
/// `Client(code=…, relay_url=…)` and `Client::from_code` land in it, and come back
/// to it when they reconnect); with the game's own code, for the default match. A
/// query that names a match itself is kept as it is.
fn match_target(target: &str, game_code: &str) -> String {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let code = path.strip_prefix("/join/").unwrap_or_default();
    let code = code.trim().to_ascii_uppercase();
    if code.is_empty() || code == game_code || MatchRequest::names_a_match(target) {
        return target.to_owned();
    }
    MatchRequest::join(&code).apply(target)
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for query
/// values and path segments.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_urls_upper_case_the_code_and_drop_a_trailing_slash() {
        assert_eq!(
            crate::wire::relay_join_url("ws://relay:9000/", " k7mq4p "),
            "ws://relay:9000/join/K7MQ4P"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encode("nodelink.2.ab"), "nodelink.2.ab");
        assert_eq!(percent_encode("a b/c?d"), "a%20b%2Fc%3Fd");
    }

    #[test]
    fn a_match_code_in_the_path_names_its_match() {
        let game = "K7MQ4P";
        // The game's own code: the default match, as before.
        assert_eq!(
            match_target("/join/k7mq4p?name=ann", game),
            "/join/k7mq4p?name=ann"
        );
        // A match's code: that match.
        assert_eq!(
            match_target("/join/q2w3e4?name=ann", game),
            "/join/q2w3e4?name=ann&match=join&code=Q2W3E4"
        );
        assert_eq!(
            match_target("/join/Q2W3E4", game),
            "/join/Q2W3E4?match=join&code=Q2W3E4"
        );
        // A query that names a match keeps it.
        for target in [
            "/join/K7MQ4P?match=create&kind=arena",
            "/join/K7MQ4P?match=join&code=Q2W3E4",
            "/join/Q2W3E4?match=list&kind=arena",
        ] {
            assert_eq!(match_target(target, game), target);
        }
    }

    /// A relay's codes for the server's matches: claimed when a match first needs
    /// one, kept a few spare, taken synchronously, given back when a match ends.
    #[test]
    fn codes_are_claimed_ahead_of_need_and_released() {
        let registration = Registration {
            code: "K7MQ4P".into(),
            token: "t".into(),
            grace: Duration::from_secs(30),
            max_codes: Some(3),
            codes: Vec::new(),
        };
        let codes = RelayCodes::new(&registration);
        assert_eq!(codes.default_code(), "K7MQ4P");
        assert!(
            codes.to_send().is_empty(),
            "nothing claimed before a match needs it"
        );
        let first = codes.take().unwrap_err();
        assert!(first.contains("try again shortly"), "{first}");
        let sent = codes.to_send();
        assert!(
            matches!(sent[..], [ToRelay::Claim { count: 2 }]),
            "{sent:?}"
        );
        assert!(codes.to_send().is_empty(), "one claim at a time");
        codes.granted(vec!["AAAAAA".into(), "BBBBBB".into()], None);
        let taken = codes.take().unwrap().unwrap();
        // One more, to keep two spare, up to the relay's limit of three.
        assert!(matches!(codes.to_send()[..], [ToRelay::Claim { count: 1 }]));
        codes.granted(vec!["CCCCCC".into()], None);
        codes.take().unwrap().unwrap();
        codes.take().unwrap().unwrap();
        let full = codes.take().unwrap_err();
        assert!(
            full.contains("its most match codes on the relay (3)"),
            "{full}"
        );
        assert!(codes.to_send().is_empty(), "no claim past the limit");
        // A match ended: its code is released, then another claimed.
        codes.give_back(&taken);
        codes.give_back("K7MQ4P");
        let sent = codes.to_send();
        assert!(
            matches!(&sent[..], [ToRelay::Release { code }, ToRelay::Claim { count: 1 }] if *code == taken),
            "{sent:?}"
        );
    }

    #[test]
    fn a_reclaim_keeps_the_codes_the_relay_holds_and_releases_the_unknown() {
        let mut registration = Registration {
            code: "K7MQ4P".into(),
            token: "t".into(),
            grace: Duration::from_secs(30),
            max_codes: Some(8),
            codes: Vec::new(),
        };
        let codes = RelayCodes::new(&registration);
        let _ = codes.take();
        let _ = codes.to_send();
        codes.granted(vec!["AAAAAA".into(), "BBBBBB".into()], None);
        // The relay lost nothing but holds a code whose answer never came.
        registration.codes = vec!["AAAAAA".into(), "BBBBBB".into(), "CCCCCC".into()];
        codes.registered(&registration, true);
        let sent = codes.to_send();
        assert!(
            matches!(&sent[..], [ToRelay::Release { code }] if code == "CCCCCC"),
            "{sent:?}"
        );
        // A new game: its codes start afresh.
        registration.code = "Q2W3E4".into();
        registration.codes = Vec::new();
        codes.registered(&registration, false);
        assert!(codes.take().is_err());
        assert_eq!(
            codes.default_code(),
            "K7MQ4P",
            "the default match keeps its code"
        );
    }

    #[test]
    fn an_older_relay_hands_out_no_codes() {
        let registration = Registration {
            code: "K7MQ4P".into(),
            token: "t".into(),
            grace: Duration::from_secs(30),
            max_codes: None,
            codes: Vec::new(),
        };
        let codes = RelayCodes::new(&registration);
        assert_eq!(codes.take(), Ok(None));
        assert!(codes.to_send().is_empty());
    }

    #[test]
    fn control_messages_read_as_specified() {
        let player: FromRelay = serde_json::from_str(
            r#"{"type":"player","cid":"c1","peer":"203.0.113.7:51234","target":"/join/K7MQ4P?name=ann","headers":[["origin","https://example.com"]]}"#,
        )
        .unwrap();
        assert!(matches!(player, FromRelay::Player { cid, .. } if cid == "c1"));
        let refusal = serde_json::to_string(&ToRelay::Refuse {
            cid: "c1".into(),
            status: 400,
            reason: "no".into(),
            headers: vec![("x-nodelink-fingerprint".into(), "4874c71316f5ad11".into())],
        })
        .unwrap();
        assert_eq!(
            refusal,
            r#"{"type":"refuse","cid":"c1","status":400,"reason":"no","headers":[["x-nodelink-fingerprint","4874c71316f5ad11"]]}"#
        );
        // PROTOCOL.md's "Match codes", both ways.
        let reclaimed: FromRelay = serde_json::from_str(
            r#"{"type":"registered","code":"K7MQ4P","token":"6f1c2e9a4b7d03851c2e9a4b7d038516","grace_seconds":30,"max_codes":64,"codes":["Q2W3E4","X9HZ2R"]}"#,
        )
        .unwrap();
        assert!(matches!(
            reclaimed,
            FromRelay::Registered { max_codes: Some(64), codes, .. } if codes == ["Q2W3E4", "X9HZ2R"]
        ));
        let short: FromRelay = serde_json::from_str(
            r#"{"type":"codes","codes":[],"reason":"this host holds its most match codes (64)"}"#,
        )
        .unwrap();
        assert!(matches!(short, FromRelay::Codes { codes, reason: Some(_) } if codes.is_empty()));
        let claim = serde_json::to_string(&ToRelay::Claim { count: 2 }).unwrap();
        assert_eq!(claim, r#"{"type":"claim","count":2}"#);
        let release = ToRelay::Release {
            code: "Q2W3E4".into(),
        };
        let release = serde_json::to_string(&release).unwrap();
        assert_eq!(release, r#"{"type":"release","code":"Q2W3E4"}"#);
    }
}
