//! What every connection of a relay shares: the games by code (and native games by
//! token, and the match codes each native host claimed), the per-address
//! connection counts, the failed-join buckets, and the shutdown signal. Locks here
//! are short and never held across an `await`; a game's own lock is taken after
//! the directory's, never before.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

use crate::bucket::FailedJoins;
use crate::code::GameCode;
use crate::config::RelayConfig;
use crate::gateway::Gateway;
use crate::http::Refusal;
use crate::native::NativeGame;
use crate::outbox::Outbox;
use crate::python::PythonGame;
use crate::GameInfo;

/// A game, by who hosts it.
#[derive(Debug, Clone)]
pub(crate) enum Game {
    Python(Arc<PythonGame>),
    Native(Arc<NativeGame>),
}

impl Game {
    /// The game's own code (not one of its match codes).
    fn code(&self) -> &GameCode {
        match self {
            Self::Python(game) => &game.code,
            Self::Native(game) => &game.code,
        }
    }
}

#[derive(Debug, Default)]
struct Games {
    /// Every code the relay holds: each game's own, and each match code a native
    /// host claimed, which leads to that host's game. Each counts against
    /// [`RelayConfig::max_games`], so the codes a guesser could find stay bounded.
    by_code: HashMap<GameCode, Game>,
    native_by_token: HashMap<String, Arc<NativeGame>>,
    /// The match codes each native game's host claimed, by the game's own code.
    claimed: HashMap<GameCode, BTreeSet<GameCode>>,
}

impl Games {
    /// A code no game holds; `None` when none turns up (a relay configured with
    /// more games than short codes gives up rather than search for ever).
    fn fresh_code(&self, len: usize) -> Option<GameCode> {
        (0..64)
            .map(|_| GameCode::random(len))
            .find(|code| !self.by_code.contains_key(code))
    }

    /// Whether `game` still holds its code: it has not ended.
    fn holds(&self, game: &Arc<NativeGame>) -> bool {
        matches!(self.by_code.get(&game.code), Some(Game::Native(held)) if Arc::ptr_eq(held, game))
    }
}

/// What a native host's `claim` got: the codes granted, and why they are fewer
/// than asked, when they are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub(crate) codes: Vec<GameCode>,
    pub(crate) short: Option<String>,
}

