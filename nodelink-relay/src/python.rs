//! Python nodelink 0.6.0's relay protocol: a host (`Server(relay_url=…)`) keeps one
//! WebSocket to `/host` and gets a game code; its players (`Client(code=…,
//! relay_url=…)`) connect to `/join/CODE`. Every player message reaches the host
//! wrapped in `__client_message__`, and the host's `__send__` and `__broadcast__`
//! payloads reach players as their text frames, byte for byte.
//!
//! Python's host accepts everyone, so a player is upgraded at once. Its host knows
//! nothing to reclaim a game with: when its link drops the game ends, its players
//! are closed with "host gone", and the host's reconnection gets a new code.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use futures::StreamExt;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::bucket::Bucket;
use crate::close::CloseReason;
use crate::code::GameCode;
use crate::connection::{close_now, run, upgrade, End, Read, Reader};
use crate::directory::{Seat, Seats, Shared};
use crate::http::Request;
use crate::messages::{self, HostMessage};
use crate::metrics::Traffic;
use crate::outbox::{outbox, Outbox, Outgoing, PushError};
use crate::{GameInfo, HostKind};

/// A Python host's game.
#[derive(Debug)]
pub(crate) struct PythonGame {
    pub(crate) code: GameCode,
    /// The host link's queue.
    host: Outbox,
    seats: Seats,
    players: Mutex<Players>,
}

#[derive(Debug, Default)]
struct Players {
    by_cid: HashMap<String, Outbox>,
    ended: bool,
}

impl PythonGame {
    pub(crate) fn new(code: GameCode, host: Outbox) -> Self {
        Self {
            code,
            host,
            seats: Seats::default(),
            players: Mutex::default(),
        }
    }

    fn players(&self) -> MutexGuard<'_, Players> {
        self.players
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A seat for a new player, unless the game holds `max`.
    pub(crate) fn seat(&self, max: usize) -> Option<Seat> {
        self.seats.take(max)
    }

    pub(crate) fn info(&self) -> GameInfo {
        GameInfo {
            code: self.code.to_string(),
            host: HostKind::Python,
            host_connected: true,
            players: self.players().by_cid.len(),
            waiting: 0,
            match_codes: Vec::new(),
        }
    }

    /// Carries out a host's message. Unknown cids are the normal race with a
    /// player's departure (the host hears of it after sending), so they are
    /// dropped quietly. A player whose queue is full is closed at once: the host
    /// link never waits for one player.
    /// Carries out a host's message; counts what it relays in `traffic`.
    fn handle(&self, message: HostMessage<'_>, traffic: &Traffic) {
        match message {
            HostMessage::Send { cid, payload } => {
                let player = self.players().by_cid.get(&cid).cloned();
                match player {
                    Some(player) => {
                        let text = text_of(payload);
                        traffic.relayed(text.len());
                        deliver(&player, text);
                    }
                    None => {
                        tracing::debug!(code = %self.code, %cid, "`__send__` to a player no longer here")
                    }
                }
            }
            HostMessage::Broadcast { payload, exclude } => {
                // Encoded once, shared by every recipient.
                let text = text_of(payload);
                let exclude: HashSet<&str> = exclude.iter().map(String::as_str).collect();
                let recipients: Vec<Outbox> = self
                    .players()
                    .by_cid
                    .iter()
                    .filter(|(cid, _)| !exclude.contains(cid.as_str()))
                    .map(|(_, player)| player.clone())
                    .collect();
                traffic.relayed_to(recipients.len(), text.len());
                for player in recipients {
                    deliver(&player, text.clone());
                }
            }
            HostMessage::Kick { cid } => {
                let player = self.players().by_cid.get(&cid).cloned();
                match player {
                    Some(player) => player.close(CloseReason::Kicked),
                    None => {
                        tracing::debug!(code = %self.code, %cid, "`__kick__` of a player no longer here")
                    }
                }
            }
        }
    }

    /// Queues `text` for the host, waiting for room up to the slow-consumer
    /// timeout; a host that does not make room in time is closed as a slow consumer
    /// (which ends the game). `false` when it was not queued.
    async fn tell_host(&self, text: String, shared: &Shared) -> bool {
        let patience = shared.config.slow_consumer_timeout;
        match self
            .host
            .push_within(Outgoing::Text(text.into()), patience)
            .await
        {
            Ok(()) => true,
            Err(PushError::Full) => {
                tracing::warn!(code = %self.code, "host not reading its link: closed");
                self.host.hard_close(CloseReason::SlowConsumer);
                false
            }
            Err(PushError::Closed) => false,
        }
    }

    /// Ends the game: every player is closed with `reason`.
    fn end(&self, reason: CloseReason) {
        let players = {
            let mut players = self.players();
            players.ended = true;
            std::mem::take(&mut players.by_cid)
        };
        for player in players.values() {
            player.close(reason);
        }
    }
}

fn text_of(payload: &RawValue) -> Utf8Bytes {
    Utf8Bytes::from(payload.get().to_owned())
}

fn deliver(player: &Outbox, text: Utf8Bytes) {
    if player.try_push(Outgoing::Text(text)) == Err(PushError::Full) {
        player.hard_close(CloseReason::SlowConsumer);
    }
}

/// Ends the game when the host's task ends, however it ends.
struct Hosting {
    game: Arc<PythonGame>,
    shared: Arc<Shared>,
}

impl Drop for Hosting {
    fn drop(&mut self) {
        self.shared.remove(&self.game.code);
        let reason = if self.shared.is_stopping() {
            CloseReason::RelayShutdown
        } else {
            CloseReason::HostGone
        };
        self.game.end(reason);
    }
}

