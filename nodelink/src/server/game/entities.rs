//! The world's entities: server-owned values of the protocol's `Entity` state,
//! tracked like players' states and synced to the clients that may see them.

use std::collections::{BTreeMap, BTreeSet};

use crate::sync::{ChangeSet, Tracked};
use crate::{EntityId, SyncState};

/// One live entity: its tracked state and the room whose members see it (everyone,
/// when none or when sync is not room-scoped).
#[derive(Debug)]
pub(crate) struct Entity<E: SyncState> {
    pub(crate) state: Tracked<E>,
    pub(crate) room: Option<String>,
}

/// Every live entity, and what happened to them since the last tick's frames.
#[derive(Debug)]
pub(crate) struct Entities<E: SyncState> {
    pub(crate) live: BTreeMap<EntityId, Entity<E>>,
    next: u32,
    /// Spawned since the last tick: sent whole.
    spawned: BTreeSet<EntityId>,
    /// Despawned since the last tick, with the room each was seen in.
    despawned: Vec<(EntityId, Option<String>)>,
}

impl<E: SyncState> Default for Entities<E> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            next: 0,
            spawned: BTreeSet::new(),
            despawned: Vec::new(),
        }
    }
}

/// What one tick sends about entities: the despawned (with their rooms), and each
/// live entity that changed or was spawned (`None`: send it whole).
pub(crate) struct EntityTick<C> {
    pub(crate) despawned: Vec<(EntityId, Option<String>)>,
    pub(crate) changed: Vec<(EntityId, Option<C>)>,
}

impl<E: SyncState> Entities<E> {
    /// Adds an entity with a fresh id; it goes out whole at the next tick.
    pub(crate) fn spawn(&mut self, state: E, room: Option<String>) -> EntityId {
        // Ids count up and skip any still in use once the counter wraps.
        let id = loop {
            let id = EntityId::from_raw(self.next);
            self.next = self.next.wrapping_add(1);
            if !self.live.contains_key(&id) {
                break id;
            }
        };
        self.live.insert(
            id,
            Entity {
                state: Tracked::new(state),
                room,
            },
        );
        self.spawned.insert(id);
        id
    }

    /// Counts what was spawned and despawned since the last tick: it changes
    /// whenever the set of live entities does.
    pub(crate) fn changes_this_tick(&self) -> (usize, usize) {
        (self.spawned.len(), self.despawned.len())
    }

    /// Removes an entity; clients that saw it forget it at the next tick.
    pub(crate) fn despawn(&mut self, id: EntityId) -> Option<E> {
        let entity = self.live.remove(&id)?;
        // Even one spawned this tick may have been shown already (to a player who
        // joined its room): its despawn goes out, and clients that never saw it
        // ignore it.
        self.spawned.remove(&id);
        self.despawned.push((id, entity.room));
        Some(entity.state.into_inner())
    }

    /// The live entities whose members-only room is `room`, or that everyone sees.
    pub(crate) fn seen_in<'a>(
        &'a self,
        rooms: &'a [String],
    ) -> impl Iterator<Item = EntityId> + 'a {
        self.live
            .iter()
            .filter(|(_, entity)| {
                entity
                    .room
                    .as_ref()
                    .is_none_or(|room| rooms.iter().any(|r| r == room))
            })
            .map(|(id, _)| *id)
    }

    /// The entities of `room` despawned since the last tick: a player leaving the
    /// room now will not be in the room when that tick tells its members.
    pub(crate) fn despawned_in<'a>(&'a self, room: &'a str) -> impl Iterator<Item = EntityId> + 'a {
        self.despawned
            .iter()
            .filter(move |(_, r)| r.as_deref() == Some(room))
            .map(|(id, _)| *id)
    }

    /// Takes this tick's entity changes; `whole`: every live entity, whole.
    pub(crate) fn take_tick(&mut self, whole: bool) -> EntityTick<E::Changes> {
        let spawned = std::mem::take(&mut self.spawned);
        let despawned = std::mem::take(&mut self.despawned);
        let mut changed = Vec::new();
        for (id, entity) in &mut self.live {
            let changes = entity.state.take_changes();
            if whole || spawned.contains(id) {
                changed.push((*id, None));
            } else if !changes.is_empty() {
                changed.push((*id, Some(changes)));
            }
        }
        EntityTick { despawned, changed }
    }
}
