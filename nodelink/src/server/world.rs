//! The world task: the one owner of all game state. It runs every handler, applies
//! the handle's commands and builds one sync frame per tick.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{interval, MissedTickBehavior};

use crate::handler::{panic_message, HandlerResult};
use crate::server::ctx::{Deferred, EventCtx, Shared};
use crate::server::error::ServerError;
use crate::server::handle::Command;
use crate::server::outbox::Outgoing;
use crate::server::player::Player;
use crate::server::Handlers;
use crate::sync::FieldMask;
use crate::wire::{encode_sync, CloseReason, NetId, SyncHeader, Welcome};
use crate::{Events, PlayerId, Protocol, SyncState};

/// What connection tasks tell the world.
#[derive(Debug)]
pub(crate) enum Inbound<P: Protocol> {
    /// A handshake completed: create the player. The reply is `None` when the
    /// server is shutting down.
    Join {
        outbox: mpsc::Sender<Outgoing>,
        addr: SocketAddr,
        reply: oneshot::Sender<Option<PlayerId>>,
    },
    Event {
        player: PlayerId,
        event: P::ToServer,
    },
    Invalid {
        player: PlayerId,
        error: ServerError,
    },
    Left {
        player: PlayerId,
    },
}

pub(crate) struct World<P: Protocol, G> {
    pub(crate) shared: Shared<P, G>,
    pub(crate) handlers: Handlers<P, G>,
    pub(crate) inbox: mpsc::Receiver<Inbound<P>>,
    pub(crate) commands: mpsc::UnboundedReceiver<Command<P>>,
    pub(crate) stopping: watch::Sender<bool>,
}

