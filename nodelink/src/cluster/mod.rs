//! A game service over several processes (feature `cluster`): each process
//! registers itself and its matches in a directory in Redis, gateways
//! (`nodelink-relay --redis`) route each player's one WebSocket to the process
//! that holds its match, and processes reach each other's players (broadcasts,
//! a message or a kick for one player, where a player is) through it. Redis
//! carries control only: game frames go from gateways to processes directly.
//!
//! A process joins the service as one more transport of its server:
//!
//! ```no_run
//! use nodelink::cluster::{Cluster, ClusterConfig};
//! use nodelink::server::{Server, ServerConfig};
//! # use nodelink::{PlayerId, SyncState};
//! # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { pub x: f32 }
//! # #[nodelink::events] pub enum ToServer { Ready }
//! # #[nodelink::events] pub enum ToClient { News { text: String } }
//! # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
//! # pub struct Game;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::<Game>::new(ServerConfig::default());
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:7001").await?;
//! // Gateways reach this process at this address.
//! let config = ClusterConfig::new("redis://10.0.0.2:6379", "ws://10.0.0.5:7001/");
//! let cluster = Cluster::connect(config).await?;
//! let service = cluster.handle();
//! tokio::spawn(async move {
//!     // Every player of every `Game` match, in every process.
//!     let news = ToClient::News { text: "a tournament starts at noon".into() };
//!     let _ = service.broadcast::<Game>(&news).await;
//! });
//! server.serve(listener).and(cluster).await?;
//! # Ok(())
//! # }
//! ```
//!
//! What the directory holds, and how processes and gateways use it, is in
//! `docs/service.md`. A process is in the directory while its lease lasts
//! ([`ClusterConfig::lease`], renewed three times a lease): one killed or cut off
//! from Redis leaves it within a lease, and its matches with it. While Redis is
//! away, matches play on; new matches cannot be made on a process that has no
//! code left at hand, messages between processes sent meanwhile are lost, and on
//! its return each process renews its lease and publishes its matches again.

mod directory;
mod ids;
mod keys;
mod messages;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use redis::aio::PubSubStream;
use tokio::sync::{mpsc, Notify};
use tokio::time::{interval, MissedTickBehavior};

pub use directory::{ListedMatch, Presence, ProcessEntry};

use self::directory::{Directory, MatchEntry};
use self::ids::{Counts, Scrambler, BLOCK};
use self::messages::Control;
use crate::random::random_u64;
use crate::server::matchmaking::directory::{random_code, CodeSource};
use crate::server::matchmaking::{Directory as Codes, Intent, Matchmaker};
use crate::server::runtime::Feed;
use crate::server::serve::sealed::Accept;
use crate::server::serve::BoxFuture;
use crate::server::service::{Remote, ServiceLink};
use crate::server::RunError;
use crate::wire::encode_event;
use crate::{PlayerId, Protocol};

/// Codes a process keeps claimed ahead of need, so that making a match never
/// waits for Redis.
const SPARE_CODES: usize = 64;

/// A process's lease unless its config says otherwise.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(6);

/// How a process joins a service.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    redis_url: String,
    addr: String,
    service: String,
    lease: Duration,
    process_id: Option<String>,
}

impl ClusterConfig {
    /// A process of the service whose directory is the Redis at `redis_url`
    /// (`redis://host:port`), reached by gateways at `addr` (the `ws://` or
    /// `wss://` URL of its listener, as they can reach it).
    pub fn new(redis_url: impl Into<String>, addr: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            addr: addr.into(),
            service: "nodelink".to_owned(),
            lease: DEFAULT_LEASE,
            process_id: None,
        }
    }

    /// The service's name: what its keys in Redis begin with, so several services
    /// share one Redis. Its gateways are given the same. Default `"nodelink"`.
    #[must_use]
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.service = name.into();
        self
    }

    /// How long the directory keeps the process without news of it (it renews
    /// the lease three times a lease). A process killed or cut off from Redis is
    /// forgotten within this. Default 6 s.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(300));
        self
    }

    /// The process's id in the service. Default: random.
    #[must_use]
    pub fn process_id(mut self, id: impl Into<String>) -> Self {
        self.process_id = Some(id.into());
        self
    }
}

