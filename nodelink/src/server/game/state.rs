//! A match's state: everything its task owns apart from the handlers, and the
//! helpers that queue frames for its players.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::id_map::IdMap;
use crate::server::config::ServerConfig;
use crate::server::error::{SendError, ServerError};
use crate::server::game::entities::Entities;
use crate::server::game::frame::{Frame, Wires};
use crate::server::game::handle::ServerHandle;
use crate::server::game::ids::{NetIds, PlayerIds};
use crate::server::game::player::Player;
use crate::server::game::replication::JoinBase;
use crate::server::game::room::Rooms;
use crate::server::game::session::Sessions;
use crate::server::game::stats::{StatsBoard, SyncStats};
use crate::server::game::visibility::Rules;
use crate::server::matchmaking::kinds::MatchRecord;
use crate::sync::{Tick, Tracked};
use crate::wire::{encode_event, json, CloseReason, NetId, WireFormat};
use crate::{Events, PlayerId, Protocol};

/// A match's state: everything its task owns apart from the handlers.
pub(crate) struct MatchState<P: Protocol, G> {
    pub(crate) game: G,
    pub(crate) players: IdMap<Player<P>>,
    pub(crate) server_state: Tracked<P::ServerState>,
    pub(crate) entities: Entities<P::Entity>,
    /// Who sees what, when the game decides it per recipient.
    pub(crate) rules: Rules<P>,
    pub(crate) rooms: Rooms,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) fingerprint: u64,
    pub(crate) tick: Tick,
    pub(crate) player_ids: PlayerIds,
    /// How many players speak the JSON wire: while none do (or all do), a frame is
    /// encoded in one wire without looking at its recipients.
    pub(crate) json_players: usize,
    pub(crate) net_ids: NetIds,
    /// Arrivals and departures since the last sync frame (scope `Everyone`).
    pub(crate) joined: Vec<(NetId, PlayerId)>,
    pub(crate) left: Vec<(NetId, PlayerId)>,
    /// The world as newcomers get it, encoded once per tick and shared by every
    /// newcomer of the tick (see `MatchState::join_snapshot`).
    pub(crate) join_base: Option<JoinBase>,
    /// What handlers asked for that must wait until they return.
    pub(crate) deferred: Vec<Deferred>,
    /// The players' changes taken by the last sync, emptied: its allocation is
    /// the next tick's, rather than one made (and grown) every tick.
    pub(crate) taken_changes: Vec<(PlayerId, <P::State as crate::SyncState>::Changes)>,
    /// The resume tokens of sessions, live and lately ended.
    pub(crate) sessions: Sessions,
    /// The id of the latest connection to reach the world (each gets the next).
    pub(crate) last_link: u64,
    pub(crate) handle: ServerHandle<P>,
    pub(crate) online: Arc<AtomicUsize>,
    pub(crate) stats: SyncStats,
    /// `stats` as last added to the match's and the process's boards.
    published: SyncStats,
    /// What matchmaking knows of this match: its code, places, lock, metadata.
    pub(crate) record: Arc<MatchRecord<P>>,
    /// The options the match was created with.
    pub(crate) options: P::MatchOptions,
    /// Why the match is ending, once it is.
    pub(crate) ending: Option<CloseReason>,
    /// Since when no place has been taken, while none is.
    pub(crate) empty_since: Option<Instant>,
}

/// Work a handler requests that needs the handlers themselves (a kick fires
/// `on_disconnect`) or must not run in the middle of a handler.
#[derive(Debug)]
pub(crate) enum Deferred {
    Kick(PlayerId),
    EndMatch,
    Sync {
        full: bool,
    },
    Report {
        player: Option<PlayerId>,
        error: ServerError,
    },
}

