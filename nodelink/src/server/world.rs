//! The world task: the one owner of all game state. It runs every handler, applies
//! the handle's commands, and runs the tick: `on_tick`, then the sync frames.
//!
//! A player outlives its connections when it has a session: a lost connection
//! pauses it (`on_pause`) rather than removing it, and a connection that presents
//! the session's token takes its place (`on_resume`). Each connection has an id,
//! and the news of a player's earlier connections is ignored, so an event that
//! arrives late over a dead connection is neither handled nor counted: its client
//! re-sends it over the new one.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{interval, MissedTickBehavior};

use crate::handler::{panic_message, HandlerError, Verdict};
use crate::server::config::SyncScope;
use crate::server::ctx::{Deferred, EventCtx, ServerCtx, Shared};
use crate::server::error::ServerError;
use crate::server::handle::Command;
use crate::server::handshake::Identity;
use crate::server::outbox::{HardClose, Outgoing};
use crate::server::player::{Connection, Link, Player};
use crate::server::session::{Claim, Session};
use crate::server::Handlers;
use crate::wire::{encode_ping, json, CloseReason, ResumeOffer, Settings, Welcome, WireFormat};
use crate::{Events, PlayerId, Protocol};

/// Inbound messages handled per wake-up of the world task at most.
const INBOUND_BATCH: usize = 64;

/// What connection tasks tell the world. Each message about a player names the
/// connection it came over (`link`) and how many frames that connection has read
/// (`read`: every data message but pongs, the count a resumed client is told).
#[derive(Debug)]
pub(crate) enum Inbound<P: Protocol> {
    /// A handshake completed: create the player, or resume one. Boxed: joins are
    /// rare, and every event travels in this enum.
    Join(Box<JoinRequest>),
    Event {
        player: PlayerId,
        link: u64,
        read: u64,
        event: P::ToServer,
    },
    Pong {
        player: PlayerId,
        link: u64,
        seq: u32,
    },
    /// Boxed: errors are large and rare, and every event travels in this enum.
    Invalid {
        player: PlayerId,
        link: u64,
        read: u64,
        error: Box<ServerError>,
    },
    /// The connection ended.
    Left {
        player: PlayerId,
        link: u64,
        read: u64,
        ending: Ending,
    },
    /// A problem that concerns no player, such as a connection refused because the
    /// server is set up wrong.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    Problem(Box<ServerError>),
}

/// How a connection ended, which decides whether its player may come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The peer closed it with a close frame: the player left.
    Closed,
    /// It failed without one (reset, end of stream, a failed write): a player with
    /// a session is paused for its client to resume.
    Lost,
    /// The server ends it for this reason: the peer misbehaved.
    Closing(CloseReason),
}

/// What a connection brings to the world when its handshake completes.
#[derive(Debug)]
pub(crate) struct JoinRequest {
    pub(crate) outbox: mpsc::Sender<Outgoing>,
    pub(crate) hard_close: HardClose,
    pub(crate) addr: SocketAddr,
    pub(crate) wire: WireFormat,
    pub(crate) identity: Option<Identity>,
    /// The session the client asks to resume, if it does.
    pub(crate) resume: Option<ResumeOffer>,
    pub(crate) reply: oneshot::Sender<Joined>,
}

/// The world's answer to a join.
#[derive(Debug)]
pub(crate) enum Joined {
    /// The connection is this player's, as connection `link`.
    Player { id: PlayerId, link: u64 },
    /// No player was created or resumed; close the connection with this reason.
    Refused(CloseReason),
}

pub(crate) struct World<P: Protocol, G> {
    pub(crate) shared: Shared<P, G>,
    pub(crate) handlers: Handlers<P, G>,
    pub(crate) inbox: mpsc::Receiver<Inbound<P>>,
    pub(crate) commands: mpsc::UnboundedReceiver<Command<P>>,
    pub(crate) stopping: watch::Sender<bool>,
}