/// The relay's shared state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: RelayConfig,
    games: Mutex<Games>,
    failed_joins: Mutex<FailedJoins>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_cid: AtomicU64,
    stop: watch::Sender<bool>,
    /// The gateway, when the relay is one.
    pub(crate) gateway: Option<Gateway>,
    /// What its metrics read.
    pub(crate) counters: crate::metrics::RelayCounters,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the data is
    // still consistent enough to keep serving everyone else.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(config: RelayConfig) -> Arc<Self> {
        let failed_joins = FailedJoins::new(config.failed_joins, config.failed_join_addresses);
        Arc::new(Self {
            gateway: Gateway::new(&config),
            config,
            games: Mutex::default(),
            failed_joins: Mutex::new(failed_joins),
            per_ip: Mutex::default(),
            next_cid: AtomicU64::new(1),
            stop: watch::Sender::new(false),
            counters: crate::metrics::RelayCounters::default(),
        })
    }

    /// Turns `true` when the relay begins to shut down.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub(crate) fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    pub(crate) fn shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// A connection id, never reused by this relay.
    pub(crate) fn new_cid(&self) -> String {
        format!("c{}", self.next_cid.fetch_add(1, Ordering::Relaxed))
    }

    /// Adds a game under a fresh code; HTTP 503 when the relay holds its maximum.
    fn add(&self, make: impl FnOnce(GameCode) -> Game) -> Result<Game, Refusal> {
        let mut games = lock(&self.games);
        if games.by_code.len() >= self.config.max_games {
            return Err(Refusal::new(503, "relay full"));
        }
        let Some(code) = games.fresh_code(self.config.clamped_code_len()) else {
            return Err(Refusal::new(503, "relay full"));
        };
        let game = make(code.clone());
        if let Game::Native(native) = &game {
            games
                .native_by_token
                .insert(native.token.clone(), native.clone());
        }
        games.by_code.insert(code, game.clone());
        Ok(game)
    }

    /// Adds a Python host's game, whose link's queue is `host`.
    pub(crate) fn add_python(&self, host: Outbox) -> Result<Arc<PythonGame>, Refusal> {
        let mut made = None;
        self.add(|code| {
            let game = Arc::new(PythonGame::new(code, host));
            made = Some(game.clone());
            Game::Python(game)
        })?;
        made.ok_or_else(|| Refusal::new(503, "relay full"))
    }

    /// Adds a native host's game, its control link (whose queue is `control`)
    /// attached.
    pub(crate) fn add_native(&self, control: Outbox) -> Result<Arc<NativeGame>, Refusal> {
        let mut made = None;
        self.add(|code| {
            let game = Arc::new(NativeGame::new(code, control));
            made = Some(game.clone());
            Game::Native(game)
        })?;
        made.ok_or_else(|| Refusal::new(503, "relay full"))
    }

    pub(crate) fn game(&self, code: &GameCode) -> Option<Game> {
        lock(&self.games).by_code.get(code).cloned()
    }

    pub(crate) fn native_by_token(&self, token: &str) -> Option<Arc<NativeGame>> {
        lock(&self.games).native_by_token.get(token).cloned()
    }

    /// Releases a game's code (and token, and the match codes its host claimed):
    /// joins with them fail from now on.
    pub(crate) fn remove(&self, code: &GameCode) {
        let mut games = lock(&self.games);
        if let Some(Game::Native(native)) = games.by_code.remove(code) {
            games.native_by_token.remove(&native.token);
            for claimed in games.claimed.remove(code).unwrap_or_default() {
                games.by_code.remove(&claimed);
            }
        }
    }

    /// Grants a native game's host up to `count` more codes for its matches: as
    /// many as its own limit ([`RelayConfig::max_codes_per_host`]) and the
    /// relay's ([`RelayConfig::max_games`]) leave room for.
    pub(crate) fn claim(&self, game: &Arc<NativeGame>, count: usize) -> Claimed {
        let mut games = lock(&self.games);
        if !games.holds(game) {
            let short = Some("the game has ended".to_owned());
            return Claimed {
                codes: Vec::new(),
                short,
            };
        }
        let max_codes = self.config.max_codes_per_host;
        let held = games.claimed.get(&game.code).map_or(0, BTreeSet::len);
        let host_room = max_codes.saturating_sub(held);
        let relay_room = self.config.max_games.saturating_sub(games.by_code.len());
        let mut codes = Vec::new();
        while codes.len() < count.min(host_room).min(relay_room) {
            let Some(code) = games.fresh_code(self.config.clamped_code_len()) else {
                break;
            };
            games
                .by_code
                .insert(code.clone(), Game::Native(game.clone()));
            codes.push(code);
        }
        games
            .claimed
            .entry(game.code.clone())
            .or_default()
            .extend(codes.iter().cloned());
        let short = (codes.len() < count).then(|| {
            if host_room < count {
                format!("this host holds its most match codes ({max_codes})")
            } else {
                "relay full".to_owned()
            }
        });
        Claimed { codes, short }
    }

    /// Releases a match code `game`'s host claimed; `false` if it holds no such
    /// code.
    pub(crate) fn release(&self, game: &Arc<NativeGame>, code: &GameCode) -> bool {
        let mut games = lock(&self.games);
        let released = games
            .claimed
            .get_mut(&game.code)
            .is_some_and(|claimed| claimed.remove(code));
        if released {
            games.by_code.remove(code);
        }
        released
    }

    /// The match codes `game`'s host holds.
    pub(crate) fn claimed(&self, game: &NativeGame) -> Vec<String> {
        lock(&self.games)
            .claimed
            .get(&game.code)
            .map(|claimed| claimed.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    }

    /// Every game, as the handle reports them.
    pub(crate) fn games(&self) -> Vec<GameInfo> {
        let listed: Vec<(Game, Vec<String>)> = {
            let games = lock(&self.games);
            games
                .by_code
                .iter()
                .filter(|(code, game)| game.code() == *code)
                .map(|(code, game)| {
                    let claimed = games.claimed.get(code).into_iter().flatten();
                    (game.clone(), claimed.map(ToString::to_string).collect())
                })
                .collect()
        };
        listed
            .into_iter()
            .map(|(game, match_codes)| {
                let mut info = match &game {
                    Game::Python(game) => game.info(),
                    Game::Native(game) => game.info(),
                };
                info.match_codes = match_codes;
                info
            })
            .collect()
    }

    /// Whether `ip` may try to join (or present a token) now.
    pub(crate) fn join_allowed(&self, ip: IpAddr) -> bool {
        lock(&self.failed_joins).allows(ip, Instant::now())
    }

    /// Counts a failed join (an unknown code, a wrong token) from `ip`.
    pub(crate) fn join_failed(&self, ip: IpAddr) {
        lock(&self.failed_joins).record(ip, Instant::now());
    }
}

/// The refusal for an address past its failed joins.
pub(crate) fn too_many_failed_joins() -> Refusal {
    Refusal::new(
        429,
        "too many failed joins from your address: try again later",
    )
}

/// One connection's place in its address's count, from its accept until it ends
/// (or, for a data connection, until its token is checked).
#[derive(Debug)]
pub(crate) struct IpSlot {
    shared: Arc<Shared>,
    ip: IpAddr,
    /// Connections from this address, this one included.
    count: usize,
}

impl IpSlot {
    pub(crate) fn take(shared: &Arc<Shared>, ip: IpAddr) -> Self {
        let count = {
            let mut counts = lock(&shared.per_ip);
            let count = counts.entry(ip).or_default();
            *count += 1;
            *count
        };
        Self {
            shared: shared.clone(),
            ip,
            count,
        }
    }

    /// Whether this connection is past its address's limit.
    pub(crate) fn over_limit(&self) -> bool {
        self.count > self.shared.config.max_connections_per_ip
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut counts = lock(&self.shared.per_ip);
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// A game's players (and joins waiting for an answer), bounded.
#[derive(Debug, Default)]
pub(crate) struct Seats(Arc<AtomicUsize>);

impl Seats {
    /// A seat, unless all `max` are taken.
    pub(crate) fn take(&self, max: usize) -> Option<Seat> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < max).then_some(taken + 1)
            })
            .ok()
            .map(|_| Seat(self.0.clone()))
    }
}

/// A taken seat, given back when dropped.
#[derive(Debug)]
pub(crate) struct Seat(Arc<AtomicUsize>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_bounded_and_given_back() {
        let seats = Seats::default();
        let first = seats.take(2).expect("a seat");
        let _second = seats.take(2).expect("a seat");
        assert!(seats.take(2).is_none());
        drop(first);
        assert!(seats.take(2).is_some());
    }

    #[test]
    fn cids_are_never_reused() {
        let shared = Shared::new(RelayConfig::default());
        assert_ne!(shared.new_cid(), shared.new_cid());
    }
}
