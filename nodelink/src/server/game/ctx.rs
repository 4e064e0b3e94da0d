//! What server handlers can reach: the players, the game value, the shared server
//! state, rooms, and the server's actions.

use crate::server::error::SendError;
use crate::server::game::handle::ServerHandle;
use crate::server::game::player::Player;
use crate::server::game::room::{Room, RoomMut};
use crate::server::game::split::{EntitiesMut, PlayersMut};
use crate::server::game::state::{Deferred, MatchState};
use crate::sync::Tick;
use crate::{EntityId, PlayerId, Protocol, SyncState};

/// The context of a tick handler, and the world part of every handler's context:
/// players, the game value, the shared server state, rooms, and actions.
///
/// Handlers run one at a time on the world task, so they get `&mut` access and
/// need no locks. The world task runs inside the server's Tokio runtime (the one
/// `Server::run` is awaited in, or the one `Server::start` builds), so a handler
/// may `tokio::spawn` slow work and bring its result back through
/// [`handle`](Self::handle); it must not block, since every player waits for it.
///
/// Every player of the table is a player here, paused ones included: a player
/// whose connection was lost stays while its client may resume it
/// ([`Player::is_paused`](super::Player::is_paused)).
///
/// ```no_run
/// # use nodelink::{PlayerId, Protocol, SyncState};
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Avatar { pub x: f32 }
/// # #[nodelink::events] pub enum ToServer { Chat { msg: String } }
/// # #[nodelink::events] pub enum ToClient { Chat { from: PlayerId, msg: String } }
/// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// # pub struct Game;
/// use nodelink::server::{Server, ServerConfig};
///
/// let mut server = Server::<Game>::new(ServerConfig::default());
/// server.on_chat(|ctx, ToServerChat { msg }| {
///     let (from, handle) = (ctx.id(), ctx.handle());
///     tokio::spawn(async move {
///         let msg = msg.to_uppercase(); // slow work goes here, off the world task
///         let _ = handle.broadcast(ToClient::Chat { from, msg });
///     });
/// });
/// ```
pub struct ServerCtx<'a, P: Protocol, G = ()> {
    pub(crate) shared: &'a mut MatchState<P, G>,
}

impl<P: Protocol, G> std::fmt::Debug for ServerCtx<'_, P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCtx")
            .field("players", &self.shared.players.len())
            .field("tick", &self.shared.tick)
            .finish_non_exhaustive()
    }
}