/// Runs a handler, turning a panic into an error.
fn guarded<T>(
    handler: impl FnOnce() -> Result<T, HandlerError>,
) -> Result<T, (Option<HandlerError>, String)> {
    match catch_unwind(AssertUnwindSafe(handler)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err((Some(error), String::new())),
        Err(panic) => Err((None, panic_message(&*panic))),
    }
}

fn failure(handler: &'static str, (error, message): (Option<HandlerError>, String)) -> ServerError {
    match error {
        Some(source) => ServerError::Handler { handler, source },
        None => ServerError::Panic { handler, message },
    }
}

impl<P: Protocol, G: Send + 'static> World<P, G> {
    pub(crate) async fn run(mut self) {
        let mut ticker = interval(self.shared.config.tick_interval());
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_tick = Instant::now();
        let mut last_ping = Instant::now();
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.command(command),
                },
                Some(inbound) = self.inbox.recv() => {
                    self.inbound(inbound);
                    // Whatever else is already queued goes through without a trip
                    // round the select (bounded, so ticks and commands stay prompt).
                    for _ in 1..INBOUND_BATCH {
                        let Ok(inbound) = self.inbox.try_recv() else { break };
                        self.run_deferred();
                        self.inbound(inbound);
                    }
                }
                _ = ticker.tick() => {
                    let now = Instant::now();
                    self.tick(now.duration_since(last_tick));
                    last_tick = now;
                    self.drop_stalled(now);
                    let every = self.shared.config.ping_interval;
                    if !every.is_zero() && now.duration_since(last_ping) >= every {
                        self.ping_everyone(now);
                        last_ping = now;
                    }
                }
            }
            self.run_deferred();
        }
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.stopping.send(true);
        let ids: Vec<PlayerId> = self.shared.players.keys().copied().collect();
        for id in ids {
            self.remove(id, Some(CloseReason::ServerShutdown));
            self.run_deferred();
        }
        // Connections still handshaking (resuming ones too) are refused.
        self.inbox.close();
        while let Ok(inbound) = self.inbox.try_recv() {
            if let Inbound::Join(join) = inbound {
                let _ = join
                    .reply
                    .send(Joined::Refused(CloseReason::ServerShutdown));
            }
        }
    }

    fn command(&mut self, command: Command<P>) {
        match command {
            Command::Broadcast { native, event } => {
                let everyone: Vec<PlayerId> = self.shared.players.keys().copied().collect();
                self.shared
                    .send_event_encoded(&event, Some(native), &everyone);
            }
            Command::Send {
                player,
                native,
                event,
            } => {
                self.shared
                    .send_event_encoded(&event, Some(native), [&player]);
            }
            Command::Kick(player) => self.remove(player, Some(CloseReason::Kicked)),
            Command::Sync { full } => self.sync(full),
            Command::Players(reply) => {
                let _ = reply.send(self.shared.players.values().map(Player::info).collect());
            }
            Command::Player(id, reply) => {
                let _ = reply.send(self.shared.players.get(&id).map(Player::info));
            }
            Command::Stats(reply) => {
                let mut stats = self.shared.stats;
                stats.players = self.shared.players.len();
                let _ = reply.send(stats);
            }
            Command::ServerState(reply) => {
                let _ = reply.send(self.shared.server_state.get().clone());
            }
            Command::Rooms(reply) => {
                let rooms = self
                    .shared
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
                let _ = reply.send(self.shared.entities.spawn(entity, room));
            }
            Command::Despawn(id, reply) => {
                let _ = reply.send(self.shared.entities.despawn(id));
            }
            Command::UpdateEntity(id, change, reply) => {
                let entity = self.shared.entities.live.get_mut(&id);
                let found = entity.is_some();
                if let Some(entity) = entity {
                    entity.state.update(change.0);
                }
                let _ = reply.send(found);
            }
            Command::Entities(reply) => {
                let entities = self
                    .shared
                    .entities
                    .live
                    .iter()
                    .map(|(id, entity)| (*id, entity.state.get().clone()))
                    .collect();
                let _ = reply.send(entities);
            }
            Command::Shutdown => {}
        }
    }

    fn inbound(&mut self, inbound: Inbound<P>) {
        match inbound {
            Inbound::Join(join) => self.admit(*join),
            Inbound::Event {
                player,
                link,
                read,
                event,
            } => self.event(player, link, read, event),
            Inbound::Pong { player, link, seq } => {
                if let Some(p) = self.shared.players.get_mut(&player) {
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
            Inbound::Invalid {
                player,
                link,
                read,
                error,
            } => {
                let current = self
                    .shared
                    .players
                    .get_mut(&player)
                    .is_some_and(|p| p.heard_on(link, read));
                if current {
                    self.report(Some(player), *error);
                }
            }
            Inbound::Left {
                player,
                link,
                read,
                ending,
            } => {
                let Some(p) = self.shared.players.get_mut(&player) else {
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
            Inbound::Problem(error) => self.report(None, *error),
        }
    }

    /// A connection finished its handshake: it becomes a new player, or resumes
    /// the session it names.
    fn admit(&mut self, join: JoinRequest) {
        let JoinRequest {
            outbox,
            hard_close,
            addr,
            wire,
            identity,
            resume,
            reply,
        } = join;
        self.shared.last_link += 1;
        let link = Link {
            id: self.shared.last_link,
            outbox,
            hard_close,
        };
        let link_id = link.id;
        if let Some(offer) = resume {
            match self.resume(&offer, link, addr) {
                Ok(id) => {
                    let _ = reply.send(Joined::Player { id, link: link_id });
                    self.player_handler(id, "resume", |handlers| handlers.on_resume.as_mut());
                }
                Err(reason) => {
                    let _ = reply.send(Joined::Refused(reason));
                }
            }
            return;
        }
        // The handshake checks capacity too; this closes the race between
        // handshakes completing at once.
        if self.shared.players.len() >= self.shared.config.max_players {
            let _ = reply.send(Joined::Refused(CloseReason::ServerFull));
            return;
        }
        let connection = Connection {
            addr,
            wire,
            link,
            identity,
        };
        let id = self.join(connection);
        let _ = reply.send(Joined::Player { id, link: link_id });
        self.player_handler(id, "connect", |handlers| handlers.on_connect.as_mut());
    }

    fn join(&mut self, connection: Connection) -> PlayerId {
        let shared = &mut self.shared;
        let id = shared
            .player_ids
            .next(|id| shared.players.contains_key(&id));
        let net_id = shared.net_ids.allocate();
        let resumable =
            connection.wire == WireFormat::Native && !shared.config.resume_grace.is_zero();
        let session = resumable
            .then(|| Session::new(shared.sessions.issue(id), shared.config.resume_buffer_len));
        let resume_token = session.as_ref().map(|session| session.token);
        let player = Player::<P>::new(id, net_id, connection, session);
        let tick_rate = shared.config.tick_rate.max(1);
        let settings = Settings::announced(&shared.config, player.wire);
        let welcome = match player.wire {
            WireFormat::Native => Outgoing::Binary(
                Welcome {
                    fingerprint: shared.fingerprint,
                    player: id,
                    net_id,
                    tick_rate,
                    settings,
                    resume_token,
                    resumed: None,
                }
                .encode(),
            ),
            WireFormat::Json => {
                Outgoing::Text(json::encode_welcome(id, tick_rate, &settings).into())
            }
        };
        // The queue is new and empty: the welcome is the connection's first frame.
        let _ = player.send_item(welcome);
        if player.wire == WireFormat::Json {
            shared.json_players += 1;
        }
        shared.players.insert(id, player);
        if shared.config.sync_scope == SyncScope::Everyone {
            shared.joined.push((net_id, id));
        }
        shared.publish_count();
        self.send_snapshot(id);
        id
    }

    /// Queues the world `id`'s client mirrors, as a newcomer gets it: the newcomer
    /// alone gets the world, the others learn of it from the next sync frame, so a
    /// join costs them only the newcomer's entry.
    fn send_snapshot(&mut self, id: PlayerId) {
        let shared = &mut self.shared;
        let wires = shared.wires_of(&[id]);
        match shared.join_snapshot(id, wires) {
            Ok(snapshot) => {
                let seen = shared
                    .tracks_entity_views()
                    .then(|| shared.entities_seen_by(id));
                if let Some(player) = shared.players.get_mut(&id) {
                    player.seen_entities = seen.unwrap_or_default();
                    // A snapshot larger than the queue is finished by a one-frame
                    // snapshot once the queue has room.
                    let all_queued = snapshot
                        .iter()
                        .all(|frame| player.send_frame(frame).is_ok());
                    player.needs_snapshot = !all_queued;
                }
            }
            Err(error) => shared.report_later(Some(id), error.into()),
        }
    }

    /// Resumes the session `offer` names on the connection `link`: the player gets
    /// a new token, the events its client missed and a snapshot. Refused with the
    /// reason to close the connection with when no session can be resumed.
    fn resume(
        &mut self,
        offer: &ResumeOffer,
        link: Link,
        addr: SocketAddr,
    ) -> Result<PlayerId, CloseReason> {
        let id = match self.shared.sessions.claim(offer.token) {
            Claim::Live(id) => id,
            Claim::Ended(reason) => return Err(reason),
            Claim::Unknown => return Err(CloseReason::SessionExpired),
        };
        let Some(player) = self.shared.players.get(&id) else {
            return Err(CloseReason::SessionExpired);
        };
        if !player.is_paused() {
            // The server had not noticed the old connection die (or another client
            // holds the token): the newer connection wins.
            self.pause(id, Some(CloseReason::Replaced));
        }
        let replay = match self.shared.players.get(&id) {
            Some(player) => match &player.session {
                Some(session) => session.borrow_mut().resume(offer),
                None => return Err(CloseReason::SessionExpired),
            },
            None => return Err(CloseReason::SessionExpired), // left in `on_pause`
        };
        let Ok(replay) = replay else {
            self.remove(id, Some(CloseReason::MissedEvents));
            return Err(CloseReason::MissedEvents);
        };
        let shared = &mut self.shared;
        let token = shared.sessions.issue(id);
        let Some(player) = shared.players.get_mut(&id) else {
            return Err(CloseReason::SessionExpired);
        };
        let received = match &player.session {
            Some(session) => {
                let mut session = session.borrow_mut();
                session.token = token;
                session.received
            }
            None => 0,
        };
        player.link = Some(link);
        player.addr = addr;
        player.heard_from();
        player.full_since.set(None);
        player.overflowed.set(false);
        let welcome = Welcome {
            fingerprint: shared.fingerprint,
            player: id,
            net_id: player.net_id,
            tick_rate: shared.config.tick_rate.max(1),
            settings: Settings::announced(&shared.config, WireFormat::Native),
            resume_token: Some(token),
            resumed: Some(received),
        };
        // The queue is new and empty: the welcome and the replayed events go first,
        // as one item however many events there are.
        let frames = std::iter::once(welcome.encode()).chain(replay).collect();
        let _ = player.send_item(Outgoing::Batch(frames));
        self.send_snapshot(id);
        Ok(id)
    }

    /// Detaches a player from its connection, closing it with `reason` when the
    /// server ends it, and holds the player for its client to resume.
    fn pause(&mut self, id: PlayerId, reason: Option<CloseReason>) {
        let Some(player) = self.shared.players.get_mut(&id) else {
            return;
        };
        if let Some(reason) = reason {
            player.close(reason);
        }
        // Dropping the queue ends the connection's writer once it has sent what is
        // queued (the close frame included).
        player.link = None;
        player.needs_snapshot = true;
        player.ping_pending = None;
        player.full_since.set(None);
        // An event that did not fit the old connection's queue is kept for the
        // session: from now on, overflowing means the session's buffer.
        player.overflowed.set(false);
        if let Some(session) = &player.session {
            session.borrow_mut().pause(Instant::now());
        }
        self.player_handler(id, "pause", |handlers| handlers.on_pause.as_mut());
    }

    /// Removes a player, closing its connection with `reason` when the server ends
    /// it, after running `on_disconnect`. Does nothing for a player already gone, so
    /// `on_disconnect` fires once whichever way a player leaves.
    fn remove(&mut self, id: PlayerId, reason: Option<CloseReason>) {
        let Some(player) = self.shared.players.get(&id) else {
            return;
        };
        if let Some(reason) = reason {
            player.close(reason);
        }
        self.player_handler(id, "disconnect", |handlers| handlers.on_disconnect.as_mut());

        let shared = &mut self.shared;
        let Some(player) = shared.players.get(&id) else {
            return;
        };
        let (net_id, rooms) = (player.net_id, player.rooms.clone());
        let visible: Vec<PlayerId> = player.visible.iter().copied().collect();
        if let Some(session) = &player.session {
            // A client that comes back with its token is told why the session ended.
            let token = session.borrow().token;
            let until = Instant::now() + shared.config.resume_grace;
            let limit = shared.config.max_players;
            let reason = reason.unwrap_or(CloseReason::SessionExpired);
            shared.sessions.end(token, reason, until, limit);
        }
        // Everyone who mirrors the player is told once; then it leaves its rooms
        // without further visibility changes to announce.
        shared.conceal(id, &visible);
        for room in &rooms {
            shared.rooms.remove_member(room, id);
        }
        if shared.players.remove(&id).map(|p| p.wire) == Some(WireFormat::Json) {
            shared.json_players -= 1;
        }
        if shared.config.sync_scope == SyncScope::Everyone {
            shared.left.push((net_id, id));
            shared.forget_arrival(id);
        }
        shared.net_ids.release(net_id);
        shared.publish_count();
    }

    fn event(&mut self, id: PlayerId, link: u64, read: u64, mut event: P::ToServer) {
        let Some(player) = self.shared.players.get_mut(&id) else {
            return; // left while the event was queued
        };
        if !player.heard_on(link, read) {
            return; // over a connection the player has since left behind
        }
        let name = event.name();
        let index = event.index();

        if let Some(chain) = self.handlers.middleware.get_mut(index) {
            for middleware in chain {
                let mut ctx = EventCtx {
                    ctx: ServerCtx {
                        shared: &mut self.shared,
                    },
                    current: id,
                };
                match guarded(|| middleware(&mut ctx, &mut event)) {
                    Ok(Verdict::Pass) => {}
                    Ok(Verdict::Reject) => return,
                    Err(failed) => {
                        let error = failure(name, failed);
                        return self.report(Some(id), error);
                    }
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
        let mut ctx = EventCtx {
            ctx: ServerCtx {
                shared: &mut self.shared,
            },
            current: id,
        };
        if let Err(failed) = guarded(|| handler(&mut ctx, event)) {
            self.report(Some(id), failure(name, failed));
        }
    }

    fn player_handler(
        &mut self,
        id: PlayerId,
        name: &'static str,
        pick: impl FnOnce(&mut Handlers<P, G>) -> Option<&mut crate::server::PlayerHandler<P, G>>,
    ) {
        let Some(handler) = pick(&mut self.handlers) else {
            return;
        };
        let mut ctx = EventCtx {
            ctx: ServerCtx {
                shared: &mut self.shared,
            },
            current: id,
        };
        if let Err(failed) = guarded(|| handler(&mut ctx)) {
            self.report(Some(id), failure(name, failed));
        }
    }

    /// One tick: `on_tick`, its deferred work, then the sync frames, so state set
    /// in a tick goes out in that tick's frames.
    fn tick(&mut self, dt: Duration) {
        self.shared.tick = self.shared.tick.next();
        self.shared.stats.ticks += 1;
        if let Some(handler) = self.handlers.on_tick.as_mut() {
            let mut ctx = ServerCtx {
                shared: &mut self.shared,
            };
            if let Err(failed) = guarded(|| handler(&mut ctx, dt)) {
                self.report(None, failure("tick", failed));
            }
            self.run_deferred();
        }
        self.sync(false);
    }

    fn sync(&mut self, full: bool) {
        if let Err(error) = self.shared.sync(full) {
            self.report(None, error.into());
        }
    }

    /// Disconnects slow consumers (an event overflowed their queue, or it stayed
    /// full past the slow-consumer timeout) and silent players (nothing at all, not
    /// even a bad frame, for the idle timeout; one with a session is paused
    /// instead), and ends the sessions of paused players whose grace period is over
    /// or whose buffer overflowed. The idle timeout is checked here, once per tick,
    /// rather than by a timer in every connection re-armed on every frame.
    fn drop_stalled(&mut self, now: Instant) {
        let patience = self.shared.config.slow_consumer_timeout;
        let idle = self.shared.config.idle_timeout;
        let grace = self.shared.config.resume_grace;
        let heard_by = now.checked_sub(idle).filter(|_| !idle.is_zero());
        let mut stalled = Vec::new();
        let mut silent = Vec::new();
        for player in self.shared.players.values() {
            if let Some(session) = player.session.as_ref().filter(|_| player.is_paused()) {
                if player.overflowed.get() {
                    stalled.push((player.id, Some(CloseReason::MissedEvents)));
                } else if session.borrow().expired(now, grace) {
                    stalled.push((player.id, None));
                }
            } else if player.is_slow(now, patience) {
                stalled.push((player.id, Some(CloseReason::SlowConsumer)));
            } else if heard_by.is_some_and(|heard_by| player.heard <= heard_by) {
                if player.session.is_some() {
                    silent.push(player.id);
                } else {
                    stalled.push((player.id, Some(CloseReason::IdleTimeout)));
                }
            }
        }
        for (id, reason) in stalled {
            self.remove(id, reason);
        }
        for id in silent {
            self.pause(id, Some(CloseReason::IdleTimeout));
        }
        self.shared.sessions.prune(now);
    }

    fn ping_everyone(&mut self, now: Instant) {
        let time = SystemTime::now();
        for player in self.shared.players.values_mut() {
            if player.is_paused() {
                continue;
            }
            player.ping_seq = player.ping_seq.wrapping_add(1);
            // In microseconds, never 0 once measured: 0 means "not yet".
            let rtt_us = player.ping.map_or(0, |rtt| {
                u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX).max(1)
            });
            let ping = match player.wire {
                WireFormat::Native => Outgoing::Binary(encode_ping(player.ping_seq, rtt_us)),
                WireFormat::Json => {
                    Outgoing::Text(json::encode_ping(player.ping_seq, rtt_us, time).into())
                }
            };
            if player.send_item(ping).is_ok() {
                player.ping_pending = Some((player.ping_seq, now));
            }
        }
    }

    fn run_deferred(&mut self) {
        while !self.shared.deferred.is_empty() {
            for deferred in std::mem::take(&mut self.shared.deferred) {
                match deferred {
                    Deferred::Kick(id) => self.remove(id, Some(CloseReason::Kicked)),
                    Deferred::Sync { full } => self.sync(full),
                    Deferred::Report { player, error } => self.report(player, error),
                }
            }
        }
    }

    fn report(&mut self, player: Option<PlayerId>, error: ServerError) {
        let player = player.and_then(|id| self.shared.players.get(&id));
        match self.handlers.on_error.as_mut() {
            Some(handler) => {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(&error, player))) {
                    tracing::error!("error handler panicked: {}", panic_message(&*panic));
                }
            }
            None => match player {
                Some(player) => tracing::warn!(player = %player.id(), "{error}"),
                None => tracing::warn!("{error}"),
            },
        }
    }
}
