//! One match: the one owner of its game state (players, server state, entities,
//! rooms, sessions). It runs every handler, applies its handle's commands, and
//! runs the tick: `on_tick`, then the sync frames. It knows nothing of sockets and
//! spawns nothing: a transport reaches it through [`ToMatch`](crate::server::port::ToMatch)
//! messages, the runtime drives it (`runtime.rs`), and the time is passed in.
//!
//! A player outlives its connections when it has a session: a lost connection
//! pauses it (`on_pause`) rather than removing it, and a connection that presents
//! the session's token takes its place (`on_resume`). Each connection has an id,
//! and the news of a player's earlier connections is ignored, so an event that
//! arrives late over a dead connection is neither handled nor counted: its client
//! re-sends it over the new one.

mod ctx;
mod dispatch;
mod entities;
mod frame;
mod handle;
pub(crate) mod handlers;
mod ids;
mod lifecycle;
mod liveness;
mod player;
mod replication;
mod room;
mod session;
mod split;
mod state;
pub(crate) mod stats;
mod views;
mod visibility;

pub use ctx::{EventCtx, ServerCtx};
pub use handle::ServerHandle;
pub use player::{Player, PlayerInfo};
pub use room::{Room, RoomMut};
pub use split::{EntitiesMut, PlayersMut};
pub use stats::SyncStats;
pub use visibility::{EntitySight, FieldSight, PlayerSight};

pub(crate) use handle::{Command, ProcessLink};
pub(crate) use handlers::Handlers;
pub(crate) use ids::PlayerIds;
pub(crate) use state::MatchState;
pub(crate) use stats::{ProcessBoard, StatsBoard};

use std::time::{Duration, Instant};

use crate::server::port::{Ending, Joined, ToMatch};
use crate::wire::CloseReason;
use crate::{PlayerId, Protocol};
use dispatch::{failure, guarded};

/// A match: its state and its handlers, and when it last ticked and pinged.
pub(crate) struct Match<P: Protocol, G> {
    pub(crate) state: MatchState<P, G>,
    pub(crate) handlers: Handlers<P, G>,
    last_tick: Instant,
    last_ping: Instant,
}