impl<P: Protocol, G> MatchState<P, G> {
    /// A match with no players yet.
    pub(crate) fn new(
        game: G,
        config: Arc<ServerConfig>,
        rules: Rules<P>,
        player_ids: PlayerIds,
        handle: ServerHandle<P>,
        record: Arc<MatchRecord<P>>,
        options: P::MatchOptions,
    ) -> Self {
        Self {
            game,
            players: IdMap::default(),
            server_state: Tracked::default(),
            entities: Entities::default(),
            rules,
            rooms: Rooms::default(),
            config,
            fingerprint: P::FINGERPRINT,
            tick: Tick::default(),
            player_ids,
            json_players: 0,
            net_ids: NetIds::default(),
            joined: Vec::new(),
            left: Vec::new(),
            join_base: None,
            deferred: Vec::new(),
            taken_changes: Vec::new(),
            sessions: Sessions::default(),
            last_link: 0,
            online: handle.online.clone(),
            stats: SyncStats::default(),
            published: SyncStats::default(),
            handle,
            record,
            options,
            ending: None,
            empty_since: None,
        }
    }

    /// Adds what the sync engine did since the last time to the match's and the
    /// process's counters, which others read without asking the match.
    pub(crate) fn publish_stats(&mut self) {
        let record = &self.record;
        StatsBoard::publish(
            [&record.stats, &record.process.sync],
            &self.stats,
            &self.published,
        );
        self.published = self.stats;
        let (mut paused, mut queued, mut deepest) = (0, 0, 0);
        for player in self.players.values() {
            match &player.link {
                None => paused += 1,
                Some(link) => {
                    let waiting = link.outbox.max_capacity() - link.outbox.capacity();
                    queued += waiting;
                    deepest = deepest.max(waiting);
                }
            }
        }
        let queues = &record.queues;
        queues.paused.store(paused, Ordering::Relaxed);
        queues.queued.store(queued, Ordering::Relaxed);
        queues.deepest.store(deepest, Ordering::Relaxed);
    }

    pub(crate) fn publish_count(&self) {
        self.online.store(self.players.len(), Ordering::Relaxed);
    }

    pub(crate) fn report_later(&mut self, player: Option<PlayerId>, error: ServerError) {
        self.deferred.push(Deferred::Report { player, error });
    }

    /// Encodes an event once per wire format among `recipients` and queues it for
    /// them; see [`Self::send_frame_to`].
    pub(crate) fn send_event<'p>(
        &mut self,
        event: &P::ToClient,
        recipients: impl IntoIterator<Item = &'p PlayerId> + Clone,
    ) {
        self.send_event_encoded(event, None, recipients);
    }

    /// As [`Self::send_event`], with the native frame already encoded (by a
    /// [`ServerHandle`], off the world task) when `native` is given.
    pub(crate) fn send_event_encoded<'p>(
        &mut self,
        event: &P::ToClient,
        native: Option<Bytes>,
        recipients: impl IntoIterator<Item = &'p PlayerId> + Clone,
    ) {
        let wires = self.wires_of(recipients.clone());
        let frame = Frame::encode(
            wires,
            || native.map_or_else(|| encode_event(event), Ok),
            || json::encode_event(event),
        );
        match frame {
            Ok(frame) => self.send_frame_to(&frame, event.name(), recipients),
            Err(error) => self.report_later(None, error.into()),
        }
    }

    /// The wire formats spoken among `ids` (unknown ids are skipped).
    pub(crate) fn wires_of<'p>(&self, ids: impl IntoIterator<Item = &'p PlayerId>) -> Wires {
        if self.json_players == 0 {
            return Wires::one(WireFormat::Native);
        }
        if self.json_players == self.players.len() {
            return Wires::one(WireFormat::Json);
        }
        Wires::of(
            ids.into_iter()
                .filter_map(|id| self.players.get(id).map(|p| p.wire)),
        )
    }

    /// The wire formats spoken by everyone.
    pub(crate) fn wires_of_everyone(&self) -> Wires {
        self.wires_of(self.players.keys())
    }

    /// Queues an encoded event for `recipients` (unknown ids are skipped); a full
    /// queue is reported to `on_error` once the current handler or command is done.
    pub(crate) fn send_frame_to<'p>(
        &mut self,
        frame: &Frame,
        event: &'static str,
        recipients: impl IntoIterator<Item = &'p PlayerId>,
    ) {
        let full: Vec<PlayerId> = recipients
            .into_iter()
            .filter(|id| {
                self.players
                    .get(id)
                    .is_some_and(|p| p.send_event_frame(frame) == Err(SendError::QueueFull))
            })
            .copied()
            .collect();
        for player in full {
            self.report_later(Some(player), ServerError::QueueFull { player, event });
        }
    }
}