/// Why a process could not join its service, or a message could not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Redis cannot be reached or answered with an error.
    #[error("the service's directory at {url}: {reason}")]
    Redis {
        /// Redis's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// An event could not be encoded.
    #[error("cannot encode the event: {0}")]
    Encode(String),
}

/// A process's membership of a service: a transport to serve with its server's
/// other ones ([`Server::serve`](crate::server::Server::serve)`(…).and(cluster)`).
/// Made by [`Cluster::connect`].
pub struct Cluster {
    config: ClusterConfig,
    directory: Directory,
    link: Arc<Link>,
    events: mpsc::UnboundedReceiver<Event>,
    /// Subscribed from the start: no message sent once `connect` returned is
    /// missed.
    subscription: PubSubStream,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("process", &self.link.me)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the process's matches ask of the service, and the loop's to-do list.
struct Link {
    me: String,
    scrambler: Scrambler,
    counts: Mutex<Counts>,
    default_code: String,
    spare_codes: Mutex<VecDeque<String>>,
    events: mpsc::UnboundedSender<Event>,
    /// Wakes the loop to claim more codes or ids.
    wants_more: Notify,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum Event {
    Joined(PlayerId, String),
    Left(PlayerId),
    Released(String),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ServiceLink for Link {
    fn player_id(&self) -> Option<PlayerId> {
        let mut counts = lock(&self.counts);
        let count = counts.take();
        if counts.wants_block() {
            self.wants_more.notify_one();
        }
        count.map(|count| self.scrambler.id(count))
    }

    fn joined(&self, player: PlayerId, code: &str) {
        let _ = self.events.send(Event::Joined(player, code.to_owned()));
    }

    fn left(&self, player: PlayerId, _code: &str) {
        let _ = self.events.send(Event::Left(player));
    }
}

impl CodeSource for Link {
    fn default_code(&self) -> String {
        self.default_code.clone()
    }

    fn take(&self) -> Result<Option<String>, String> {
        let mut spare = lock(&self.spare_codes);
        let code = spare.pop_front();
        if spare.len() < SPARE_CODES * 3 / 4 {
            self.wants_more.notify_one();
        }
        code.map(Some).ok_or_else(|| {
            "no match code from the service's directory at hand: try again shortly".to_owned()
        })
    }

    fn give_back(&self, code: &str) {
        let _ = self.events.send(Event::Released(code.to_owned()));
    }
}

/// A link that wraps an `Arc<Link>` for the server's directory, which wants a
/// `CodeSource` of its own.
struct Codebook(Arc<Link>);

impl CodeSource for Codebook {
    fn default_code(&self) -> String {
        self.0.default_code()
    }

    fn take(&self) -> Result<Option<String>, String> {
        self.0.take()
    }

    fn give_back(&self, code: &str) {
        self.0.give_back(code);
    }
}

impl Cluster {
    /// Joins the service: connects to its directory, takes the process's first
    /// player ids and match codes, and registers the process (with no kinds yet:
    /// gateways send it players once it is served).
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be reached.
    pub async fn connect(config: ClusterConfig) -> Result<Self, ClusterError> {
        let timeout = (config.lease / 3).max(Duration::from_millis(200));
        let directory = Directory::connect(&config.redis_url, &config.service, timeout).await?;
        let failed = |error: redis::RedisError| ClusterError::Redis {
            url: config.redis_url.clone(),
            reason: error.to_string(),
        };
        let me = config
            .process_id
            .clone()
            .unwrap_or_else(|| format!("{:016x}", random_u64()));
        // The lease first: a code claimed by a process without one is anyone's.
        let entry = ProcessEntry {
            id: me.clone(),
            addr: config.addr.clone(),
            kinds: Vec::new(),
            protocols: std::collections::BTreeMap::new(),
            players: 0,
            max_players: 0,
            matches: 0,
            draining: true,
        };
        directory
            .renew(&entry, config.lease)
            .await
            .map_err(failed)?;
        let scrambler = Scrambler::new(directory.id_key(random_u64()).await.map_err(failed)?);
        let mut counts = Counts::default();
        counts.add_block(directory.id_block(BLOCK).await.map_err(failed)?);
        let default_code = claim_new_code(&directory, &me).await.map_err(failed)?;
        let mut spare = VecDeque::new();
        for _ in 0..SPARE_CODES {
            spare.push_back(claim_new_code(&directory, &me).await.map_err(failed)?);
        }
        let keys = &directory.keys;
        let channels = [keys.process_channel(&me), keys.everyone_channel()];
        let subscription = directory
            .subscribe(&channels)
            .await
            .map_err(failed)?
            .into_on_message();
        let (events_tx, events) = mpsc::unbounded_channel();
        let link = Arc::new(Link {
            me,
            scrambler,
            counts: Mutex::new(counts),
            default_code,
            spare_codes: Mutex::new(spare),
            events: events_tx,
            wants_more: Notify::new(),
        });
        Ok(Self {
            config,
            directory,
            link,
            events,
            subscription,
        })
    }

    /// The process's id in the service.
    #[must_use]
    pub fn process_id(&self) -> &str {
        &self.link.me
    }

    /// A handle to reach players anywhere in the service.
    #[must_use]
    pub fn handle(&self) -> ClusterHandle {
        ClusterHandle {
            directory: self.directory.clone(),
            url: self.config.redis_url.clone(),
        }
    }
}

/// Claims a code no live process holds.
async fn claim_new_code(directory: &Directory, me: &str) -> redis::RedisResult<String> {
    loop {
        let code = random_code();
        if directory.claim_code(&code, me).await? {
            return Ok(code);
        }
    }
}

impl Accept for Cluster {
    fn directory(&self) -> Option<Codes> {
        Some(Codes::with_source(Arc::new(Codebook(self.link.clone()))))
    }

    fn service(&self) -> Option<Arc<dyn ServiceLink>> {
        Some(self.link.clone())
    }

    fn accept(self: Box<Self>, mut feed: Feed) -> BoxFuture<Result<(), RunError>> {
        Box::pin(async move {
            let Cluster {
                config,
                directory,
                link,
                mut events,
                subscription,
            } = *self;
            let matchmaker = feed.context().matchmaker.clone();
            let max_players = feed.context().config.max_players;
            let mut member = Member {
                config,
                directory,
                link,
                matchmaker,
                max_players,
                published: HashMap::new(),
                players: HashMap::new(),
                subscription: Some(subscription),
                healthy: true,
                beats: 0,
                last_warning: None,
            };
            // Codes and ids are claimed apart from this loop, so that a storm of
            // joins (a directory write each) does not starve new matches of codes.
            let claiming = tokio::spawn(keep_claimed(
                member.directory.clone(),
                member.link.clone(),
                member.config.lease / 3,
            ));
            let mut beat = interval(member.config.lease / 3);
            beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
            // Gateways learn that the process drains at once, not a beat later.
            let mut draining = member.matchmaker.process().draining.subscribe();
            loop {
                let subscription = &mut member.subscription;
                let step = feed
                    .next(async {
                        tokio::select! {
                            _ = beat.tick() => Step::Beat,
                            Ok(()) = draining.changed() => Step::Beat,
                            Some(event) = events.recv() => Step::Event(event),
                            message = next_message(subscription) => Step::Message(message),
                        }
                    })
                    .await;
                let Some(step) = step else { break };
                match step {
                    Step::Beat => member.beat().await,
                    Step::Event(event) => member.event(event).await,
                    Step::Message(Some(message)) => member.message(&message),
                    Step::Message(None) => member.subscription = None,
                }
            }
            // A code claimed after this is orphaned, and anyone's: its owner's
            // lease is gone.
            claiming.abort();
            member.withdraw().await;
            Ok(())
        })
    }
}

enum Step {
    Beat,
    Event(Event),
    Message(Option<Vec<u8>>),
}

/// Keeps [`SPARE_CODES`] match codes and a block of player ids claimed ahead of
/// need: at once when the spare codes run low or the ids near their end, and
/// every `every` (after a failure, or when Redis was away).
async fn keep_claimed(directory: Directory, link: Arc<Link>, every: Duration) {
    loop {
        let wanted = link.wants_more.notified();
        claim_ahead(&directory, &link).await;
        tokio::select! {
            () = wanted => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}

async fn claim_ahead(directory: &Directory, link: &Link) {
    while lock(&link.spare_codes).len() < SPARE_CODES {
        match claim_new_code(directory, &link.me).await {
            Ok(code) => lock(&link.spare_codes).push_back(code),
            Err(error) => {
                tracing::debug!(process = %link.me, "claiming match codes: {error}");
                return;
            }
        }
    }
    if lock(&link.counts).wants_block() {
        match directory.id_block(BLOCK).await {
            Ok(end) => lock(&link.counts).add_block(end),
            Err(error) => tracing::debug!(process = %link.me, "taking player ids: {error}"),
        }
    }
}

/// The next message of the subscription; `None` once it is lost (it is made
/// again at the next beat); never, without one.
async fn next_message(subscription: &mut Option<PubSubStream>) -> Option<Vec<u8>> {
    match subscription {
        Some(stream) => stream
            .next()
            .await
            .map(|message| message.get_payload_bytes().to_vec()),
        None => std::future::pending().await,
    }
}

/// A served process's side of its membership: what it published, and what it
/// keeps up to date.
struct Member {
    config: ClusterConfig,
    directory: Directory,
    link: Arc<Link>,
    matchmaker: Arc<Matchmaker>,
    max_players: usize,
    /// The matches as last published, by code.
    published: HashMap<String, MatchEntry>,
    /// Where this process's players play.
    players: HashMap<PlayerId, String>,
    subscription: Option<PubSubStream>,
    /// Whether the last call to Redis succeeded.
    healthy: bool,
    beats: u64,
    last_warning: Option<Instant>,
}

impl Member {
    fn failed(&mut self, what: &str, error: &redis::RedisError) {
        self.healthy = false;
        let now = Instant::now();
        if self
            .last_warning
            .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(5))
        {
            tracing::warn!(process = %self.link.me, "the service's directory: {what}: {error}");
            self.last_warning = Some(now);
        }
    }

    /// Renews the lease, publishes what changed, claims what will be needed, and
    /// cleans up after dead processes now and then.
    async fn beat(&mut self) {
        self.beats += 1;
        let process = self.matchmaker.process();
        let mut kinds: Vec<String> = self.matchmaker.kind_names();
        kinds.sort();
        let protocols = self
            .matchmaker
            .kinds()
            .map(|(name, kind)| (name.to_owned(), kind.fingerprint()))
            .collect();
        let entries = self.current_matches();
        let entry = ProcessEntry {
            id: self.link.me.clone(),
            addr: self.config.addr.clone(),
            kinds,
            protocols,
            players: process.online.load(std::sync::atomic::Ordering::Relaxed),
            max_players: self.max_players,
            matches: entries.len(),
            draining: self.matchmaker.draining(),
        };
        if let Err(error) = self.directory.renew(&entry, self.config.lease).await {
            return self.failed("renewing the lease", &error);
        }
        if !self.healthy {
            tracing::info!(process = %self.link.me, "the service's directory is back: publishing again");
            self.republish().await;
            if !self.healthy {
                return;
            }
        }
        let changed: Vec<&MatchEntry> = entries
            .values()
            .filter(|entry| self.published.get(&entry.code) != Some(entry))
            .collect();
        let gone: Vec<MatchEntry> = self
            .published
            .values()
            .filter(|entry| !entries.contains_key(&entry.code))
            .cloned()
            .collect();
        if let Err(error) = self
            .directory
            .publish_matches(&self.link.me, &changed, &gone)
            .await
        {
            return self.failed("publishing matches", &error);
        }
        self.published = entries;
        if self.subscription.is_none() {
            self.subscribe().await;
        }
        if self.beats % 5 == 0 {
            if let Err(error) = self
                .directory
                .clean_up(&self.link.me, self.config.lease)
                .await
            {
                self.failed("cleaning up after dead processes", &error);
            }
        }
    }

    /// The process's matches as the directory should show them: a draining
    /// process's unlisted, so that no `find` is sent to them.
    fn current_matches(&self) -> HashMap<String, MatchEntry> {
        let draining = self.matchmaker.draining();
        self.matchmaker
            .published()
            .into_iter()
            .map(|published| {
                let info = published.info;
                let entry = MatchEntry {
                    code: info.code.clone(),
                    kind: info.kind,
                    players: info.players as u32,
                    max_players: info.max_players as u32,
                    locked: info.locked,
                    public: info.public && !draining,
                    metadata: published.metadata,
                };
                (info.code, entry)
            })
            .collect()
    }

    /// After Redis was away: claims every live match's code again (a code another
    /// process took meanwhile ends its match here, so that no code leads to two
    /// matches), publishes every match and player again.
    async fn republish(&mut self) {
        self.healthy = true;
        let codes: Vec<String> = self
            .current_matches()
            .into_keys()
            .chain([self.link.default_code.clone()])
            .chain(lock(&self.link.spare_codes).iter().cloned())
            .collect();
        for code in codes {
            match self.directory.claim_code(&code, &self.link.me).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(%code, "the match's code went to another process while the directory was away: the match ends");
                    lock(&self.link.spare_codes).retain(|spare| spare != &code);
                    if let Ok(kind) = self
                        .matchmaker
                        .kind_for(&Intent::Join { code: code.clone() })
                    {
                        kind.deliver(Some(&code), Remote::End);
                    }
                }
                Err(error) => return self.failed("claiming codes again", &error),
            }
        }
        self.published.clear();
        let players: Vec<(PlayerId, String)> = self
            .players
            .iter()
            .map(|(id, code)| (*id, code.clone()))
            .collect();
        for (player, code) in players {
            if let Err(error) = self.directory.joined(player, &self.link.me, &code).await {
                return self.failed("publishing players", &error);
            }
        }
        // The subscription is made anew: messages sent meanwhile are lost.
        self.subscription = None;
    }

    async fn subscribe(&mut self) {
        let keys = &self.directory.keys;
        let channels = [keys.process_channel(&self.link.me), keys.everyone_channel()];
        match self.directory.subscribe(&channels).await {
            Ok(pubsub) => self.subscription = Some(pubsub.into_on_message()),
            Err(error) => self.failed("subscribing", &error),
        }
    }

    async fn event(&mut self, event: Event) {
        let me = &self.link.me;
        let result = match event {
            Event::Joined(player, code) => {
                let result = self.directory.joined(player, me, &code).await;
                self.players.insert(player, code);
                result
            }
            Event::Left(player) => {
                self.players.remove(&player);
                self.directory.left(player, me).await
            }
            Event::Released(code) => match self.published.remove(&code) {
                Some(entry) => self.directory.publish_matches(me, &[], &[entry]).await,
                None => self.directory.release_code(&code, me).await,
            },
        };
        if let Err(error) = result {
            self.failed("publishing a change", &error);
        }
    }

    /// Hands a message from another process to the matches it is for.
    fn message(&self, bytes: &[u8]) {
        let Some(message) = Control::decode(bytes) else {
            tracing::debug!("a message from the service this version does not know");
            return;
        };
        match &message {
            Control::Broadcast {
                fingerprint,
                kind,
                native,
            } => {
                for (name, runtime) in self.matchmaker.kinds() {
                    let named = kind.as_deref().is_none_or(|kind| kind == name);
                    if named && runtime.fingerprint() == *fingerprint {
                        runtime.deliver(None, Remote::Broadcast { native });
                    }
                }
            }
            Control::Send {
                fingerprint,
                player,
                code,
                native,
            } => {
                if let Ok(runtime) = self
                    .matchmaker
                    .kind_for(&Intent::Join { code: code.clone() })
                {
                    if runtime.fingerprint() == *fingerprint {
                        let send = Remote::Send {
                            player: *player,
                            native,
                        };
                        runtime.deliver(Some(code), send);
                    }
                }
            }
            Control::Kick { player, code } => {
                if let Ok(runtime) = self
                    .matchmaker
                    .kind_for(&Intent::Join { code: code.clone() })
                {
                    runtime.deliver(Some(code), Remote::Kick { player: *player });
                }
            }
        }
    }

    /// Leaves the directory: the process, its matches and their codes.
    async fn withdraw(&mut self) {
        let published: Vec<MatchEntry> = self.published.drain().map(|(_, entry)| entry).collect();
        let mut codes: Vec<String> = lock(&self.link.spare_codes).drain(..).collect();
        codes.push(self.link.default_code.clone());
        let me = self.link.me.clone();
        let players: Vec<PlayerId> = self.players.drain().map(|(id, _)| id).collect();
        let withdrawing = async {
            self.directory.withdraw(&me, &published).await?;
            for code in &codes {
                self.directory.release_code(code, &me).await?;
            }
            for player in players {
                self.directory.left(player, &me).await?;
            }
            Ok::<(), redis::RedisError>(())
        };
        if let Err(error) = withdrawing.await {
            tracing::warn!(process = %me, "leaving the service's directory: {error}");
        }
    }
}

/// Reaches players anywhere in the service, from any process: events to every
/// player of a protocol (or of one kind), an event or a kick for one player
/// wherever it plays, and where a player plays. Made by [`Cluster::handle`];
/// clones share one connection.
///
/// Messages go through Redis's pub/sub: one sent while Redis is away is lost
/// (the call returns the error), and a process that is cut off from Redis when it
/// is sent does not get it.
#[derive(Clone)]
pub struct ClusterHandle {
    directory: Directory,
    url: String,
}

impl std::fmt::Debug for ClusterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterHandle")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ClusterHandle {
    fn failed(&self, error: &redis::RedisError) -> ClusterError {
        ClusterError::Redis {
            url: self.url.clone(),
            reason: error.to_string(),
        }
    }

