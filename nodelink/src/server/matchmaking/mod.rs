//! Matchmaking: which match a connection joins. A connection's request names what
//! it wants ([`Intent`]: the default match, a match by code, a new match, one
//! found by its options, or a listing); the matchmaker finds the kind that holds
//! it (the [`Directory`] knows every live code) and the kind seats the
//! connection, starting a match when it must, before the connection is upgraded.
//! Seats are taken atomically, so two clients racing for a last place never both
//! get it, and held by the connection, then its player, so none outlives its
//! holder and none needs a reservation that could expire.

pub(crate) mod directory;
pub(crate) mod intent;
pub(crate) mod kinds;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::server::error::ServerError;
use crate::server::game::{ProcessBoard, ProcessLink, SyncStats};
use crate::server::runtime::Spawner;
use crate::server::service::ServiceLink;
use crate::wire::RefusalKind;
pub(crate) use directory::Directory;
pub(crate) use intent::Intent;
pub(crate) use kinds::Kind;

/// Why matchmaking refused a connection, and the reason to tell it.
pub(crate) type Refused = (RefusalKind, String);

/// What every kind of a process shares: the codes of its matches, its count of
/// players against its maximum, where matches are spawned, and the shutdown
/// signal every match watches.
#[derive(Debug)]
pub(crate) struct Process {
    pub(crate) directory: Directory,
    pub(crate) online: Arc<AtomicUsize>,
    pub(crate) max_players: usize,
    pub(crate) spawner: Spawner,
    pub(crate) shutdown: Arc<watch::Sender<bool>>,
    /// Turns `true` when a service's process begins to shut down: it takes no
    /// new placements while its matches play on (see [`Matchmaker::drain`]).
    pub(crate) draining: watch::Sender<bool>,
    /// What handles of its matches reach the matchmaker through.
    pub(crate) link: ProcessLink,
    /// Its counters, which its matches add to.
    pub(crate) counters: Arc<ProcessBoard>,
    /// The service it belongs to, if any.
    pub(crate) service: Option<Arc<dyn ServiceLink>>,
}

/// One live match, as a listing of the server's matches shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchInfo {
    /// The match's code.
    pub code: String,
    /// The name of its kind.
    pub kind: String,
    /// Players in it, paused ones included.
    pub players: usize,
    /// The most players it holds.
    pub max_players: usize,
    /// Whether it takes no new players.
    pub locked: bool,
    /// Whether it is listed (a private match is joined by its code only).
    pub public: bool,
    /// What its sync engine did since it started, as of its last tick.
    pub stats: SyncStats,
    /// How long its last tick took (its `on_tick` handler and its sync).
    pub last_tick_time: std::time::Duration,
    /// Of its players, those paused (as of its last tick): their connections
    /// were lost and their clients may still resume them.
    pub paused: usize,
    /// Sends waiting in its connected players' queues (as of its last tick): a
    /// send is an event, or a tick's sync frames for one player.
    pub queued: usize,
    /// The most sends waiting in one player's queue (as of its last tick); a
    /// queue that stays full past `slow_consumer_timeout` ends its connection.
    pub deepest_queue: usize,
}

/// The whole server's numbers: its live matches and players, how many matches it
/// started and ended, and its matches' sync engines summed (ended matches
/// included). Read with [`ServerHandle::process_stats`](crate::server::ServerHandle::process_stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessStats {
    /// Matches running now.
    pub matches: usize,
    /// Players in them now, paused ones included.
    pub players: usize,
    /// Matches started since the server started (its default match included).
    pub matches_started: u64,
    /// Matches that ended.
    pub matches_ended: u64,
    /// Every match's sync engine, summed, as of each one's last tick; `players`
    /// is [`players`](Self::players).
    pub sync: SyncStats,
}

/// The process's kinds, by name, and the one that holds the default match.
pub(crate) struct Matchmaker {
    kinds: HashMap<String, Arc<dyn Kind>>,
    default_kind: String,
    process: Arc<Process>,
}

impl std::fmt::Debug for Matchmaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matchmaker")
            .field("kinds", &self.kinds.keys().collect::<Vec<_>>())
            .field("default_kind", &self.default_kind)
            .finish_non_exhaustive()
    }
}

impl Matchmaker {
    pub(crate) fn new(
        kinds: HashMap<String, Arc<dyn Kind>>,
        default_kind: String,
        process: Arc<Process>,
    ) -> Self {
        Self {
            kinds,
            default_kind,
            process,
        }
    }

    /// The kind that holds what `intent` asks for.
    pub(crate) fn kind_for(&self, intent: &Intent) -> Result<&Arc<dyn Kind>, Refused> {
        let name = match intent {
            Intent::Default => self.default_kind.clone(),
            Intent::Join { code } => self.process.directory.kind_of(code).ok_or_else(|| {
                (
                    RefusalKind::UnknownMatch,
                    format!("no match has the code {code}"),
                )
            })?,
            Intent::Create { kind, .. } | Intent::Find { kind, .. } | Intent::List { kind } => {
                kind.clone()
            }
        };
        self.kinds.get(&name).ok_or_else(|| {
            (
                RefusalKind::UnknownKind,
                format!("this server hosts no kind `{name}`"),
            )
        })
    }

    /// Tells the default match of a problem that concerns no player.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn report(&self, error: ServerError) {
        match self.kinds.get(&self.default_kind) {
            Some(kind) => kind.report(error),
            None => tracing::warn!("{error}"),
        }
    }

    /// Every live match, by kind then code.
    pub(crate) fn matches(&self) -> Vec<MatchInfo> {
        let mut names: Vec<&String> = self.kinds.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|name| self.kinds[name].matches())
            .collect()
    }

    /// The names of the process's kinds.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn kind_names(&self) -> Vec<String> {
        self.kinds.keys().cloned().collect()
    }

    /// Each kind, with its name.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn kinds(&self) -> impl Iterator<Item = (&str, &Arc<dyn Kind>)> {
        self.kinds.iter().map(|(name, kind)| (name.as_str(), kind))
    }

    /// Every live match, with its metadata encoded.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn published(&self) -> Vec<kinds::PublishedMatch> {
        self.kinds
            .values()
            .flat_map(|kind| kind.published())
            .collect()
    }

    /// The process's numbers.
    pub(crate) fn stats(&self) -> ProcessStats {
        let counters = &self.process.counters;
        let players = self.process.online.load(Ordering::Relaxed);
        ProcessStats {
            matches: self.process.spawner.live(),
            players,
            matches_started: counters.started.load(Ordering::Relaxed),
            matches_ended: counters.ended.load(Ordering::Relaxed),
            sync: counters.sync.read(players),
        }
    }

    /// The process's shared parts.
    pub(crate) fn process(&self) -> &Arc<Process> {
        &self.process
    }

    /// Begins a service's process's shutdown with a drain, and says whether it
    /// did: the process stops taking new placements (the default match, new
    /// matches, finds; players resuming or joining a match by its code still
    /// come in), its service's directory marks it draining and unlists its
    /// matches, and its matches play on until every player has left or the
    /// shutdown timeout has passed; then it stops as any server does. `false`
    /// for a process of no service (it stops at once) and once draining (asked
    /// again, it stops at once).
    pub(crate) fn drain(&self) -> bool {
        self.process.service.is_some() && !self.process.draining.send_replace(true)
    }

    /// Whether the process is draining.
    pub(crate) fn draining(&self) -> bool {
        *self.process.draining.borrow()
    }
}
