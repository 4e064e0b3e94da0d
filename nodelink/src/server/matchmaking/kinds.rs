//! Kinds at run time: each kind's live matches, and how matchmaking seats a
//! connection in one of them (by code, by finding one its options suit) or in a
//! match it makes; how a match is started, and forgotten when it ends.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::SinkExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::server::config::ServerConfig;
use crate::server::error::ServerError;
use crate::server::game::{
    Command, Handlers, Match, MatchState, PlayerIds, ProcessBoard, ServerHandle, StatsBoard,
};
use crate::server::kind::{Filter, GameFactory, MatchKind, MetadataOf, DEFAULT_LINGER};
use crate::server::link;
use crate::server::matchmaking::intent::Intent;
use crate::server::matchmaking::{MatchInfo, Process, Refused};
use crate::server::port::{Connecting, Io, NoSeat, Placement, Seat, Seats, ToMatch};
use crate::server::runtime::{Lifetime, MatchTask};
use crate::server::service::{Remote, ServiceLink};
use crate::wire::matchmaking::{decode_value, encode_listing_raw, encode_value, RawListing};
use crate::wire::{decode_server_frame, RefusalKind, ServerFrame};
use crate::Protocol;

/// A kind as matchmaking sees it, whatever its protocol.
pub(crate) trait Kind: Send + Sync {
    /// Its protocol's fingerprint, which a native client must offer.
    fn fingerprint(&self) -> u64;

    /// Checks that `options` decode as this kind's options.
    fn check_options(&self, options: &[u8]) -> Result<(), Refused>;

    /// Seats a connection as `intent` asks, starting a match when it must;
    /// `resume`: the connection resumes a session, whose paused player holds its
    /// place already.
    fn place(&self, intent: &Intent, resume: bool) -> Result<Box<dyn Placement>, Refused>;

    /// Each live match of the kind.
    fn matches(&self) -> Vec<MatchInfo>;

    /// Each live match of the kind, with its metadata encoded, for a service's
    /// directory.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    fn published(&self) -> Vec<PublishedMatch>;

    /// Hands a message from elsewhere in the service to the match `code`, or to
    /// every match of the kind; a message whose event is not of this kind's
    /// protocol is dropped (and logged).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    fn deliver(&self, code: Option<&str>, message: Remote<'_>);

    /// Asks the match `code` for its players, each state as JSON; `None` when
    /// the kind has no such live match.
    fn players_json(
        &self,
        code: &str,
    ) -> Option<tokio::sync::oneshot::Receiver<Vec<crate::server::PlayerInfo<String>>>>;

    /// Locks or unlocks the match `code`; `false` when the kind has no such live
    /// match.
    fn set_locked(&self, code: &str, locked: bool) -> bool;

    /// Tells the kind's default match (its `on_error`) of a problem with no
    /// player.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    fn report(&self, error: ServerError);
}

/// A live match as a service's directory shows it.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishedMatch {
    pub(crate) info: MatchInfo,
    /// The match's metadata, encoded as one value of the native wire.
    pub(crate) metadata: Vec<u8>,
}

/// What a kind knows of one of its live matches.
pub(crate) struct MatchRecord<P: Protocol> {
    pub(crate) code: String,
    /// The name of the match's kind.
    pub(crate) kind: String,
    pub(crate) seats: Arc<Seats>,
    pub(crate) max_players: usize,
    pub(crate) public: bool,
    /// A default match, which lasts as long as its server.
    pub(crate) persistent: bool,
    pub(crate) locked: AtomicBool,
    /// The match's metadata, and its encoding for listings.
    metadata: Mutex<(P::MatchMetadata, Vec<u8>)>,
    pub(crate) port: mpsc::Sender<ToMatch<P>>,
    /// Players in the match now, paused ones included.
    pub(crate) players: Arc<AtomicUsize>,
    /// What its sync engine did, as of its last tick.
    pub(crate) stats: StatsBoard,
    /// How long its last tick took, in microseconds.
    pub(crate) last_tick_us: std::sync::atomic::AtomicU64,
    /// As of its last tick: its paused players, the sends waiting in its
    /// connected players' queues, and the most waiting in one.
    pub(crate) queues: QueueBoard,
    /// The process's counters, which the match adds to.
    pub(crate) process: Arc<ProcessBoard>,
    /// The service the process belongs to, told of each player who comes and goes.
    pub(crate) service: Option<Arc<dyn ServiceLink>>,
    /// The match's handle, for messages from elsewhere in the service.
    handle: ServerHandle<P>,
}