impl<P: Protocol, G: Send + 'static> World<P, G> {
    pub(crate) async fn run(mut self) {
        let mut ticker = interval(self.shared.config.tick_interval());
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.command(command),
                },
                Some(inbound) = self.inbox.recv() => self.inbound(inbound),
                _ = ticker.tick() => {
                    self.shared.tick = self.shared.tick.next();
                    self.shared.stats.ticks += 1;
                    self.sync(false);
                }
            }
        }
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.stopping.send(true);
        let ids: Vec<PlayerId> = self.shared.players.keys().copied().collect();
        for id in ids {
            self.remove(id, Some(CloseReason::ServerShutdown));
        }
        // Connections still handshaking get `None` and close.
        self.inbox.close();
        while let Ok(inbound) = self.inbox.try_recv() {
            if let Inbound::Join { reply, .. } = inbound {
                let _ = reply.send(None);
            }
        }
    }

    fn command(&mut self, command: Command<P>) {
        match command {
            Command::Broadcast { frame, event } => self.broadcast(frame, event),
            Command::Send {
                player,
                frame,
                event,
            } => {
                if let Some(target) = self.shared.players.get(&player) {
                    if target.send_frame(frame).is_err() {
                        self.report(Some(player), ServerError::QueueFull { player, event });
                    }
                }
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
            Command::Shutdown => {}
        }
        self.run_deferred();
    }

    fn inbound(&mut self, inbound: Inbound<P>) {
        match inbound {
            Inbound::Join {
                outbox,
                addr,
                reply,
            } => {
                let id = self.join(outbox, addr);
                let _ = reply.send(Some(id));
                self.run_player_handler(id, "connect", |handlers| handlers.on_connect.as_mut());
            }
            Inbound::Event { player, event } => self.event(player, event),
            Inbound::Invalid { player, error } => {
                if let Some(p) = self.shared.players.get_mut(&player) {
                    p.last_seen = SystemTime::now();
                }
                self.report(Some(player), error);
            }
            Inbound::Left { player } => self.remove(player, None),
        }
        self.run_deferred();
    }

    fn join(&mut self, outbox: mpsc::Sender<Outgoing>, addr: SocketAddr) -> PlayerId {
        let shared = &mut self.shared;
        let id = shared
            .player_ids
            .next(|id| shared.players.contains_key(&id));
        let net_id = shared.net_ids.allocate();
        let player = Player::<P>::new(id, net_id, addr, outbox);
        let welcome = Welcome {
            fingerprint: shared.fingerprint,
            player: id,
            net_id,
            tick_rate: shared.config.tick_rate.max(1),
        };
        // Queued before any other frame: the queue is new and empty.
        let _ = player.send_frame(welcome.encode());
        shared.players.insert(id, player);
        shared.joined.push((net_id, id));
        shared.publish_count(0);
        // The newcomer alone gets the whole world; the others learn of it from the
        // next sync frame, so a join costs them only the newcomer's entry.
        if let Some(snapshot) = self.snapshot_frame() {
            if let Some(player) = self.shared.players.get(&id) {
                let _ = player.send_frame(snapshot);
            }
        }
        id
    }

    /// Removes a player, closing its connection with `reason` when the server ends
    /// it, and runs `on_disconnect`. Does nothing for a player already gone, so
    /// `on_disconnect` fires once whichever way a player leaves.
    fn remove(&mut self, id: PlayerId, reason: Option<CloseReason>) {
        let Some(mut player) = self.shared.players.remove(&id) else {
            return;
        };
        if let Some(reason) = reason {
            player.close(reason);
        }
        let shared = &mut self.shared;
        shared.left.push(player.net_id);
        shared.joined.retain(|(_, joined)| *joined != id);
        shared.net_ids.release(player.net_id);
        shared.publish_count(1);
        if let Some(handler) = self.handlers.on_disconnect.as_mut() {
            let result = guarded(|| {
                handler(&mut EventCtx {
                    player: &mut player,
                    shared: &mut self.shared,
                })
            });
            if let Err(error) = into_server_error("disconnect", result) {
                report_to(&mut self.handlers, &error, Some(&player));
            }
        }
        self.shared.publish_count(0);
    }

    fn event(&mut self, id: PlayerId, event: P::ToServer) {
        let Some(mut player) = self.shared.players.remove(&id) else {
            return; // left while the event was queued
        };
        player.last_seen = SystemTime::now();
        let name = event.name();
        let index = event.index();
        let handler = match self.handlers.events.get_mut(index).and_then(Option::as_mut) {
            Some(handler) => Some(handler),
            None => self.handlers.all.as_mut(),
        };
        let result = handler.map(|handler| {
            guarded(|| {
                handler(
                    &mut EventCtx {
                        player: &mut player,
                        shared: &mut self.shared,
                    },
                    event,
                )
            })
        });
        self.shared.players.insert(id, player);
        if let Some(Err(error)) = result.map(|result| into_server_error(name, result)) {
            self.report(Some(id), error);
        }
    }

    fn run_player_handler(
        &mut self,
        id: PlayerId,
        name: &'static str,
        pick: impl FnOnce(&mut Handlers<P, G>) -> Option<&mut crate::server::PlayerHandler<P, G>>,
    ) {
        let Some(handler) = pick(&mut self.handlers) else {
            return;
        };
        let Some(mut player) = self.shared.players.remove(&id) else {
            return;
        };
        let result = guarded(|| {
            handler(&mut EventCtx {
                player: &mut player,
                shared: &mut self.shared,
            })
        });
        self.shared.players.insert(id, player);
        if let Err(error) = into_server_error(name, result) {
            self.report(Some(id), error);
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
        report_to(&mut self.handlers, &error, player);
    }

    fn broadcast(&mut self, frame: Bytes, event: &'static str) {
        let failed: Vec<PlayerId> = self
            .shared
            .players
            .values()
            .filter(|p| p.send_frame(frame.clone()).is_err())
            .map(Player::id)
            .collect();
        for player in failed {
            if self.shared.players.contains_key(&player) {
                self.report(Some(player), ServerError::QueueFull { player, event });
            }
        }
    }

    /// A full snapshot of every player, or `None` when encoding failed (reported).
    fn snapshot_frame(&mut self) -> Option<Bytes> {
        let shared = &self.shared;
        let joined: Vec<(NetId, PlayerId)> =
            shared.players.values().map(|p| (p.net_id, p.id)).collect();
        let header = SyncHeader {
            tick: shared.tick,
            online: shared.players.len() as u32,
            full: true,
        };
        let entries: Vec<_> = shared
            .players
            .values()
            .map(|p| (p.net_id, p.state.get(), P::State::ALL))
            .collect();
        match encode_sync(header, &[], &joined, entries) {
            Ok(frame) => Some(frame),
            Err(error) => {
                self.report(None, error.into());
                None
            }
        }
    }

    /// Builds this tick's sync frame once and queues it for every player.
    ///
    /// `full`: every player's whole state as a snapshot, sent even when nothing
    /// changed. Otherwise the changed fields (or, without `delta_only`, the whole
    /// state of every player), and nothing at all on a tick where nothing changed.
    fn sync(&mut self, full: bool) {
        let whole_states = full || !self.shared.config.delta_only;
        let shared = &mut self.shared;
        let masks: Vec<FieldMask> = shared
            .players
            .values_mut()
            .map(|p| {
                let dirty = p.state.take_dirty();
                if whole_states {
                    P::State::ALL
                } else {
                    dirty
                }
            })
            .collect();
        let (left, joined) = if full {
            shared.left.clear();
            shared.joined.clear();
            let everyone = shared.players.values().map(|p| (p.net_id, p.id)).collect();
            (Vec::new(), everyone)
        } else {
            (
                std::mem::take(&mut shared.left),
                std::mem::take(&mut shared.joined),
            )
        };
        let entries: Vec<_> = shared
            .players
            .values()
            .zip(masks)
            .filter(|(_, mask)| whole_states || !mask.is_empty())
            .map(|(p, mask)| (p.net_id, p.state.get(), mask))
            .collect();
        if !full && entries.is_empty() && left.is_empty() && joined.is_empty() {
            return;
        }
        let header = SyncHeader {
            tick: shared.tick,
            online: shared.players.len() as u32,
            full,
        };
        let frame = match encode_sync(header, &left, &joined, entries) {
            Ok(frame) => frame,
            Err(error) => return self.report(None, error.into()),
        };
        let mut owed_snapshot = false;
        let mut sent = 0u64;
        for player in self.shared.players.values_mut() {
            if player.needs_snapshot && !full {
                owed_snapshot = true;
                continue;
            }
            // A dropped sync frame is not lost: the player is owed a snapshot, which
            // carries everything the frame did.
            player.needs_snapshot = player.send_frame(frame.clone()).is_err();
            owed_snapshot |= player.needs_snapshot;
            sent += u64::from(!player.needs_snapshot);
        }
        self.shared.stats.frames += 1;
        self.shared.stats.bytes_sent += sent * frame.len() as u64;
        if owed_snapshot {
            self.resync();
        }
    }

    /// Sends one snapshot, encoded once, to every player owed one whose queue has room.
    fn resync(&mut self) {
        let Some(snapshot) = self.snapshot_frame() else {
            return;
        };
        for player in self
            .shared
            .players
            .values_mut()
            .filter(|p| p.needs_snapshot)
        {
            player.needs_snapshot = player.send_frame(snapshot.clone()).is_err();
        }
    }
}

/// Hands an error to `on_error`, or logs it when there is none.
fn report_to<P: Protocol, G>(
    handlers: &mut Handlers<P, G>,
    error: &ServerError,
    player: Option<&Player<P>>,
) {
    match handlers.on_error.as_mut() {
        Some(handler) => {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler(error, player))) {
                tracing::error!("error handler panicked: {}", panic_message(&*panic));
            }
        }
        None => log(error, player.map(Player::id)),
    }
}

/// Runs a handler, turning a panic into an error.
fn guarded(handler: impl FnOnce() -> HandlerResult) -> Result<HandlerResult, String> {
    catch_unwind(AssertUnwindSafe(handler)).map_err(|panic| panic_message(&*panic))
}

fn into_server_error(
    handler: &'static str,
    result: Result<HandlerResult, String>,
) -> Result<(), ServerError> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(ServerError::Handler { handler, source }),
        Err(message) => Err(ServerError::Panic { handler, message }),
    }
}

fn log(error: &ServerError, player: Option<PlayerId>) {
    match player {
        Some(player) => tracing::warn!(%player, "{error}"),
        None => tracing::warn!("{error}"),
    }
}
