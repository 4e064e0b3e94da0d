//! `ServerHandle`: the server's actions and queries from any thread or task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use crate::server::error::{SendError, ServerStopped};
use crate::server::game::player::PlayerInfo;
use crate::server::game::stats::SyncStats;
use crate::server::matchmaking::{MatchInfo, Matchmaker, ProcessStats};
use crate::server::service::Remote;
use crate::wire::encode_event;
use crate::{EntityId, PlayerId, Protocol};

/// What a handle asks of the world task.
#[derive(Debug)]
pub(crate) enum Command<P: Protocol> {
    /// `native` is the event's native frame, encoded by the caller; the world
    /// encodes the JSON frame when a JSON client is among the recipients.
    Broadcast {
        native: Bytes,
        event: P::ToClient,
    },
    Send {
        player: PlayerId,
        native: Bytes,
        event: P::ToClient,
    },
    Kick(PlayerId),
    /// Ends the match, as `ctx.end_match` does.
    End,
    Sync {
        full: bool,
    },
    Players(oneshot::Sender<Vec<PlayerInfo<P::State>>>),
    /// Every player, its state as JSON: for the admin calls that reach a match
    /// of any kind.
    PlayersJson(oneshot::Sender<Vec<PlayerInfo<String>>>),
    Player(PlayerId, oneshot::Sender<Option<PlayerInfo<P::State>>>),
    Stats(oneshot::Sender<SyncStats>),
    ServerState(oneshot::Sender<P::ServerState>),
    Rooms(oneshot::Sender<Vec<(String, Vec<PlayerId>)>>),
    Spawn {
        entity: P::Entity,
        room: Option<String>,
        reply: oneshot::Sender<EntityId>,
    },
    Despawn(EntityId, oneshot::Sender<Option<P::Entity>>),
    UpdateEntity(EntityId, EntityChange<P::Entity>, oneshot::Sender<bool>),
    Entities(oneshot::Sender<Vec<(EntityId, P::Entity)>>),
}

/// A change to an entity's state, made on the world task.
pub(crate) struct EntityChange<E>(pub(crate) Box<dyn FnOnce(&mut E) + Send>);

impl<E> std::fmt::Debug for EntityChange<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EntityChange(..)")
    }
}

/// Controls a running server from anywhere: other tasks, plain threads, a console.
///
/// `Clone + Send + Sync`. Actions are queued to the world task and applied in the
/// order they were made, between handlers; they return at once. Events are encoded
/// by the caller, once, so a broadcast costs the world task only a queue push per
/// player.
///
/// The queue to the world task is unbounded: it carries the server owner's own
/// commands, never anything a remote peer controls.
#[derive(Debug)]
pub struct ServerHandle<P: Protocol> {
    pub(crate) commands: mpsc::UnboundedSender<Command<P>>,
    pub(crate) online: Arc<AtomicUsize>,
    /// Turns `true` once the server is asked to shut down; every match watches it.
    pub(crate) shutdown: Arc<watch::Sender<bool>>,
    /// The running server's matchmaker, once it runs.
    pub(crate) process: ProcessLink,
}

/// Where a handle finds its server's matchmaker: set when the server starts to
/// run; weak, so that a handle kept after the server stopped holds nothing.
pub(crate) type ProcessLink = Arc<OnceLock<Weak<Matchmaker>>>;

impl<P: Protocol> Clone for ServerHandle<P> {
    fn clone(&self) -> Self {
        Self {
            commands: self.commands.clone(),
            online: self.online.clone(),
            shutdown: self.shutdown.clone(),
            process: self.process.clone(),
        }
    }
}

impl<P: Protocol> ServerHandle<P> {
    /// A handle to a match yet to start, and the commands it will read.
    pub(crate) fn new(
        shutdown: Arc<watch::Sender<bool>>,
        process: ProcessLink,
    ) -> (Self, mpsc::UnboundedReceiver<Command<P>>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let handle = Self {
            commands,
            online: Arc::new(AtomicUsize::new(0)),
            shutdown,
            process,
        };
        (handle, receiver)
    }

    /// Every live match of the server, of every kind: its code, kind, players,
    /// places, and whether it is locked or listed. Empty before the server runs
    /// and after it stopped.
    #[must_use]
    pub fn matches(&self) -> Vec<MatchInfo> {
        self.process
            .get()
            .and_then(Weak::upgrade)
            .map(|matchmaker| matchmaker.matches())
            .unwrap_or_default()
    }

