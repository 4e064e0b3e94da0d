//! Rooms: named groups of players for targeted broadcasts and, with
//! [`SyncScope::Rooms`](super::SyncScope::Rooms), for scoping state sync.

use std::collections::{BTreeSet, HashMap};

use crate::server::config::SyncScope;
use crate::server::game::MatchState;
use crate::{PlayerId, Protocol};

/// Every room, by name.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    by_name: HashMap<String, BTreeSet<PlayerId>>,
}

impl Rooms {
    pub(crate) fn create(&mut self, name: &str) {
        if !self.by_name.contains_key(name) {
            self.by_name.insert(name.to_owned(), BTreeSet::new());
        }
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<Room<'_>> {
        self.by_name
            .get_key_value(name)
            .map(|(name, members)| Room { name, members })
    }

    pub(crate) fn members(&self, name: &str) -> Option<Vec<PlayerId>> {
        self.by_name
            .get(name)
            .map(|members| members.iter().copied().collect())
    }

    /// The members of the room `name`, if it exists.
    pub(crate) fn members_of(&self, name: &str) -> Option<&BTreeSet<PlayerId>> {
        self.by_name.get(name)
    }

    pub(crate) fn remove_member(&mut self, name: &str, id: PlayerId) {
        if let Some(members) = self.by_name.get_mut(name) {
            members.remove(&id);
        }
    }

    pub(crate) fn remove(&mut self, name: &str) {
        self.by_name.remove(name);
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &BTreeSet<PlayerId>)> {
        self.by_name
            .iter()
            .map(|(name, members)| (name.as_str(), members))
    }
}

/// A room, to read: its name and members.
#[derive(Debug, Clone, Copy)]
pub struct Room<'r> {
    name: &'r str,
    members: &'r BTreeSet<PlayerId>,
}

impl<'r> Room<'r> {
    /// The room's name.
    #[must_use]
    pub fn name(&self) -> &'r str {
        self.name
    }

    /// Whether the player is in the room.
    #[must_use]
    pub fn has(&self, id: PlayerId) -> bool {
        self.members.contains(&id)
    }

    /// The members, in id order, paused players included.
    pub fn members(&self) -> impl Iterator<Item = PlayerId> + 'r {
        self.members.iter().copied()
    }

    /// How many players are in the room.
    #[must_use]
    pub fn count(&self) -> usize {
        self.members.len()
    }
}

/// A room, to change its members and broadcast to them; from
/// [`ServerCtx::room_mut`](super::ServerCtx::room_mut) or
/// [`create_room`](super::ServerCtx::create_room).
///
/// Players leave every room automatically when they disconnect.
pub struct RoomMut<'r, P: Protocol, G> {
    shared: &'r mut MatchState<P, G>,
    name: String,
}

impl<P: Protocol, G> std::fmt::Debug for RoomMut<'_, P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomMut")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'r, P: Protocol, G> RoomMut<'r, P, G> {
    pub(crate) fn new(shared: &'r mut MatchState<P, G>, name: &str) -> Self {
        Self {
            shared,
            name: name.to_owned(),
        }
    }

    fn view(&self) -> Option<Room<'_>> {
        self.shared.rooms.get(&self.name)
    }

    /// The room's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a player (a paused one too); returns `false` if it was already in the
    /// room or there is no such player. With room-scoped sync, the player and the
    /// members start mirroring each other at once.
    pub fn add(&mut self, id: PlayerId) -> bool {
        self.shared.join_room(&self.name, id)
    }

    /// Removes a player; returns `false` if it was not in the room. With
    /// room-scoped sync, players who no longer share any room stop mirroring each
    /// other.
    pub fn remove(&mut self, id: PlayerId) -> bool {
        self.shared.leave_room(&self.name, id)
    }

    /// Whether the player is in the room.
    #[must_use]
    pub fn has(&self, id: PlayerId) -> bool {
        self.view().is_some_and(|room| room.has(id))
    }

    /// The members, in id order, paused players included.
    #[must_use]
    pub fn members(&self) -> Vec<PlayerId> {
        self.view()
            .map(|room| room.members().collect())
            .unwrap_or_default()
    }

    /// How many players are in the room.
    #[must_use]
    pub fn count(&self) -> usize {
        self.view().map_or(0, |room| room.count())
    }

    /// Sends an event to every member. Encoded once. Paused members get it when
    /// they resume.
    pub fn broadcast(&mut self, event: P::ToClient) {
        let members = self.members();
        self.shared.send_event(&event, &members);
    }

    /// Sends an event to every member but one (usually the sender).
    pub fn broadcast_except(&mut self, event: P::ToClient, except: PlayerId) {
        let members: Vec<PlayerId> = self
            .members()
            .into_iter()
            .filter(|id| *id != except)
            .collect();
        self.shared.send_event(&event, &members);
    }
}

impl<P: Protocol, G> MatchState<P, G> {
    /// Adds `id` to the room `name` (which must exist) and, with room-scoped sync,
    /// reveals the newly co-located players to each other.
    pub(crate) fn join_room(&mut self, name: &str, id: PlayerId) -> bool {
        if !self.players.contains_key(&id) {
            return false;
        }
        let Some(members) = self.rooms.by_name.get_mut(name) else {
            return false;
        };
        if !members.insert(id) {
            return false;
        }
        let others: Vec<PlayerId> = members.iter().copied().filter(|m| *m != id).collect();
        if let Some(player) = self.players.get_mut(&id) {
            player.rooms.push(name.to_owned());
        }
        // With a player visibility rule, the next tick's views show the room.
        if self.config.sync_scope == SyncScope::Rooms && !self.tracks_player_views() {
            let gained: Vec<PlayerId> = match self.players.get(&id) {
                Some(player) => others
                    .into_iter()
                    .filter(|m| !player.visible.contains(m))
                    .collect(),
                None => Vec::new(),
            };
            self.reveal(id, &gained);
        }
        if self.config.sync_scope == SyncScope::Rooms {
            self.show_room_entities(id, name);
        }
        true
    }

    /// Removes `id` from the room `name` and, with room-scoped sync, hides the
    /// players who no longer share any room from each other.
    pub(crate) fn leave_room(&mut self, name: &str, id: PlayerId) -> bool {
        let Some(members) = self.rooms.by_name.get_mut(name) else {
            return false;
        };
        if !members.remove(&id) {
            return false;
        }
        let former: Vec<PlayerId> = members.iter().copied().collect();
        if let Some(player) = self.players.get_mut(&id) {
            player.rooms.retain(|room| room != name);
        }
        if self.config.sync_scope == SyncScope::Rooms && !self.tracks_player_views() {
            let lost: Vec<PlayerId> = former
                .into_iter()
                .filter(|other| !self.share_a_room(id, *other))
                .collect();
            self.conceal(id, &lost);
        }
        if self.config.sync_scope == SyncScope::Rooms {
            self.hide_room_entities(id, name);
        }
        true
    }

    fn share_a_room(&self, a: PlayerId, b: PlayerId) -> bool {
        let Some(player) = self.players.get(&a) else {
            return false;
        };
        player.rooms.iter().any(|room| {
            self.rooms
                .by_name
                .get(room)
                .is_some_and(|members| members.contains(&b))
        })
    }
}
