//! The service's directory in Redis: what a process writes there (its lease, its
//! matches' codes and listings, where its players are) and what gateways and
//! processes read back. The only module that speaks to Redis.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::{AsyncCommands, Client, Script};

use super::keys::Keys;
use super::ClusterError;
use crate::PlayerId;

/// Gives `code` to `me` when it is free, already mine, or held by a process whose
/// lease has run out: a dead process's codes are taken back this way, and a live
/// one's never.
const CLAIM: &str = r"
local owner = redis.call('GET', KEYS[1])
if (not owner) or owner == ARGV[1] or redis.call('EXISTS', ARGV[2] .. owner) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
";

/// Deletes a key only while it still holds `ARGV[1]`.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Deletes a player's entry only while it still says the player is ours.
const LEAVE: &str = r"
local at = redis.call('GET', KEYS[1])
if at and string.sub(at, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// A process as the directory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessEntry {
    /// Its id in the service.
    pub id: String,
    /// Where gateways reach it: a `ws://` or `wss://` URL.
    pub addr: String,
    /// The kinds of match it hosts.
    pub kinds: Vec<String>,
    /// The protocol fingerprint of each kind it hosts, by kind: a gateway that
    /// answers a listing itself refuses a client of another build as the process
    /// would.
    pub protocols: std::collections::BTreeMap<String, u64>,
    /// Players in its matches.
    pub players: usize,
    /// The most players it takes.
    pub max_players: usize,
    /// Its live matches.
    pub matches: usize,
    /// It takes no new matches: it is shutting down.
    pub draining: bool,
}