    fn encode<Q: Protocol>(event: &Q::ToClient) -> Result<Vec<u8>, ClusterError> {
        encode_event(event)
            .map(|bytes| bytes.to_vec())
            .map_err(|error| ClusterError::Encode(error.to_string()))
    }

    async fn publish_everyone(&self, control: Control) -> Result<(), ClusterError> {
        let channel = self.directory.keys.everyone_channel();
        self.directory
            .publish(&channel, &control.encode())
            .await
            .map_err(|error| self.failed(&error))
    }

    /// Sends `event` to every player of every match of the protocol `Q`, in every
    /// process of the service (this one included).
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot take the message;
    /// [`ClusterError::Encode`] when the event cannot be encoded.
    pub async fn broadcast<Q: Protocol>(&self, event: &Q::ToClient) -> Result<(), ClusterError> {
        let control = Control::Broadcast {
            fingerprint: Q::FINGERPRINT,
            kind: None,
            native: Self::encode::<Q>(event)?,
        };
        self.publish_everyone(control).await
    }

    /// Sends `event` to every player of every match of the kind `kind` (of the
    /// protocol `Q`), in every process of the service.
    ///
    /// # Errors
    /// As [`broadcast`](Self::broadcast).
    pub async fn broadcast_to_kind<Q: Protocol>(
        &self,
        kind: &str,
        event: &Q::ToClient,
    ) -> Result<(), ClusterError> {
        let control = Control::Broadcast {
            fingerprint: Q::FINGERPRINT,
            kind: Some(kind.to_owned()),
            native: Self::encode::<Q>(event)?,
        };
        self.publish_everyone(control).await
    }