impl<P: Protocol> std::fmt::Debug for MatchRecord<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchRecord")
            .field("code", &self.code)
            .field("seats", &self.seats.taken())
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> MatchRecord<P> {
    /// The match's metadata.
    pub(crate) fn metadata(&self) -> P::MatchMetadata {
        lock(&self.metadata).0.clone()
    }

    /// Changes the match's metadata, as listed and filtered on from now on.
    pub(crate) fn set_metadata(&self, metadata: P::MatchMetadata) {
        let encoded = encode_value(&metadata).unwrap_or_else(|error| {
            tracing::warn!(code = %self.code, "match metadata cannot be encoded: {error}");
            Vec::new()
        });
        *lock(&self.metadata) = (metadata, encoded);
    }

    fn info(&self) -> MatchInfo {
        MatchInfo {
            code: self.code.clone(),
            kind: self.kind.clone(),
            players: self.players.load(Ordering::Relaxed),
            max_players: self.max_players,
            locked: self.locked.load(Ordering::Relaxed),
            public: self.public,
            stats: self.stats.read(self.players.load(Ordering::Relaxed)),
            last_tick_time: std::time::Duration::from_micros(
                self.last_tick_us.load(Ordering::Relaxed),
            ),
            paused: self.queues.paused.load(Ordering::Relaxed),
            queued: self.queues.queued.load(Ordering::Relaxed),
            deepest_queue: self.queues.deepest.load(Ordering::Relaxed),
        }
    }
}

/// A match's players' queues as of its last tick, for readers outside it.
#[derive(Debug, Default)]
pub(crate) struct QueueBoard {
    pub(crate) paused: AtomicUsize,
    pub(crate) queued: AtomicUsize,
    pub(crate) deepest: AtomicUsize,
}

/// A kind of the protocol `P` at run time.
pub(crate) struct KindRuntime<P: Protocol, G> {
    name: String,
    /// The kind's handlers, cloned for each match it starts.
    handlers: Mutex<Handlers<P, G>>,
    games: Option<GameFactory<P, G>>,
    filter: Filter<P>,
    metadata: MetadataOf<P>,
    /// The kind's matches' settings.
    config: Arc<ServerConfig>,
    linger: Duration,
    /// Live matches by code. Finding a match and making one happen under this
    /// lock, so two clients that find none at once do not both make one.
    matches: Mutex<HashMap<String, Arc<MatchRecord<P>>>>,
    /// The code of the kind's default match, for a server's own kind.
    default: Mutex<Option<String>>,
    process: Arc<Process>,
    me: Weak<Self>,
}

