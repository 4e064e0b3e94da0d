//! A player's life in a match: joining (welcome, snapshot, `on_connect`),
//! resuming its session on a new connection, pausing when its connection is lost,
//! and leaving.

use std::net::SocketAddr;
use std::time::Instant;

use crate::server::config::SyncScope;
use crate::server::game::player::{Connection, Link, Player};
use crate::server::game::session::{Claim, Session};
use crate::server::game::{Match, MatchState};
use crate::server::log_budget::LogBudget;
use crate::server::port::{JoinRequest, Joined, Outgoing};
use crate::server::SendError;
use crate::wire::{json, CloseReason, ResumeOffer, Settings, Welcome, WireFormat};
use crate::{PlayerId, Protocol};

impl<P: Protocol, G: Send + 'static> Match<P, G> {
    /// A connection finished its handshake: it becomes a new player, or resumes
    /// the session it names.
    pub(super) fn admit(&mut self, join: JoinRequest) {
        let JoinRequest {
            outbox,
            socket,
            hard_close,
            addr,
            wire,
            identity,
            resume,
            seat,
            reply,
        } = join;
        self.state.last_link += 1;
        let link = Link {
            id: self.state.last_link,
            outbox,
            socket,
            hard_close,
        };
        let link_id = link.id;
        if let Some(offer) = resume {
            let resumed = self.resume(&offer, link, addr);
            self.state.record.process.resumed(resumed.err());
            match resumed {
                Ok(id) => {
                    let process = self.state.record.process.clone();
                    let _ = reply.send(Joined::Player {
                        id,
                        link: link_id,
                        process,
                    });
                    self.player_handler(id, "resume", |handlers| handlers.on_resume.as_mut());
                }
                Err(reason) => {
                    let _ = reply.send(Joined::Refused(reason));
                }
            }
            return;
        }
        // Matchmaking took this newcomer's place before it was upgraded: a join
        // without one has none to take.
        let Some(seat) = seat else {
            let _ = reply.send(Joined::Refused(CloseReason::ServerFull));
            return;
        };
        let connection = Connection {
            addr,
            wire,
            link,
            identity,
            seat,
        };
        let id = self.join(connection);
        let process = self.state.record.process.clone();
        let _ = reply.send(Joined::Player {
            id,
            link: link_id,
            process,
        });
        if self.state.players.contains_key(&id) {
            self.player_handler(id, "connect", |handlers| handlers.on_connect.as_mut());
        }
    }

    fn join(&mut self, connection: Connection) -> PlayerId {
        let shared = &mut self.state;
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
        let settings = Settings::announced(&shared.config, player.wire)
            .in_match(&shared.record.code, &shared.record.kind);
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
        if let Some(service) = &shared.record.service {
            service.joined(id, &shared.record.code);
        }
        // With a player visibility rule, others see the newcomer at the next
        // tick, as their views are built.
        if shared.config.sync_scope == SyncScope::Everyone && !shared.tracks_player_views() {
            shared.joined.push((net_id, id));
        }
        shared.publish_count();
        // Before the snapshot, so that the newcomer's first mirror shows what
        // `on_join` made of it (its state, its rooms, what it sees from there);
        // what it sends the newcomer follows the snapshot.
        if let Some(player) = self.state.players.get(&id) {
            player.hold_sends();
        }
        self.player_handler(id, "join", |handlers| handlers.on_join.as_mut());
        let held = self
            .state
            .players
            .get(&id)
            .map(Player::release_held)
            .unwrap_or_default();
        self.send_snapshot(id);
        if let Some(player) = self.state.players.get(&id) {
            for item in held {
                if player.send_item(item) == Err(SendError::QueueFull) {
                    player.overflowed.set(true);
                }
            }
        }
        id
    }

    /// Queues the world `id`'s client mirrors, as a newcomer gets it: the newcomer
    /// alone gets the world, the others learn of it from the next sync frame, so a
    /// join costs them only the newcomer's entry.
    fn send_snapshot(&mut self, id: PlayerId) {
        let shared = &mut self.state;
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
                    let mut all_queued = true;
                    for frame in &snapshot {
                        if player.send_frame(frame).is_err() {
                            all_queued = false;
                            break;
                        }
                        shared.stats.bytes_sent += frame.len(player.wire) as u64;
                        shared.stats.deliveries += 1;
                    }
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
        let id = match self.state.sessions.claim(offer.token) {
            Claim::Live(id) => id,
            Claim::Ended(reason) => return Err(reason),
            Claim::Unknown => return Err(CloseReason::SessionExpired),
        };
        let Some(player) = self.state.players.get(&id) else {
            return Err(CloseReason::SessionExpired);
        };
        if !player.is_paused() {
            // The server had not noticed the old connection die (or another client
            // holds the token): the newer connection wins.
            self.pause(id, Some(CloseReason::Replaced));
        }
        let replay = match self.state.players.get(&id) {
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
        let shared = &mut self.state;
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
            settings: Settings::announced(&shared.config, WireFormat::Native)
                .in_match(&shared.record.code, &shared.record.kind),
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
    pub(super) fn pause(&mut self, id: PlayerId, reason: Option<CloseReason>) {
        let Some(player) = self.state.players.get_mut(&id) else {
            return;
        };
        if let Some(reason) = reason {
            player.close(reason);
            self.state.log_drop(id, reason, true);
        }
        let Some(player) = self.state.players.get_mut(&id) else {
            return;
        };
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
    pub(super) fn remove(&mut self, id: PlayerId, reason: Option<CloseReason>) {
        let Some(player) = self.state.players.get(&id) else {
            return;
        };
        if let Some(reason) = reason {
            // A paused player has no connection to end: its drop was told when
            // it was paused.
            if player.link.is_some() {
                self.state.log_drop(id, reason, false);
            }
            player.close(reason);
        }
        self.player_handler(id, "disconnect", |handlers| handlers.on_disconnect.as_mut());

        let shared = &mut self.state;
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
        // without further visibility changes to announce. Not while the match
        // ends: everyone is leaving, and telling each of the others of each would
        // queue a frame per pair.
        if shared.ending.is_some() {
            for player in shared.players.values_mut() {
                player.visible.remove(&id);
                player.tag_sight.remove(&id);
            }
        } else if shared.tracks_player_views() {
            shared.forget_in_views(id);
        } else {
            shared.conceal(id, &visible);
        }
        for room in &rooms {
            shared.rooms.remove_member(room, id);
        }
        if let Some(service) = &shared.record.service {
            service.left(id, &shared.record.code);
        }
        if shared.players.remove(&id).map(|p| p.wire) == Some(WireFormat::Json) {
            shared.json_players -= 1;
        }
        if shared.config.sync_scope == SyncScope::Everyone && !shared.tracks_player_views() {
            shared.left.push((net_id, id));
            shared.forget_arrival(id);
        }
        shared.net_ids.release(net_id);
        shared.publish_count();
    }
}

impl<P: Protocol, G> MatchState<P, G> {
    /// Tells the operator, once, that the server ended `id`'s connection and
    /// why, with its peer: a warning when the client misbehaved or fell behind,
    /// information for the game's own kicks, debug for a whole match ending
    /// (every player at once). Within the process's log budget, so that a flood of
    /// misbehaving clients does not become a flood of log lines.
    pub(crate) fn log_drop(&self, id: PlayerId, reason: CloseReason, held: bool) {
        self.record.process.connection_ended(reason);
        let Some(player) = self.players.get(&id) else {
            return;
        };
        let code = self.record.code.as_str();
        let (peer, reason_code) = (player.addr, reason.code());
        let what = reason.description();
        let then = if held {
            "its session is held for it to resume"
        } else {
            "it is gone"
        };
        if matches!(
            reason,
            CloseReason::MatchEnded | CloseReason::ServerShutdown | CloseReason::Replaced
        ) {
            tracing::debug!(player = %id, %peer, r#match = code, close_code = reason_code, "connection ended by the server: {what}; {then}");
            return;
        }
        let unlogged = LogBudget::spend_shared(&self.record.process.drops_log);
        let Some(unlogged) = unlogged else {
            return;
        };
        if unlogged > 0 {
            tracing::warn!(
                "{unlogged} more connections ended by the server, not logged one by one"
            );
        }
        match reason {
            CloseReason::Kicked => {
                tracing::info!(player = %id, %peer, r#match = code, close_code = reason_code, "connection ended by the server: {what}; {then}");
            }
            _ => {
                tracing::warn!(player = %id, %peer, r#match = code, close_code = reason_code, "connection ended by the server: {what}; {then}");
            }
        }
    }
}