/// The world's actions and queries, the same on every handler context.
macro_rules! world_methods {
    () => {
        /// This match's game value: the one given to [`Server::with_game`](crate::server::Server::with_game) for a server's default match, or made by its kind's factory ([`MatchKind::with_game`](crate::server::MatchKind::with_game)).
        pub fn game(&mut self) -> &mut G {
            &mut self.shared_mut().game
        }

        /// Sends an event to every player. Encoded once. Paused players get it when
        /// they resume.
        pub fn broadcast(&mut self, event: P::ToClient) {
            let everyone: Vec<PlayerId> = self.shared_mut().players.keys().copied().collect();
            self.shared_mut().send_event(&event, &everyone);
        }

        /// Sends an event to one player; a paused player gets it when it resumes.
        ///
        /// # Errors
        /// [`SendError::Disconnected`] when there is no such player (none
        /// connected, none paused), [`SendError::QueueFull`] when its queue is full.
        pub fn send_to(&mut self, id: PlayerId, event: P::ToClient) -> Result<(), SendError> {
            match self.shared_mut().players.get(&id) {
                Some(player) => player.send(event),
                None => Err(SendError::Disconnected),
            }
        }

        /// Every player, paused ones included (see
        /// [`Player::is_paused`](super::Player::is_paused)).
        pub fn players(&self) -> impl Iterator<Item = &Player<P>> {
            self.shared().players.values()
        }

        /// Every player, paused ones included, to change their states (in
        /// `on_tick`, say).
        pub fn players_mut(&mut self) -> impl Iterator<Item = &mut Player<P>> {
            self.shared_mut().players.values_mut()
        }

        /// A player by id, connected or paused.
        #[must_use]
        pub fn get_player(&self, id: PlayerId) -> Option<&Player<P>> {
            self.shared().players.get(&id)
        }

        /// A player by id, connected or paused, to change its state.
        pub fn get_player_mut(&mut self, id: PlayerId) -> Option<&mut Player<P>> {
            self.shared_mut().players.get_mut(&id)
        }

        /// How many players there are, paused ones included (the online count
        /// clients receive).
        #[must_use]
        pub fn player_count(&self) -> usize {
            self.shared().players.len()
        }

        /// The shared server state, as last set.
        #[must_use]
        pub fn server_state(&self) -> &P::ServerState {
            self.shared().server_state.get()
        }

        /// The shared server state's typed setters; changed fields go to every client
        /// in the next sync frame.
        pub fn server_state_mut(&mut self) -> <P::ServerState as SyncState>::Mut<'_> {
            self.shared_mut().server_state.state_mut()
        }

        /// Changes several fields of the shared server state in one closure.
        pub fn update_server_state(&mut self, change: impl FnOnce(&mut P::ServerState)) {
            self.shared_mut().server_state.update(change);
        }

        /// Disconnects a player with a close reason; its `on_disconnect` runs after
        /// this handler returns.
        pub fn kick(&mut self, id: PlayerId) {
            self.shared_mut().deferred.push(Deferred::Kick(id));
        }

        /// Sends the pending state changes now (`full`: whole states, as a snapshot)
        /// instead of at the next tick; runs after this handler returns.
        pub fn sync_state(&mut self, full: bool) {
            self.shared_mut().deferred.push(Deferred::Sync { full });
        }

        /// The current sync tick.
        #[must_use]
        pub fn tick(&self) -> Tick {
            self.shared().tick
        }

        /// A handle to the server, for work outside handlers (other tasks, threads).
        #[must_use]
        pub fn handle(&self) -> ServerHandle<P> {
            self.shared().handle.clone()
        }

        /// The room called `name`, created empty if there is none.
        pub fn create_room(&mut self, name: &str) -> RoomMut<'_, P, G> {
            self.shared_mut().rooms.create(name);
            RoomMut::new(self.shared_mut(), name)
        }

        /// The room called `name`, to read.
        #[must_use]
        pub fn room(&self, name: &str) -> Option<Room<'_>> {
            self.shared().rooms.get(name)
        }

        /// The room called `name`, to change its members or broadcast to them.
        pub fn room_mut(&mut self, name: &str) -> Option<RoomMut<'_, P, G>> {
            if self.shared().rooms.contains(name) {
                Some(RoomMut::new(self.shared_mut(), name))
            } else {
                None
            }
        }

        /// Deletes the room called `name`; its members leave it. Returns whether it
        /// existed.
        pub fn remove_room(&mut self, name: &str) -> bool {
            let Some(members) = self.shared_mut().rooms.members(name) else {
                return false;
            };
            for member in members {
                self.shared_mut().leave_room(name, member);
            }
            self.shared_mut().rooms.remove(name);
            true
        }

        /// The names of all rooms.
        pub fn rooms(&self) -> impl Iterator<Item = &str> {
            self.shared().rooms.names()
        }

        /// Spawns an entity of the protocol's `Entity` state; every client sees it
        /// (with every field) in the next sync frame. Returns its id. With an enum
        /// of kinds as the `Entity`, a kind's own state spawns an entity of that
        /// kind: `ctx.spawn(Monster { .. })`.
        pub fn spawn(&mut self, entity: impl Into<P::Entity>) -> EntityId {
            self.shared_mut().entities.spawn(entity.into(), None)
        }

        /// Spawns an entity that, with room-scoped sync, only the members of `room`
        /// see (the room need not exist yet); with sync to everyone, as
        /// [`spawn`](Self::spawn).
        pub fn spawn_in(&mut self, room: &str, entity: impl Into<P::Entity>) -> EntityId {
            self.shared_mut()
                .entities
                .spawn(entity.into(), Some(room.to_owned()))
        }

        /// Removes an entity; the clients that saw it forget it in the next sync
        /// frame. Returns its last state, or `None` if there is no such entity.
        pub fn despawn(&mut self, id: EntityId) -> Option<P::Entity> {
            self.shared_mut().entities.despawn(id)
        }

        /// An entity's state.
        #[must_use]
        pub fn entity(&self, id: EntityId) -> Option<&P::Entity> {
            self.shared().entities.live.get(&id).map(|e| e.state.get())
        }

        /// The room an entity was spawned in with [`spawn_in`](Self::spawn_in), or
        /// `None` for an entity everyone sees (or no such entity).
        #[must_use]
        pub fn entity_room(&self, id: EntityId) -> Option<&str> {
            self.shared()
                .entities
                .live
                .get(&id)
                .and_then(|e| e.room.as_deref())
        }

        /// An entity's typed setters; changed fields go to the clients that see it
        /// in the next sync frame.
        pub fn entity_mut(&mut self, id: EntityId) -> Option<<P::Entity as SyncState>::Mut<'_>> {
            self.shared_mut()
                .entities
                .live
                .get_mut(&id)
                .map(|e| e.state.state_mut())
        }

        /// Changes several fields of an entity in one closure; `false` if there is
        /// no such entity.
        pub fn update_entity(&mut self, id: EntityId, change: impl FnOnce(&mut P::Entity)) -> bool {
            match self.shared_mut().entities.live.get_mut(&id) {
                Some(entity) => {
                    entity.state.update(change);
                    true
                }
                None => false,
            }
        }

        /// Whether the player `player`'s client sees the entity `entity`: it is
        /// live, in one of the player's rooms or in none (with room-scoped sync),
        /// and the [entity visibility rule](crate::server::MatchKind::entity_visibility)
        /// shows it. The same answer the sync gives, so that a game rule (an
        /// attack on a monster out of sight) need not repeat the visibility rule.
        ///
        /// ```
        /// # use nodelink::{EntityId, SyncState};
        /// # use nodelink::server::{Server, ServerConfig};
        /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Hero { pub x: f32 }
        /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Monster { pub x: f32 }
        /// # #[nodelink::events] pub enum ToServer { Attack { target: EntityId } }
        /// # #[nodelink::events] pub enum ToClient { Missed }
        /// # #[nodelink::protocol(state = Hero, to_server = ToServer, to_client = ToClient, entity = Monster)]
        /// # pub struct Game;
        /// let mut server = Server::<Game>::new(ServerConfig::default());
        /// // Monsters more than 10 away are out of sight.
        /// server.entity_visibility(|player, _, monster| (monster.x - player.state().x).abs() <= 10.0);
        /// server.on_attack(|ctx, ToServerAttack { target }| {
        ///     let me = ctx.id();
        ///     if !ctx.sees_entity(me, target) {
        ///         let _ = ctx.send_to(me, ToClient::Missed);
        ///         return;
        ///     }
        ///     ctx.despawn(target);
        /// });
        /// ```
        #[must_use]
        pub fn sees_entity(&self, player: PlayerId, entity: EntityId) -> bool {
            self.shared().entity_seen_by(player, entity)
        }

        /// Whether the player `viewer` sees the player `other` now: both are in
        /// the match, they share a room (with room-scoped sync), and the
        /// [player visibility rule](crate::server::MatchKind::player_visibility)
        /// shows `other` to `viewer`. A player always sees itself. The answer the
        /// sync gives at the next tick, when the client's mirror follows, so that
        /// a game rule (no shooting at a player out of sight) need not repeat the
        /// visibility rule.
        ///
        /// ```
        /// # use nodelink::{PlayerId, SyncState};
        /// # use nodelink::server::{Server, ServerConfig};
        /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Soldier { pub x: f32, pub hp: u32 }
        /// # #[nodelink::events] pub enum ToServer { Shoot { at: PlayerId } }
        /// # #[nodelink::events] pub enum ToClient { Missed }
        /// # #[nodelink::protocol(state = Soldier, to_server = ToServer, to_client = ToClient)]
        /// # pub struct Game;
        /// let mut server = Server::<Game>::new(ServerConfig::default());
        /// server.player_visibility(|me, other| (me.state().x - other.state().x).abs() <= 30.0);
        /// server.on_shoot(|ctx, ToServerShoot { at }| {
        ///     let me = ctx.id();
        ///     if !ctx.sees_player(me, at) {
        ///         let _ = ctx.send_to(me, ToClient::Missed);
        ///         return;
        ///     }
        ///     if let Some(target) = ctx.get_player_mut(at) {
        ///         let hp = target.state().hp.saturating_sub(10);
        ///         target.state_mut().set_hp(hp);
        ///     }
        /// });
        /// ```
        #[must_use]
        pub fn sees_player(&self, viewer: PlayerId, other: PlayerId) -> bool {
            self.shared().player_seen_by(viewer, other)
        }

        /// Every live entity's typed setters, by id (each also reads as the
        /// entity): to change entities while going through them.
        pub fn entities_mut(
            &mut self,
        ) -> impl Iterator<Item = (EntityId, <P::Entity as SyncState>::Mut<'_>)> {
            self.shared_mut()
                .entities
                .live
                .iter_mut()
                .map(|(id, e)| (*id, e.state.state_mut()))
        }

        /// The players and the entities borrowed apart, to read one while
        /// changing the other without collecting ids first (monsters chasing the
        /// nearest player, players hurt by the monsters next to them). Spawning,
        /// despawning, rooms and sends stay on the context.
        ///
        /// ```
        /// # use nodelink::SyncState;
        /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Hero { pub x: f32, pub hp: u8 }
        /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)] pub struct Monster { pub x: f32 }
        /// # #[nodelink::events] pub enum Nothing {}
        /// # #[nodelink::protocol(state = Hero, to_server = Nothing, to_client = Nothing, entity = Monster)]
        /// # pub struct Dungeon;
        /// use nodelink::server::{Server, ServerConfig};
        ///
        /// let mut server = Server::<Dungeon>::new(ServerConfig::default());
        /// server.on_tick(|ctx, _dt| {
        ///     let (mut heroes, mut monsters) = ctx.split_mut();
        ///     // Each monster steps towards the nearest hero...
        ///     for (_, mut monster) in monsters.iter_mut() {
        ///         let nearest = heroes
        ///             .iter()
        ///             .map(|hero| hero.state().x)
        ///             .min_by(|a, b| (a - monster.x).abs().total_cmp(&(b - monster.x).abs()));
        ///         if let Some(x) = nearest {
        ///             let step = (x - monster.x).clamp(-1.0, 1.0);
        ///             let at = monster.x + step;
        ///             monster.set_x(at);
        ///         }
        ///     }
        ///     // ...and hurts every hero it reaches.
        ///     for hero in heroes.iter_mut() {
        ///         let x = hero.state().x;
        ///         let hits = monsters.iter().filter(|(_, m)| (m.x - x).abs() < 0.5).count();
        ///         let hp = hero.state().hp.saturating_sub(hits as u8);
        ///         hero.state_mut().set_hp(hp);
        ///     }
        /// });
        /// ```
        pub fn split_mut(&mut self) -> (PlayersMut<'_, P>, EntitiesMut<'_, P>) {
            let shared = self.shared_mut();
            (
                PlayersMut {
                    players: &mut shared.players,
                },
                EntitiesMut {
                    live: &mut shared.entities.live,
                },
            )
        }

        /// Every live entity, by id.
        pub fn entities(&self) -> impl Iterator<Item = (EntityId, &P::Entity)> {
            self.shared()
                .entities
                .live
                .iter()
                .map(|(id, e)| (*id, e.state.get()))
        }

        /// How many entities live.
        #[must_use]
        pub fn entity_count(&self) -> usize {
            self.shared().entities.live.len()
        }

        /// This match's code: what players join it by (`Client::join_code`), and
        /// what the server's listings show.
        #[must_use]
        pub fn match_code(&self) -> &str {
            &self.shared().record.code
        }

        /// The options this match was created with (the default options for a
        /// server's default match).
        #[must_use]
        pub fn match_options(&self) -> &P::MatchOptions {
            &self.shared().options
        }

        /// This match's metadata, as listed and as matchmaking filters on it.
        #[must_use]
        pub fn metadata(&self) -> P::MatchMetadata {
            self.shared().record.metadata()
        }

        /// Changes this match's metadata: listings and matchmaking see it from now
        /// on (a match that started, a map that changed).
        pub fn set_metadata(&mut self, metadata: P::MatchMetadata) {
            self.shared().record.set_metadata(metadata);
        }

        /// Takes no new players into this match (players already in it stay, and a
        /// paused one may still resume): joining it by code is refused with "match
        /// locked", and finding a match skips it. [`unlock_match`](Self::unlock_match)
        /// undoes it.
        pub fn lock_match(&mut self) {
            self.shared()
                .record
                .locked
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }

        /// Takes new players into this match again.
        pub fn unlock_match(&mut self) {
            self.shared()
                .record
                .locked
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }

        /// Whether this match takes no new players.
        #[must_use]
        pub fn is_locked(&self) -> bool {
            self.shared()
                .record
                .locked
                .load(std::sync::atomic::Ordering::Relaxed)
        }

        /// Ends this match once this handler returns: no one can join it any more,
        /// and every player leaves (`on_disconnect` runs for each) with the close
        /// reason "match ended" (4011), its client free to find or create another.
        /// A server's default match lasts as long as the server: ending it is
        /// refused, and reported to `on_error`.
        pub fn end_match(&mut self) {
            self.shared_mut().deferred.push(Deferred::EndMatch);
        }
    };
}