/// Serves a Python host on `/host`, from its request to the end of its game.
pub(crate) async fn host<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: Request,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    let config = &shared.config;
    let (link, drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    let game = match shared.add_python(link.clone()) {
        Ok(game) => game,
        Err(refusal) => return refusal.send(&mut stream, &shared.counters).await,
    };
    let hosting = Hosting {
        game: game.clone(),
        shared: shared.clone(),
    };
    let upgrading = upgrade(stream, request.bytes, None, config.max_host_frame_len);
    let Ok(Some(socket)) = timeout(config.handshake_timeout, upgrading).await else {
        return;
    };
    let code = &game.code;
    tracing::info!(%code, %peer, "Python host registered");
    let _ = link.try_push(Outgoing::Text(messages::registered(code.as_str()).into()));

    let (sink, stream) = socket.split();
    let mut reader = Reader::new(stream, link.clone(), config, shared.stopping());
    let reading = async {
        let mut invalid = 0u32;
        loop {
            let problem = match reader.next().await {
                Read::Text(text) => match messages::parse_host_message(&text) {
                    Ok(message) => {
                        game.handle(message, &shared.counters.to_players);
                        continue;
                    }
                    Err(problem) => problem,
                },
                Read::Binary(_) => "a binary message: the host protocol is JSON text".to_owned(),
                Read::Closed(frame) => return End::PeerClosed(frame),
                Read::Lost => return End::Lost,
                Read::TooBig => return End::Fault(CloseReason::InvalidFrames),
                Read::Idle => return End::Fault(CloseReason::IdleTimeout),
                Read::Shutdown => return End::Fault(CloseReason::RelayShutdown),
            };
            invalid += 1;
            tracing::warn!(%code, "host message dropped: {problem}");
            if invalid > config.max_invalid_frames {
                return End::Fault(CloseReason::InvalidFrames);
            }
        }
    };
    let end = run(sink, drain, &link, reading, config.close_timeout).await;
    tracing::info!(%code, "Python host left ({end:?}): game over");
    drop(hosting);
}

/// Serves a player of a Python host's game, from its request to its departure.
pub(crate) async fn join<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    request: Request,
    peer: SocketAddr,
    shared: Arc<Shared>,
    game: Arc<PythonGame>,
    seat: Seat,
) {
    let config = &shared.config;
    let upgrading = upgrade(stream, request.bytes, None, config.max_frame_len);
    let Ok(Some(socket)) = timeout(config.handshake_timeout, upgrading).await else {
        return;
    };
    let cid = shared.new_cid();
    let (own, drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    let added = {
        let mut players = game.players();
        if !players.ended {
            players.by_cid.insert(cid.clone(), own.clone());
        }
        !players.ended
    };
    if !added {
        return close_now(socket, CloseReason::HostGone, config.close_timeout).await;
    }
    // This task queues the connect before any of the player's messages, and the
    // disconnect after them: the host hears of them in that order.
    let connect = messages::client_connect(&cid, &peer.to_string());
    if !game.tell_host(connect, &shared).await {
        game.players().by_cid.remove(&cid);
        return close_now(socket, CloseReason::HostGone, config.close_timeout).await;
    }

    let (sink, stream) = socket.split();
    let mut reader = Reader::new(stream, own.clone(), config, shared.stopping());
    let reading = async {
        let rate = config.player_rate_limit;
        let mut bucket = Bucket::full(rate.burst, Instant::now());
        let mut dropped_in_a_row = 0u32;
        let mut invalid = 0u32;
        loop {
            let read = reader.next().await;
            if matches!(read, Read::Text(_) | Read::Binary(_)) {
                let now = Instant::now();
                if !bucket.take(rate.per_second, rate.burst, now) {
                    dropped_in_a_row = dropped_in_a_row.saturating_add(1);
                    if dropped_in_a_row >= rate.disconnect_after {
                        return End::Fault(CloseReason::RateLimited);
                    }
                    if dropped_in_a_row == 1 {
                        tracing::debug!(code = %game.code, %cid, "player over the rate limit");
                    }
                    continue;
                }
                dropped_in_a_row = 0;
            }
            let problem = match read {
                Read::Text(text) if messages::is_json_object(&text) => {
                    // The player's message, as it arrived (the host gets it wrapped).
                    shared.counters.to_game.relayed(text.len());
                    if !game
                        .tell_host(messages::client_message(&cid, &text), &shared)
                        .await
                    {
                        return End::Fault(CloseReason::HostGone);
                    }
                    continue;
                }
                Read::Text(_) => "not a JSON object",
                Read::Binary(_) => "a binary message: a Python host reads JSON text",
                Read::Closed(frame) => return End::PeerClosed(frame),
                Read::Lost => return End::Lost,
                Read::TooBig => return End::Fault(CloseReason::InvalidFrames),
                Read::Idle => return End::Fault(CloseReason::IdleTimeout),
                Read::Shutdown => return End::Fault(CloseReason::RelayShutdown),
            };
            invalid += 1;
            tracing::debug!(code = %game.code, %cid, "player message dropped: {problem}");
            if invalid > config.max_invalid_frames {
                return End::Fault(CloseReason::InvalidFrames);
            }
        }
    };
    let end = run(sink, drain, &own, reading, config.close_timeout).await;
    tracing::debug!(code = %game.code, %cid, "player left: {end:?}");
    let was_here = game.players().by_cid.remove(&cid).is_some();
    if was_here {
        game.tell_host(messages::client_disconnect(&cid), &shared)
            .await;
    }
    drop(seat);
}