impl<P: Protocol, G: Send + 'static> KindRuntime<P, G> {
    /// The kind `kind` of a server configured by `server`, ready to start matches.
    pub(crate) fn new(
        kind: MatchKind<P, G>,
        server: &ServerConfig,
        process: Arc<Process>,
    ) -> Arc<Self> {
        let MatchKind {
            name,
            handlers,
            games,
            filter,
            metadata,
            settings,
        } = kind;
        let config = Arc::new(settings.apply(server));
        let linger = settings.linger.unwrap_or(DEFAULT_LINGER);
        Arc::new_cyclic(|me| Self {
            name,
            handlers: Mutex::new(handlers),
            games,
            filter,
            metadata,
            config,
            linger,
            matches: Mutex::new(HashMap::new()),
            default: Mutex::new(None),
            process,
            me: me.clone(),
        })
    }

    /// Makes the kind's default match, which lasts as long as the server, with
    /// `game` and the handle made with the server: it is listed (so clients can
    /// join it) now, and its task spawns when the returned function runs.
    pub(crate) fn prepare_default(
        &self,
        game: G,
        handle: ServerHandle<P>,
        commands: mpsc::UnboundedReceiver<Command<P>>,
    ) -> Box<dyn FnOnce() + Send> {
        let code = self.process.directory.register_default(&self.name);
        let (record, task) = self.make(
            code,
            P::MatchOptions::default(),
            true,
            true,
            game,
            Some((handle, commands)),
        );
        *lock(&self.default) = Some(record.code.clone());
        lock(&self.matches).insert(record.code.clone(), record);
        let spawner = self.process.spawner.clone();
        Box::new(move || spawner.spawn(task))
    }

    fn decode_options(&self, options: &[u8]) -> Result<P::MatchOptions, Refused> {
        if options.is_empty() {
            return Ok(P::MatchOptions::default());
        }
        decode_value(options, "options").map_err(|error| {
            (
                RefusalKind::BadOptions,
                format!("options for `{}` do not decode: {error}", self.name),
            )
        })
    }

    /// A new match's game value.
    fn game_for(&self, options: &P::MatchOptions) -> Result<G, Refused> {
        let Some(games) = &self.games else {
            return Err((
                RefusalKind::CannotCreate,
                format!(
                    "kind `{}` makes no new matches: it hosts its server's one match",
                    self.name
                ),
            ));
        };
        // The factory is the user's: its panic refuses this request, not the kind.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| games(options))).map_err(|panic| {
            let message = crate::handler::panic_message(&*panic);
            tracing::error!(kind = %self.name, "the game factory panicked: {message}");
            (
                RefusalKind::CannotCreate,
                format!("kind `{}` could not make a match", self.name),
            )
        })
    }

    /// Starts a match and its task; it is listed once the caller adds it. Refused
    /// when no code is at hand (a relayed server's relay has none for it now).
    fn start(
        &self,
        options: P::MatchOptions,
        public: bool,
        game: G,
    ) -> Result<Arc<MatchRecord<P>>, Refused> {
        let code = self
            .process
            .directory
            .register(&self.name)
            .map_err(|reason| (RefusalKind::ServerFull, reason))?;
        let (record, task) = self.make(code, options, public, false, game, None);
        self.process.spawner.spawn(task);
        Ok(record)
    }

    /// A new match's record and task, under `code` (which the directory registered
    /// for it).
    fn make(
        &self,
        code: String,
        options: P::MatchOptions,
        public: bool,
        persistent: bool,
        game: G,
        handle: Option<(ServerHandle<P>, mpsc::UnboundedReceiver<Command<P>>)>,
    ) -> (Arc<MatchRecord<P>>, MatchTask<P, G>) {
        let process = &self.process;
        let (handle, commands) = handle
            .unwrap_or_else(|| ServerHandle::new(process.shutdown.clone(), process.link.clone()));
        let (port, inbox) = mpsc::channel(self.config.event_queue_len.max(1));
        let metadata = (self.metadata)(&options);
        let encoded = encode_value(&metadata).unwrap_or_default();
        let record = Arc::new(MatchRecord {
            code: code.clone(),
            kind: self.name.clone(),
            seats: Arc::new(Seats::default()),
            max_players: self.config.max_players,
            public,
            persistent,
            locked: AtomicBool::new(false),
            metadata: Mutex::new((metadata, encoded)),
            port,
            players: handle.online.clone(),
            stats: StatsBoard::default(),
            last_tick_us: std::sync::atomic::AtomicU64::new(0),
            queues: QueueBoard::default(),
            process: process.counters.clone(),
            service: process.service.clone(),
            handle: handle.clone(),
        });
        process.counters.started.fetch_add(1, Ordering::Relaxed);
        let mut handlers = lock(&self.handlers).clone();
        let rules = std::mem::take(&mut handlers.rules);
        let ids = PlayerIds::new(handlers.id_generator.take(), process.service.clone());
        let state = MatchState::new(
            game,
            self.config.clone(),
            rules,
            ids,
            handle,
            record.clone(),
            options,
        );
        let me = self.me.clone();
        let lifetime = Lifetime {
            linger: (!persistent).then_some(self.linger),
            on_end: Box::new(move || {
                if let Some(kind) = me.upgrade() {
                    kind.forget(&code);
                }
            }),
        };
        let task = MatchTask::new(
            Match::new(state, handlers, Instant::now()),
            inbox,
            commands,
            process.shutdown.subscribe(),
            lifetime,
        );
        (record, task)
    }

    /// Forgets an ended match.
    fn forget(&self, code: &str) {
        lock(&self.matches).remove(code);
        self.process.directory.release(code);
    }

    /// Takes a place in `record` for a new player.
    fn seat(&self, record: &Arc<MatchRecord<P>>) -> Result<Seat, Refused> {
        let process = &self.process;
        Seat::take(
            &record.seats,
            record.max_players,
            &process.online,
            process.max_players,
        )
        .map_err(|no| match no {
            NoSeat::MatchFull => (
                RefusalKind::MatchFull,
                format!("match {} is full", record.code),
            ),
            NoSeat::ServerFull => (RefusalKind::ServerFull, "server full".to_owned()),
            NoSeat::Ended => unknown_match(&record.code),
        })
    }

    fn seated(record: &MatchRecord<P>, seat: Option<Seat>) -> Box<dyn Placement> {
        Box::new(Seated::<P> {
            port: record.port.clone(),
            seat,
        })
    }

    /// A public match that suits `options`, seated, or a new one made from them.
    fn find(&self, options: &[u8]) -> Result<Box<dyn Placement>, Refused> {
        let options = self.decode_options(options)?;
        let mut matches = lock(&self.matches);
        let candidates = matches.values().filter(|record| {
            record.public
                && !record.locked.load(Ordering::Relaxed)
                && !record.seats.ended()
                && record.seats.taken() < record.max_players
        });
        for record in candidates {
            if !(self.filter)(&options, &lock(&record.metadata).0) {
                continue;
            }
            // A match that filled up meanwhile is skipped.
            if let Ok(seat) = self.seat(record) {
                return Ok(Self::seated(record, Some(seat)));
            }
        }
        let game = self.game_for(&options)?;
        let record = self.start(options, true, game)?;
        // Seated before anyone else can find it: its maker's place is its own.
        let seat = self.seat(&record);
        matches.insert(record.code.clone(), record.clone());
        drop(matches);
        Ok(Self::seated(&record, Some(seat?)))
    }

    fn listing(&self) -> Box<dyn Placement> {
        let matches = lock(&self.matches);
        let mut listed: Vec<&Arc<MatchRecord<P>>> = matches
            .values()
            .filter(|record| record.public && !record.seats.ended())
            .collect();
        listed.sort_by(|a, b| a.code.cmp(&b.code));
        let metadata: Vec<Vec<u8>> = listed
            .iter()
            .map(|record| lock(&record.metadata).1.clone())
            .collect();
        let frame =
            encode_listing_raw(
                listed
                    .iter()
                    .zip(&metadata)
                    .map(|(record, metadata)| RawListing {
                        code: &record.code,
                        players: narrow(record.seats.taken()),
                        max_players: narrow(record.max_players),
                        locked: record.locked.load(Ordering::Relaxed),
                        metadata,
                    }),
            );
        Box::new(Listing(frame))
    }
}