    /// The whole server's numbers: matches and players now, matches started and
    /// ended, and every match's sync engine summed (see [`stats`](Self::stats)
    /// for this handle's match alone). Zero before the server runs.
    ///
    /// ```
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{PlayerId, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
    /// # #[nodelink::events] pub enum ToServer { Ready }
    /// # #[nodelink::events] pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// let server = Server::<Game>::new(ServerConfig::default());
    /// let stats = server.handle().process_stats();
    /// assert_eq!((stats.matches, stats.players, stats.matches_started), (0, 0, 0));
    /// ```
    #[must_use]
    pub fn process_stats(&self) -> ProcessStats {
        self.process
            .get()
            .and_then(Weak::upgrade)
            .map(|matchmaker| matchmaker.stats())
            .unwrap_or_default()
    }

    pub(crate) fn command(&self, command: Command<P>) -> Result<(), ServerStopped> {
        self.commands.send(command).map_err(|_| ServerStopped)
    }

    /// Sends an event to every player; paused players get it when they resume.
    ///
    /// # Errors
    /// [`SendError::Encode`] when the event cannot be encoded,
    /// [`SendError::Disconnected`] when the server has stopped.
    pub fn broadcast(&self, event: P::ToClient) -> Result<(), SendError> {
        let native = encode_event(&event)?;
        self.command(Command::Broadcast { native, event })
            .map_err(|_| SendError::Disconnected)
    }

    /// Sends an event to one player (a paused one gets it when it resumes);
    /// nothing happens if there is no such player.
    ///
    /// # Errors
    /// As [`broadcast`](Self::broadcast).
    pub fn send_to(&self, player: PlayerId, event: P::ToClient) -> Result<(), SendError> {
        let native = encode_event(&event)?;
        self.command(Command::Send {
            player,
            native,
            event,
        })
        .map_err(|_| SendError::Disconnected)
    }

    /// Disconnects a player: its client sees the close reason "kicked by the
    /// server", and `on_disconnect` fires.
    ///
    /// # Errors
    /// When the server has stopped.
    pub fn kick(&self, player: PlayerId) -> Result<(), ServerStopped> {
        self.command(Command::Kick(player))
    }

    /// Ends the server's match whose code is `code`, of any kind, as its
    /// handlers' `ctx.end_match()` would: its players are closed with 4011 "match
    /// ended". For an operator's tools (an admin page, a moderation command).
    /// Returns `false` when no live match has the code.
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{PlayerId, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
    /// # #[nodelink::events] pub enum ToServer { Ready }
    /// # #[nodelink::events] pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// # let server = Server::<Game>::new(ServerConfig::default());
    /// let handle = server.handle();
    /// for info in handle.matches() {
    ///     if info.players == 0 && info.kind == "arena" {
    ///         handle.end_match(&info.code);
    ///     }
    /// }
    /// ```
    pub fn end_match(&self, code: &str) -> bool {
        self.deliver(code, Remote::End)
    }

    /// Disconnects `player` from the server's match whose code is `code`, of any
    /// kind, as [`kick`](Self::kick) does in this handle's own match. Returns
    /// `false` when no live match has the code (whether the player is in it is
    /// the match's to know: a player who is not is left alone).
    pub fn kick_from(&self, code: &str, player: PlayerId) -> bool {
        self.deliver(code, Remote::Kick { player })
    }

    /// Sends `event` to every player of the server's match whose code is
    /// `code`, whose kind speaks the protocol `Q` (a lobby server telling one
    /// arena that it closes soon). Returns `false` when no live match has the
    /// code, or its kind speaks another protocol.
    ///
    /// # Errors
    /// When the event cannot be encoded.
    pub fn broadcast_to<Q: Protocol>(
        &self,
        code: &str,
        event: &Q::ToClient,
    ) -> Result<bool, crate::EncodeError> {
        let native = encode_event(event)?;
        let Some(kind) = self.kind_holding(code) else {
            return Ok(false);
        };
        if kind.fingerprint() != Q::FINGERPRINT {
            return Ok(false);
        }
        kind.deliver(Some(code), Remote::Broadcast { native: &native });
        Ok(true)
    }

    /// The players of the server's match whose code is `code`, of any kind,
    /// paused ones included, each state as a JSON object of every synced field
    /// (owner and tagged fields too: this is an operator's view); `None` when no
    /// live match has the code, or it ended before answering.
    ///
    /// ```
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::SyncState;
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { x: f32 }
    /// # #[nodelink::events] pub enum Nothing {}
    /// # #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
    /// # pub struct Game;
    /// # async fn show(server: &Server<Game>) {
    /// let handle = server.handle();
    /// for info in handle.matches() {
    ///     for player in handle.players_in(&info.code).await.unwrap_or_default() {
    ///         println!("{} {} {} {}", info.code, player.id, player.addr, player.state);
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn players_in(&self, code: &str) -> Option<Vec<PlayerInfo<String>>> {
        let answer = self.kind_holding(code)?.players_json(code)?;
        answer.await.ok()
    }

    /// Locks (no one new joins: finds pass it by, joins by code are refused
    /// with 4213) or unlocks the server's match whose code is `code`, of any
    /// kind, as `ctx.lock_match` and `ctx.unlock_match` do from its handlers.
    /// Returns `false` when no live match has the code.
    pub fn set_locked(&self, code: &str, locked: bool) -> bool {
        self.kind_holding(code)
            .is_some_and(|kind| kind.set_locked(code, locked))
    }

    /// The kind that holds a live match with this code.
    fn kind_holding(&self, code: &str) -> Option<Arc<dyn crate::server::matchmaking::Kind>> {
        let matchmaker = self.process.get().and_then(Weak::upgrade)?;
        let intent = crate::server::matchmaking::Intent::Join {
            code: code.to_owned(),
        };
        let kind = matchmaker.kind_for(&intent).ok()?.clone();
        matchmaker
            .matches()
            .iter()
            .any(|info| info.code == code)
            .then_some(kind)
    }

    fn deliver(&self, code: &str, message: Remote<'_>) -> bool {
        match self.kind_holding(code) {
            Some(kind) => {
                kind.deliver(Some(code), message);
                true
            }
            None => false,
        }
    }

    /// Sends pending state changes now instead of at the next tick; `full` sends
    /// every player's whole state as a snapshot.
    ///
    /// # Errors
    /// When the server has stopped.
    pub fn sync_state(&self, full: bool) -> Result<(), ServerStopped> {
        self.command(Command::Sync { full })
    }

    /// How many players there are, paused ones included.
    #[must_use]
    pub fn player_count(&self) -> usize {
        self.online.load(Ordering::Relaxed)
    }

    /// A snapshot of every player, paused ones included
    /// ([`PlayerInfo::paused`](super::PlayerInfo::paused) tells them apart).
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn players(&self) -> Result<Vec<PlayerInfo<P::State>>, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Players(reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// A snapshot of one player, connected or paused, if there is one.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn player(
        &self,
        id: PlayerId,
    ) -> Result<Option<PlayerInfo<P::State>>, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Player(id, reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// The sync engine's counters.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn stats(&self) -> Result<SyncStats, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Stats(reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// The shared server state, as last set.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn server_state(&self) -> Result<P::ServerState, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::ServerState(reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// Spawns an entity (see the handlers' `spawn`); returns its id once the world
    /// task has added it. Every client sees it in the next sync frame.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn spawn(&self, entity: impl Into<P::Entity>) -> Result<EntityId, ServerStopped> {
        self.spawn_where(entity.into(), None).await
    }

    /// Spawns an entity that, with room-scoped sync, only the members of `room` see.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn spawn_in(
        &self,
        room: &str,
        entity: impl Into<P::Entity>,
    ) -> Result<EntityId, ServerStopped> {
        self.spawn_where(entity.into(), Some(room.to_owned())).await
    }

    async fn spawn_where(
        &self,
        entity: P::Entity,
        room: Option<String>,
    ) -> Result<EntityId, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Spawn {
            entity,
            room,
            reply,
        })?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// Despawns an entity; returns its last state (`None`: no such entity).
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn despawn(&self, id: EntityId) -> Result<Option<P::Entity>, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Despawn(id, reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// Changes an entity on the world task; the fields that differ afterwards go
    /// out in the next sync frame. `false` when there is no such entity.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn update_entity(
        &self,
        id: EntityId,
        change: impl FnOnce(&mut P::Entity) + Send + 'static,
    ) -> Result<bool, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::UpdateEntity(
            id,
            EntityChange(Box::new(change)),
            reply,
        ))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// Every live entity and its state, in id order.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn entities(&self) -> Result<Vec<(EntityId, P::Entity)>, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Entities(reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// Every room and its members, in id order.
    ///
    /// # Errors
    /// When the server has stopped.
    pub async fn rooms(&self) -> Result<Vec<(String, Vec<PlayerId>)>, ServerStopped> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Rooms(reply))?;
        answer.await.map_err(|_| ServerStopped)
    }

    /// [`players`](Self::players) for plain threads: blocks until the world task
    /// answers. Do not call it from async code (use `players().await`) or from a
    /// handler (use the context).
    ///
    /// # Errors
    /// When the server has stopped.
    pub fn get_players(&self) -> Result<Vec<PlayerInfo<P::State>>, ServerStopped> {
        futures::executor::block_on(self.players())
    }

    /// [`player`](Self::player) for plain threads; see [`get_players`](Self::get_players).
    ///
    /// # Errors
    /// When the server has stopped.
    pub fn get_player(&self, id: PlayerId) -> Result<Option<PlayerInfo<P::State>>, ServerStopped> {
        futures::executor::block_on(self.player(id))
    }

    /// Stops the server: every player gets a close frame ("server shutting down")
    /// and `on_disconnect`, and `run` returns once the connections have closed.
    /// Calling it after the server stopped does nothing.
    ///
    /// A process of a service (`nodelink::cluster`, feature `cluster`) drains
    /// first: it takes no new players but those resuming or joining a match by
    /// its code, gateways send it no new matches, its matches leave the
    /// listings and play on until their players have left or
    /// [`ServerConfig::shutdown_timeout`](crate::server::ServerConfig::shutdown_timeout)
    /// has passed; then it stops as above. Called again meanwhile, it stops at
    /// once.
    pub fn shutdown(&self) {
        let matchmaker = self.process.get().and_then(Weak::upgrade);
        if matchmaker.is_some_and(|matchmaker| matchmaker.drain()) {
            return;
        }
        self.shutdown.send_replace(true);
    }
}