impl<P: Protocol, G: Send + 'static> Match<P, G> {
    pub(crate) fn new(state: MatchState<P, G>, handlers: Handlers<P, G>, now: Instant) -> Self {
        Self {
            state,
            handlers,
            last_tick: now,
            last_ping: now,
        }
    }

    /// The time between two ticks.
    pub(crate) fn tick_interval(&self) -> std::time::Duration {
        self.state.config.tick_interval()
    }

    /// Runs what handlers asked for after they returned, and tells whether the
    /// match has ended; the runtime calls it after each message, command and tick
    /// it hands the match, and hands it nothing more once it has ended.
    pub(crate) fn settle(&mut self) -> bool {
        self.run_deferred();
        self.ending().is_some()
    }

    /// The tick that is due at `now`: `on_tick`, the sync frames, then the checks
    /// on stalled and silent players, and pings when their interval has passed.
    pub(crate) fn tick_at(&mut self, now: Instant) {
        self.tick(now.duration_since(self.last_tick));
        self.state.publish_stats();
        self.last_tick = now;
        self.drop_stalled(now);
        let every = self.state.config.ping_interval;
        if !every.is_zero() && now.duration_since(self.last_ping) >= every {
            self.ping_everyone(now);
            self.last_ping = now;
        }
        self.run_deferred();
    }

    /// Why the match is ending, once it is: its handlers ended it, or it stayed
    /// empty past its linger.
    pub(crate) fn ending(&self) -> Option<CloseReason> {
        self.state.ending
    }

    /// Ends the match once it has been empty (no place taken, paused players
    /// holding theirs) for `linger`: no one can join it any more.
    pub(crate) fn end_if_empty(&mut self, now: Instant, linger: Duration) {
        if self.state.record.seats.taken() > 0 {
            self.state.empty_since = None;
            return;
        }
        let since = *self.state.empty_since.get_or_insert(now);
        if now.duration_since(since) >= linger && self.state.record.seats.end_if_empty() {
            self.state.ending = Some(CloseReason::MatchEnded);
        }
    }

    /// Ends the match: no one can join it any more, and every player is removed,
    /// told why (the match ended, or the server is shutting down).
    pub(crate) fn end(&mut self) {
        self.state.record.seats.end();
        let reason = self.state.ending.unwrap_or(CloseReason::ServerShutdown);
        self.state.ending = Some(reason);
        let ids: Vec<PlayerId> = self.state.players.keys().copied().collect();
        for id in ids {
            self.remove(id, Some(reason));
            self.run_deferred();
        }
        self.state.publish_stats();
        let process = &self.state.record.process;
        process
            .ended
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Refuses a message that arrives once the match has ended: a connection still
    /// joining is told why.
    pub(crate) fn refuse(&self, message: ToMatch<P>) {
        if let ToMatch::Join(join) = message {
            let reason = self.state.ending.unwrap_or(CloseReason::ServerShutdown);
            let _ = join.reply.send(Joined::Refused(reason));
        }
    }

    pub(crate) fn command(&mut self, command: Command<P>) {
        match command {
            Command::Broadcast { native, event } => {
                let everyone: Vec<PlayerId> = self.state.players.keys().copied().collect();
                self.state
                    .send_event_encoded(&event, Some(native), &everyone);
            }
            Command::Send {
                player,
                native,
                event,
            } => {
                self.state
                    .send_event_encoded(&event, Some(native), [&player]);
            }
            Command::Kick(player) => self.remove(player, Some(CloseReason::Kicked)),
            Command::End => self.state.deferred.push(state::Deferred::EndMatch),
            Command::Sync { full } => self.sync(full),
            Command::Players(reply) => {
                let _ = reply.send(self.state.players.values().map(Player::info).collect());
            }
            Command::PlayersJson(reply) => {
                let _ = reply.send(self.state.players.values().map(Player::info_json).collect());
            }
            Command::Player(id, reply) => {
                let _ = reply.send(self.state.players.get(&id).map(Player::info));
            }
            Command::Stats(reply) => {
                let mut stats = self.state.stats;
                stats.players = self.state.players.len();
                let _ = reply.send(stats);
            }
            Command::ServerState(reply) => {
                let _ = reply.send(self.state.server_state.get().clone());
            }
            Command::Rooms(reply) => {
                let rooms = self
                    .state
                    .rooms
                    .iter()
                    .map(|(name, members)| (name.to_owned(), members.iter().copied().collect()))
                    .collect();
                let _ = reply.send(rooms);
            }
            Command::Spawn {
                entity,
                room,
                reply,
            } => {
                let _ = reply.send(self.state.entities.spawn(entity, room));
            }
            Command::Despawn(id, reply) => {
                let _ = reply.send(self.state.entities.despawn(id));
            }
            Command::UpdateEntity(id, change, reply) => {
                let entity = self.state.entities.live.get_mut(&id);
                let found = entity.is_some();
                if let Some(entity) = entity {
                    entity.state.update(change.0);
                }
                let _ = reply.send(found);
            }
            Command::Entities(reply) => {
                let entities = self
                    .state
                    .entities
                    .live
                    .iter()
                    .map(|(id, entity)| (*id, entity.state.get().clone()))
                    .collect();
                let _ = reply.send(entities);
            }
        }
    }

    pub(crate) fn inbound(&mut self, inbound: ToMatch<P>) {
        match inbound {
            ToMatch::Join(join) => self.admit(*join),
            ToMatch::Event {
                player,
                link,
                read,
                event,
            } => self.event(player, link, read, event),
            ToMatch::Pong { player, link, seq } => {
                if let Some(p) = self.state.players.get_mut(&player) {
                    if p.link_id() != Some(link) {
                        return;
                    }
                    p.heard_from();
                    if let Some((expected, sent)) = p.ping_pending {
                        if expected == seq {
                            p.ping = Some(sent.elapsed());
                            p.ping_pending = None;
                        }
                    }
                }
            }
            ToMatch::Invalid {
                player,
                link,
                read,
                error,
            } => {
                let current = self
                    .state
                    .players
                    .get_mut(&player)
                    .is_some_and(|p| p.heard_on(link, read));
                if current {
                    self.report(Some(player), *error);
                }
            }
            ToMatch::Left {
                player,
                link,
                read,
                ending,
            } => {
                let Some(p) = self.state.players.get_mut(&player) else {
                    return;
                };
                if !p.heard_on(link, read) {
                    return; // an earlier connection of a player that resumed
                }
                match ending {
                    Ending::Lost if p.session.is_some() => self.pause(player, None),
                    Ending::Closing(reason) => self.remove(player, Some(reason)),
                    Ending::Lost | Ending::Closed => self.remove(player, None),
                }
            }
            ToMatch::Problem(error) => self.report(None, *error),
        }
    }

    /// One tick: `on_tick`, its deferred work, then the sync frames, so state set
    /// in a tick goes out in that tick's frames.
    fn tick(&mut self, dt: Duration) {
        let started = Instant::now();
        self.state.tick = self.state.tick.next();
        self.state.stats.ticks += 1;
        // At debug: twenty a second per match, for a subscriber that asks.
        let record = &self.state.record;
        let _tick = tracing::debug_span!("tick", r#match = %record.code, kind = %record.kind, tick = self.state.tick.0).entered();
        if let Some(handler) = self.handlers.on_tick.as_mut() {
            let _span = tracing::trace_span!("on_tick").entered();
            let mut ctx = ServerCtx {
                shared: &mut self.state,
            };
            if let Err(failed) = guarded(|| handler.call(&mut ctx, dt)) {
                self.report(None, failure("tick", failed));
            }
            self.run_deferred();
        }
        let _span = tracing::trace_span!("sync").entered();
        self.sync(false);
        let took = started.elapsed();
        let record = &self.state.record;
        record.last_tick_us.store(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        let process = &record.process;
        process.tick_time.observe(took);
        if took > self.tick_interval() {
            process
                .tick_overruns
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn sync(&mut self, full: bool) {
        if let Err(error) = self.state.sync(full) {
            self.report(None, error.into());
        }
    }
}