impl<P: Protocol, G> ServerCtx<'_, P, G> {
    fn shared(&self) -> &MatchState<P, G> {
        self.shared
    }

    fn shared_mut(&mut self) -> &mut MatchState<P, G> {
        self.shared
    }

    world_methods!();
}

/// The context of a handler for one player's event (and of `on_connect` and
/// `on_disconnect`): that player, plus everything [`ServerCtx`] offers.
///
/// Events from one player are handled in the order it sent them.
pub struct EventCtx<'a, P: Protocol, G = ()> {
    pub(crate) ctx: ServerCtx<'a, P, G>,
    pub(crate) current: PlayerId,
}

impl<P: Protocol, G> std::fmt::Debug for EventCtx<'_, P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventCtx")
            .field("player", &self.current)
            .field("world", &self.ctx)
            .finish()
    }
}

impl<P: Protocol, G> EventCtx<'_, P, G> {
    fn shared(&self) -> &MatchState<P, G> {
        self.ctx.shared
    }

    fn shared_mut(&mut self) -> &mut MatchState<P, G> {
        self.ctx.shared
    }

    world_methods!();

    /// The player this event came from.
    pub fn player(&mut self) -> &mut Player<P> {
        // The world runs a player's handlers only while the player is in the
        // table, and nothing a handler can call removes one (kicks are deferred).
        self.ctx
            .shared
            .players
            .get_mut(&self.current)
            .expect("a player stays in the table while its handlers run")
    }

    /// The id of the player this event came from.
    #[must_use]
    pub fn id(&self) -> PlayerId {
        self.current
    }
}