fn narrow(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn unknown_match(code: &str) -> Refused {
    (
        RefusalKind::UnknownMatch,
        format!("no match has the code {code}"),
    )
}

impl<P: Protocol, G: Send + 'static> Kind for KindRuntime<P, G> {
    fn fingerprint(&self) -> u64 {
        P::FINGERPRINT
    }

    fn check_options(&self, options: &[u8]) -> Result<(), Refused> {
        self.decode_options(options).map(drop)
    }

    fn place(&self, intent: &Intent, resume: bool) -> Result<Box<dyn Placement>, Refused> {
        match intent {
            Intent::Default | Intent::Join { .. } => {
                let code = match intent {
                    Intent::Join { code } => code.clone(),
                    _ => lock(&self.default).clone().ok_or_else(|| {
                        (
                            RefusalKind::BadMatchRequest,
                            format!("kind `{}` has no default match: name one", self.name),
                        )
                    })?,
                };
                let record = lock(&self.matches)
                    .get(&code)
                    .cloned()
                    .ok_or_else(|| unknown_match(&code))?;
                if resume {
                    // The paused player holds its place; locks are for newcomers.
                    return Ok(Self::seated(&record, None));
                }
                if record.locked.load(Ordering::Relaxed) {
                    return Err((
                        RefusalKind::MatchLocked,
                        format!("match {code} takes no new players"),
                    ));
                }
                let seat = self.seat(&record)?;
                Ok(Self::seated(&record, Some(seat)))
            }
            Intent::Create { .. } | Intent::Find { .. } if resume => Err((
                RefusalKind::BadMatchRequest,
                "a resume names its match by code, not by create or find".to_owned(),
            )),
            Intent::Create {
                options, private, ..
            } => {
                let options = self.decode_options(options)?;
                let game = self.game_for(&options)?;
                let record = self.start(options, !private, game)?;
                // Seated before a `find` can see it: its maker's place is its own.
                let seat = self.seat(&record);
                lock(&self.matches).insert(record.code.clone(), record.clone());
                Ok(Self::seated(&record, Some(seat?)))
            }
            Intent::Find { options, .. } => self.find(options),
            Intent::List { .. } => Ok(self.listing()),
        }
    }

    fn matches(&self) -> Vec<MatchInfo> {
        let mut infos: Vec<MatchInfo> = lock(&self.matches)
            .values()
            .map(|record| record.info())
            .collect();
        infos.sort_by(|a, b| a.code.cmp(&b.code));
        infos
    }

    fn published(&self) -> Vec<PublishedMatch> {
        lock(&self.matches)
            .values()
            .map(|record| PublishedMatch {
                info: record.info(),
                metadata: lock(&record.metadata).1.clone(),
            })
            .collect()
    }

    fn players_json(
        &self,
        code: &str,
    ) -> Option<tokio::sync::oneshot::Receiver<Vec<crate::server::PlayerInfo<String>>>> {
        let handle = lock(&self.matches).get(code)?.handle.clone();
        let (reply, answer) = tokio::sync::oneshot::channel();
        handle.command(Command::PlayersJson(reply)).ok()?;
        Some(answer)
    }

    fn set_locked(&self, code: &str, locked: bool) -> bool {
        match lock(&self.matches).get(code) {
            Some(record) => {
                record.locked.store(locked, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn deliver(&self, code: Option<&str>, message: Remote<'_>) {
        let command = || -> Option<Command<P>> {
            let event = |native: &[u8]| match decode_server_frame::<P>(native, usize::MAX) {
                Ok(ServerFrame::Event(event)) => Some((Bytes::copy_from_slice(native), event)),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(kind = %self.name, "an event from the service does not decode: {error}");
                    None
                }
            };
            Some(match message {
                Remote::Broadcast { native } => {
                    let (native, event) = event(native)?;
                    Command::Broadcast { native, event }
                }
                Remote::Send { player, native } => {
                    let (native, event) = event(native)?;
                    Command::Send {
                        player,
                        native,
                        event,
                    }
                }
                Remote::Kick { player } => Command::Kick(player),
                Remote::End => Command::End,
            })
        };
        let matches = lock(&self.matches);
        let records: Vec<&Arc<MatchRecord<P>>> = match code {
            Some(code) => matches.get(code).into_iter().collect(),
            None => matches.values().collect(),
        };
        for record in records {
            let Some(command) = command() else { return };
            let _ = record.handle.command(command);
        }
    }

    fn report(&self, error: ServerError) {
        let Some(code) = lock(&self.default).clone() else {
            tracing::warn!("{error}");
            return;
        };
        let port = lock(&self.matches)
            .get(&code)
            .map(|record| record.port.clone());
        if let Some(port) = port {
            if port.try_send(ToMatch::Problem(Box::new(error))).is_err() {
                tracing::warn!("a problem could not be reported: the match is busy or gone");
            }
        }
    }
}

/// A seat in a match: the connection plays there as a player.
struct Seated<P: Protocol> {
    port: mpsc::Sender<ToMatch<P>>,
    seat: Option<Seat>,
}

impl<P: Protocol> Placement for Seated<P> {
    fn play(
        self: Box<Self>,
        socket: WebSocketStream<Io>,
        connecting: Connecting,
    ) -> BoxFuture<'static, ()> {
        let Seated { port, seat } = *self;
        Box::pin(link::play::<P>(socket, port, seat, connecting))
    }
}

/// The answer to `list`: one listing frame, then a normal close.
struct Listing(Bytes);

impl Placement for Listing {
    fn play(
        self: Box<Self>,
        mut socket: WebSocketStream<Io>,
        connecting: Connecting,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let closing = async {
                socket.send(Message::Binary(self.0)).await?;
                let normal = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "listing sent".into(),
                };
                socket.close(Some(normal)).await
            };
            let _ = tokio::time::timeout(connecting.config.close_timeout, closing).await;
        })
    }
}

/// A lock's data even if a panic poisoned it: every change under these locks is a
/// single insert, remove or assignment.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