    /// Sends `event` to `player` wherever it plays, if its match is of the
    /// protocol `Q`; `false` when the directory knows of no such player.
    ///
    /// # Errors
    /// As [`broadcast`](Self::broadcast).
    pub async fn send_to<Q: Protocol>(
        &self,
        player: PlayerId,
        event: &Q::ToClient,
    ) -> Result<bool, ClusterError> {
        let native = Self::encode::<Q>(event)?;
        let Some(presence) = self.presence(player).await? else {
            return Ok(false);
        };
        let control = Control::Send {
            fingerprint: Q::FINGERPRINT,
            player,
            code: presence.match_code,
            native,
        };
        self.publish_to(&presence.process, control).await?;
        Ok(true)
    }

    /// Closes `player`'s connection wherever it plays, as
    /// [`ServerHandle::kick`](crate::server::ServerHandle::kick) does; `false`
    /// when the directory knows of no such player.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot take the message.
    pub async fn kick(&self, player: PlayerId) -> Result<bool, ClusterError> {
        let Some(presence) = self.presence(player).await? else {
            return Ok(false);
        };
        let control = Control::Kick {
            player,
            code: presence.match_code,
        };
        self.publish_to(&presence.process, control).await?;
        Ok(true)
    }

    /// Where `player` plays, if it plays in a live process of the service.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be read.
    pub async fn presence(&self, player: PlayerId) -> Result<Option<Presence>, ClusterError> {
        self.directory
            .presence(player)
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn publish_to(&self, process: &str, control: Control) -> Result<(), ClusterError> {
        let channel = self.directory.keys.process_channel(process);
        self.directory
            .publish(&channel, &control.encode())
            .await
            .map_err(|error| self.failed(&error))
    }
}

/// The service's directory as a gateway (or an operator's tool) reads it: the
/// live processes, the owner of a match code, a kind's listed matches, where a
/// player plays.
#[derive(Clone)]
pub struct ServiceDirectory {
    directory: Directory,
    url: String,
}

impl std::fmt::Debug for ServiceDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceDirectory")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ServiceDirectory {
    /// Connects to the directory of the service `service` (as named by
    /// [`ClusterConfig::service`]) in the Redis at `redis_url`; each call fails
    /// after `timeout` while Redis is away, and the connection comes back by
    /// itself.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be reached.
    pub async fn connect(
        redis_url: &str,
        service: &str,
        timeout: Duration,
    ) -> Result<Self, ClusterError> {
        Ok(Self {
            directory: Directory::connect(redis_url, service, timeout).await?,
            url: redis_url.to_owned(),
        })
    }

