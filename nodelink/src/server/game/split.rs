//! A match's players and entities borrowed apart, so that a handler reads one
//! while it changes the other, without collecting ids first.

use std::collections::BTreeMap;

use crate::id_map::IdMap;
use crate::server::game::entities::Entity;
use crate::server::game::player::Player;
use crate::{EntityId, PlayerId, Protocol, SyncState};

/// The players of a match, from [`ServerCtx::split_mut`](super::ServerCtx::split_mut):
/// readable and changeable while the entities are borrowed too.
pub struct PlayersMut<'a, P: Protocol> {
    pub(crate) players: &'a mut IdMap<Player<P>>,
}

impl<P: Protocol> std::fmt::Debug for PlayersMut<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayersMut")
            .field("players", &self.players.len())
            .finish()
    }
}

impl<'a, P: Protocol> PlayersMut<'a, P> {
    /// Every player, paused ones included.
    pub fn iter(&self) -> impl Iterator<Item = &Player<P>> {
        self.players.values()
    }

    /// Every player, paused ones included, to change their states.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Player<P>> {
        self.players.values_mut()
    }

    /// A player by id.
    #[must_use]
    pub fn get(&self, id: PlayerId) -> Option<&Player<P>> {
        self.players.get(&id)
    }

    /// A player by id, to change its state.
    pub fn get_mut(&mut self, id: PlayerId) -> Option<&mut Player<P>> {
        self.players.get_mut(&id)
    }

    /// How many players there are, paused ones included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.players.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.players.is_empty()
    }
}

/// The live entities of a match, from
/// [`ServerCtx::split_mut`](super::ServerCtx::split_mut): readable and changeable
/// (through their typed setters, whose changes are synced) while the players are
/// borrowed too. Spawning and despawning stay on the context.
pub struct EntitiesMut<'a, P: Protocol> {
    pub(crate) live: &'a mut BTreeMap<EntityId, Entity<P::Entity>>,
}

impl<P: Protocol> std::fmt::Debug for EntitiesMut<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntitiesMut")
            .field("entities", &self.live.len())
            .finish()
    }
}

impl<'a, P: Protocol> EntitiesMut<'a, P> {
    /// Every live entity, by id.
    pub fn iter(&self) -> impl Iterator<Item = (EntityId, &P::Entity)> {
        self.live.iter().map(|(id, e)| (*id, e.state.get()))
    }

    /// Every live entity's typed setters, by id; each also reads as the entity.
    pub fn iter_mut(
        &mut self,
    ) -> impl Iterator<Item = (EntityId, <P::Entity as SyncState>::Mut<'_>)> {
        self.live
            .iter_mut()
            .map(|(id, e)| (*id, e.state.state_mut()))
    }

    /// An entity's state.
    #[must_use]
    pub fn get(&self, id: EntityId) -> Option<&P::Entity> {
        self.live.get(&id).map(|e| e.state.get())
    }

    /// An entity's typed setters.
    pub fn get_mut(&mut self, id: EntityId) -> Option<<P::Entity as SyncState>::Mut<'_>> {
        self.live.get_mut(&id).map(|e| e.state.state_mut())
    }

    /// How many entities live.
    #[must_use]
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether none does.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}