impl ProcessEntry {
    /// A process `id` reached at `addr`, with no kinds, players or matches yet:
    /// how a tool or a test describes one.
    ///
    /// ```
    /// use nodelink::cluster::ProcessEntry;
    ///
    /// let mut entry = ProcessEntry::new("3f2a", "ws://10.0.0.5:7001/");
    /// entry.kinds = vec!["arena".to_owned()];
    /// entry.max_players = 100;
    /// assert_eq!(entry.load(), 0.0);
    /// ```
    #[must_use]
    pub fn new(id: impl Into<String>, addr: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            addr: addr.into(),
            kinds: Vec::new(),
            protocols: std::collections::BTreeMap::new(),
            players: 0,
            max_players: 0,
            matches: 0,
            draining: false,
        }
    }

    /// How full it is, from 0 (empty) to 1 (full); a draining process is full.
    #[must_use]
    pub fn load(&self) -> f64 {
        if self.draining || self.max_players == 0 {
            return 1.0;
        }
        self.players as f64 / self.max_players as f64
    }

    fn from_hash(id: String, fields: HashMap<String, String>) -> Option<Self> {
        let number = |name: &str| fields.get(name).and_then(|value| value.parse().ok());
        Some(Self {
            id,
            addr: fields.get("addr")?.clone(),
            kinds: fields
                .get("kinds")
                .map(|kinds| {
                    kinds
                        .split(',')
                        .filter(|kind| !kind.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            protocols: fields
                .get("protocols")
                .map(|protocols| {
                    protocols
                        .split(',')
                        .filter_map(|pair| {
                            let (kind, fingerprint) = pair.split_once('=')?;
                            let fingerprint = u64::from_str_radix(fingerprint, 16).ok()?;
                            Some((kind.to_owned(), fingerprint))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            players: number("players").unwrap_or(0),
            max_players: number("max_players").unwrap_or(0),
            matches: number("matches").unwrap_or(0),
            draining: fields.get("draining").is_some_and(|value| value == "1"),
        })
    }
}

/// A listed match as the directory keeps it, its metadata as one value of the
/// native wire (what a listing frame carries).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListedMatch {
    /// Its code.
    pub code: String,
    /// Players in it.
    pub players: u32,
    /// The most players it takes.
    pub max_players: u32,
    /// Whether it takes no new players.
    pub locked: bool,
    /// Its metadata, encoded.
    pub metadata: Vec<u8>,
}

/// Where a player plays, as the directory knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Presence {
    /// The process that hosts its match.
    pub process: String,
    /// Its match's code.
    pub match_code: String,
}

/// A match as its process publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MatchEntry {
    pub(crate) code: String,
    pub(crate) kind: String,
    pub(crate) players: u32,
    pub(crate) max_players: u32,
    pub(crate) locked: bool,
    pub(crate) public: bool,
    pub(crate) metadata: Vec<u8>,
}

/// A connection to the directory.
#[derive(Clone)]
pub(crate) struct Directory {
    client: Client,
    conn: ConnectionManager,
    pub(crate) keys: Keys,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

impl Directory {
    /// Connects to the Redis at `url`; the connection reconnects by itself
    /// afterwards, each command failing (within `timeout`) while Redis is away.
    pub(crate) async fn connect(
        url: &str,
        service: &str,
        timeout: Duration,
    ) -> Result<Self, ClusterError> {
        let client = Client::open(url).map_err(|error| ClusterError::Redis {
            url: url.to_owned(),
            reason: error.to_string(),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = tokio::time::timeout(timeout, client.get_connection_manager_with_config(config))
            .await
            .map_err(|_| ClusterError::Redis {
                url: url.to_owned(),
                reason: format!("no answer within {timeout:?}"),
            })?
            .map_err(|error| ClusterError::Redis {
                url: url.to_owned(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            client,
            conn,
            keys: Keys::new(service),
        })
    }

    /// A subscription to `channels`, on a connection of its own.
    pub(crate) async fn subscribe(&self, channels: &[String]) -> redis::RedisResult<PubSub> {
        let mut pubsub = self.client.get_async_pubsub().await?;
        for channel in channels {
            pubsub.subscribe(channel).await?;
        }
        Ok(pubsub)
    }

    /// Publishes `message` on `channel`.
    pub(crate) async fn publish(&self, channel: &str, message: &[u8]) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.publish::<_, _, ()>(channel, message).await
    }

    /// The service's secret for player ids, made by the first process to ask.
    pub(crate) async fn id_key(&self, candidate: u64) -> redis::RedisResult<u64> {
        let mut conn = self.conn.clone();
        let key = self.keys.id_key();
        let _: bool = redis::cmd("SET")
            .arg(&key)
            .arg(candidate)
            .arg("NX")
            .query_async::<Option<String>>(&mut conn)
            .await
            .map(|set| set.is_some())?;
        conn.get(&key).await
    }

    /// A block of player-id counts: the end of the block just reserved.
    pub(crate) async fn id_block(&self, size: u64) -> redis::RedisResult<u64> {
        let mut conn = self.conn.clone();
        conn.incr(self.keys.id_counter(), size).await
    }

    /// Claims `code` for the process `me`: `false` when a live process holds it.
    pub(crate) async fn claim_code(&self, code: &str, me: &str) -> redis::RedisResult<bool> {
        let mut conn = self.conn.clone();
        Script::new(CLAIM)
            .key(self.keys.code(code))
            .arg(me)
            .arg(self.keys.process_prefix())
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|claimed| claimed == 1)
    }

    /// Renews the lease of the process `entry`: its hash, and its score in the
    /// set of processes.
    pub(crate) async fn renew(
        &self,
        entry: &ProcessEntry,
        lease: Duration,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        let key = self.keys.process(&entry.id);
        let lease_ms = lease.as_millis() as u64;
        redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("addr", entry.addr.clone()),
                    ("kinds", entry.kinds.join(",")),
                    (
                        "protocols",
                        entry
                            .protocols
                            .iter()
                            .map(|(kind, fingerprint)| format!("{kind}={fingerprint:016x}"))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    ("players", entry.players.to_string()),
                    ("max_players", entry.max_players.to_string()),
                    ("matches", entry.matches.to_string()),
                    ("draining", u8::from(entry.draining).to_string()),
                    ("lease_ms", lease_ms.to_string()),
                ],
            )
            .ignore()
            .pexpire(&key, lease_ms as i64)
            .ignore()
            .zadd(self.keys.processes(), &entry.id, now_ms() + lease_ms)
            .ignore()
            .query_async(&mut conn)
            .await
    }

    /// Publishes new and changed matches of the process `me`, and forgets `gone`.
    pub(crate) async fn publish_matches(
        &self,
        me: &str,
        changed: &[&MatchEntry],
        gone: &[MatchEntry],
    ) -> redis::RedisResult<()> {
        if changed.is_empty() && gone.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        let mine = self.keys.process_matches(me);
        for entry in changed {
            let key = self.keys.r#match(&entry.code);
            pipe.hset_multiple(
                &key,
                &[
                    ("kind", entry.kind.as_bytes().to_vec()),
                    ("owner", me.as_bytes().to_vec()),
                    ("players", entry.players.to_string().into_bytes()),
                    ("max_players", entry.max_players.to_string().into_bytes()),
                    ("locked", vec![b'0' + u8::from(entry.locked)]),
                    ("metadata", entry.metadata.clone()),
                ],
            )
            .ignore()
            .sadd(&mine, &entry.code)
            .ignore();
            let listing = self.keys.listing(&entry.kind);
            if entry.public {
                pipe.zadd(&listing, &entry.code, 0).ignore();
            } else {
                pipe.zrem(&listing, &entry.code).ignore();
            }
        }
        for entry in gone {
            pipe.del(self.keys.r#match(&entry.code))
                .ignore()
                .zrem(self.keys.listing(&entry.kind), &entry.code)
                .ignore()
                .srem(&mine, &entry.code)
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await?;
        for entry in gone {
            self.release_code(&entry.code, me).await?;
        }
        Ok(())
    }

    /// Gives back `code`, if `me` still holds it.
    pub(crate) async fn release_code(&self, code: &str, me: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        Script::new(RELEASE)
            .key(self.keys.code(code))
            .arg(me)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
    }

    /// Records that `player` plays in the match `code` of the process `me`.
    pub(crate) async fn joined(
        &self,
        player: PlayerId,
        me: &str,
        code: &str,
    ) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        conn.set(self.keys.player(player), format!("{me} {code}"))
            .await
    }

    /// Forgets where `player` played, if it still says the process `me`.
    pub(crate) async fn left(&self, player: PlayerId, me: &str) -> redis::RedisResult<()> {
        let mut conn = self.conn.clone();
        Script::new(LEAVE)
            .key(self.keys.player(player))
            .arg(me)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
    }

    /// Removes the process `me` and everything it published.
    pub(crate) async fn withdraw(
        &self,
        me: &str,
        matches: &[MatchEntry],
    ) -> redis::RedisResult<()> {
        self.publish_matches(me, &[], matches).await?;
        let mut conn = self.conn.clone();
        redis::pipe()
            .del(self.keys.process(me))
            .ignore()
            .del(self.keys.process_matches(me))
            .ignore()
            .zrem(self.keys.processes(), me)
            .ignore()
            .query_async(&mut conn)
            .await
    }

    /// The live processes.
    pub(crate) async fn processes(&self) -> redis::RedisResult<Vec<ProcessEntry>> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrangebyscore(self.keys.processes(), now_ms(), "+inf")
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(self.keys.process(id));
        }
        let hashes: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        Ok(ids
            .into_iter()
            .zip(hashes)
            .filter_map(|(id, fields)| ProcessEntry::from_hash(id, fields))
            .collect())
    }

    /// Whether Redis has been up for less than the longest lease of the live
    /// processes (`default_lease` for those that name none, and when none is
    /// live): until then a process may not have published itself again after
    /// a restart.
    pub(crate) async fn rebuilding(&self, default_lease: Duration) -> redis::RedisResult<bool> {
        let mut conn = self.conn.clone();
        let info: String = match redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await
        {
            Ok(info) => info,
            // A Redis that does not tell its uptime (`INFO` renamed away, as some
            // hosted ones do) is taken as settled: unknown codes are unknown.
            Err(error)
                if matches!(
                    error.kind(),
                    redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
                ) =>
            {
                return Ok(false)
            }
            Err(error) => return Err(error),
        };
        let Some(up_for) = info.lines().find_map(|line| {
            line.strip_prefix("uptime_in_seconds:")
                .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        }) else {
            return Ok(false);
        };
        let ids: Vec<String> = conn
            .zrangebyscore(self.keys.processes(), now_ms(), "+inf")
            .await?;
        let default_ms = default_lease.as_millis() as u64;
        let mut longest = default_ms;
        if !ids.is_empty() {
            let mut pipe = redis::pipe();
            for id in &ids {
                pipe.hget(self.keys.process(id), "lease_ms");
            }
            let leases: Vec<Option<u64>> = pipe.query_async(&mut conn).await?;
            longest = leases
                .into_iter()
                .map(|lease| lease.unwrap_or(default_ms))
                .max()
                .unwrap_or(default_ms);
        }
        // Whole seconds, rounded down: up for less than `up_for + 1` seconds.
        Ok(up_for.saturating_mul(1_000) < longest)
    }

    /// The live process that holds `code`, if any.
    pub(crate) async fn owner_of(&self, code: &str) -> redis::RedisResult<Option<ProcessEntry>> {
        let mut conn = self.conn.clone();
        let Some(owner): Option<String> = conn.get(self.keys.code(code)).await? else {
            return Ok(None);
        };
        if !self.alive(&owner).await? {
            return Ok(None);
        }
        let fields: HashMap<String, String> = conn.hgetall(self.keys.process(&owner)).await?;
        Ok(ProcessEntry::from_hash(owner, fields))
    }

    /// Whether the process `id`'s lease runs: by its score in the set of
    /// processes, as [`processes`](Self::processes) reads it (its hash expires
    /// a moment later, by Redis's clock), so that every reader agrees on when
    /// a process died.
    async fn alive(&self, id: &str) -> redis::RedisResult<bool> {
        let mut conn = self.conn.clone();
        let expires: Option<f64> = conn.zscore(self.keys.processes(), id).await?;
        Ok(expires.is_some_and(|expires| expires >= now_ms() as f64))
    }

    /// Up to `limit` listed matches of `kind` from `after` on (a code; `None`
    /// from the first), by code, those of dead processes left out.
    pub(crate) async fn listing(
        &self,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> redis::RedisResult<Vec<ListedMatch>> {
        let mut conn = self.conn.clone();
        let from = after.map_or_else(|| "-".to_owned(), |code| format!("({code}"));
        let codes: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.keys.listing(kind))
            .arg(from)
            .arg("+")
            .arg("BYLEX")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut conn)
            .await?;
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let live: Vec<String> = conn
            .zrangebyscore(self.keys.processes(), now_ms(), "+inf")
            .await?;
        let mut pipe = redis::pipe();
        for code in &codes {
            pipe.hgetall(self.keys.r#match(code));
        }
        let hashes: Vec<HashMap<String, Vec<u8>>> = pipe.query_async(&mut conn).await?;
        let text = |fields: &HashMap<String, Vec<u8>>, name: &str| {
            fields
                .get(name)
                .and_then(|value| std::str::from_utf8(value).ok().map(str::to_owned))
        };
        Ok(codes
            .into_iter()
            .zip(hashes)
            .filter_map(|(code, fields)| {
                let owner = text(&fields, "owner")?;
                if !live.contains(&owner) {
                    return None;
                }
                Some(ListedMatch {
                    code,
                    players: text(&fields, "players")?.parse().ok()?,
                    max_players: text(&fields, "max_players")?.parse().ok()?,
                    locked: text(&fields, "locked")? == "1",
                    metadata: fields.get("metadata").cloned().unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Where `player` plays, if its process is alive.
    pub(crate) async fn presence(&self, player: PlayerId) -> redis::RedisResult<Option<Presence>> {
        let mut conn = self.conn.clone();
        let Some(at): Option<String> = conn.get(self.keys.player(player)).await? else {
            return Ok(None);
        };
        let Some((process, code)) = at.split_once(' ') else {
            return Ok(None);
        };
        let alive = self.alive(process).await?;
        Ok(alive.then(|| Presence {
            process: process.to_owned(),
            match_code: code.to_owned(),
        }))
    }

    /// If no other process is cleaning up, removes what processes whose lease ran
    /// out left behind: their matches, listings and codes.
    pub(crate) async fn clean_up(&self, me: &str, lease: Duration) -> redis::RedisResult<usize> {
        let mut conn = self.conn.clone();
        let ours: Option<String> = redis::cmd("SET")
            .arg(self.keys.janitor())
            .arg(me)
            .arg("NX")
            .arg("PX")
            .arg(lease.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        if ours.is_none() {
            return Ok(0);
        }
        let dead: Vec<String> = conn
            .zrangebyscore(self.keys.processes(), "-inf", now_ms())
            .await?;
        for id in &dead {
            let codes: Vec<String> = conn.smembers(self.keys.process_matches(id)).await?;
            for code in codes {
                let kind: Option<String> = conn.hget(self.keys.r#match(&code), "kind").await?;
                let mut pipe = redis::pipe();
                pipe.del(self.keys.r#match(&code)).ignore();
                if let Some(kind) = kind {
                    pipe.zrem(self.keys.listing(&kind), &code).ignore();
                }
                pipe.query_async::<()>(&mut conn).await?;
                self.release_code(&code, id).await?;
            }
            redis::pipe()
                .del(self.keys.process_matches(id))
                .ignore()
                .zrem(self.keys.processes(), id)
                .ignore()
                .query_async::<()>(&mut conn)
                .await?;
        }
        Ok(dead.len())
    }
}