    fn failed(&self, error: &redis::RedisError) -> ClusterError {
        ClusterError::Redis {
            url: self.url.clone(),
            reason: error.to_string(),
        }
    }

    /// Every live process.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be read.
    pub async fn processes(&self) -> Result<Vec<ProcessEntry>, ClusterError> {
        self.directory
            .processes()
            .await
            .map_err(|error| self.failed(&error))
    }

    /// The live process that holds the match `code` (upper case), if any.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be read.
    pub async fn owner_of(&self, code: &str) -> Result<Option<ProcessEntry>, ClusterError> {
        self.directory
            .owner_of(code)
            .await
            .map_err(|error| self.failed(&error))
    }

    /// Up to `limit` listed matches of `kind`, by code, after the code `after`
    /// (for the next page) or from the first.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be read.
    pub async fn listing(
        &self,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ListedMatch>, ClusterError> {
        self.directory
            .listing(kind, after, limit)
            .await
            .map_err(|error| self.failed(&error))
    }

    /// Where `player` plays, if it plays in a live process.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be read.
    pub async fn presence(&self, player: PlayerId) -> Result<Option<Presence>, ClusterError> {
        self.directory
            .presence(player)
            .await
            .map_err(|error| self.failed(&error))
    }

    /// Whether the directory may still be missing live matches because Redis
    /// started (or restarted, empty) less than a lease ago: every live process
    /// publishes itself again within its lease, so a code not found meanwhile
    /// may be a live match's. A gateway tells such a request to try again
    /// rather than that its match is unknown.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use nodelink::cluster::ServiceDirectory;
    ///
    /// # async fn check() -> Result<(), nodelink::cluster::ClusterError> {
    /// let directory =
    ///     ServiceDirectory::connect("redis://10.0.0.2:6379", "nodelink", Duration::from_secs(1))
    ///         .await?;
    /// if directory.owner_of("K7MQ4P").await?.is_none() && directory.rebuilding().await? {
    ///     println!("K7MQ4P may be back shortly");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be read.
    pub async fn rebuilding(&self) -> Result<bool, ClusterError> {
        self.directory
            .rebuilding(DEFAULT_LEASE)
            .await
            .map_err(|error| self.failed(&error))
    }
}
