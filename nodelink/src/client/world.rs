//! The client's mirror of the server's world.

use std::collections::{BTreeMap, HashMap};

use crate::sync::Tick;
use crate::wire::{NetId, SyncFrame};
use crate::{BuildIdHasher, EntityId, IdMap, PlayerId, Protocol, SyncState};

/// Every mirrored player's whole state, and the shared server state, as the server
/// last synced them.
///
/// Rebuilt from sync frames: a snapshot replaces everything, then each frame's
/// departures, arrivals and changes are applied in that order. Players who leave
/// are removed. After a reconnect, the first frame is a snapshot, so no stale player
/// survives.
pub struct World<P: Protocol> {
    ids: HashMap<NetId, PlayerId, BuildIdHasher>,
    players: IdMap<P::State>,
    entities: BTreeMap<EntityId, P::Entity>,
    server: P::ServerState,
    online: u32,
    tick: Tick,
    complete: bool,
    in_snapshot: bool,
}

impl<P: Protocol> Default for World<P> {
    fn default() -> Self {
        Self {
            ids: HashMap::default(),
            players: IdMap::default(),
            entities: BTreeMap::new(),
            server: P::ServerState::default(),
            online: 0,
            tick: Tick::default(),
            complete: false,
            in_snapshot: false,
        }
    }
}

impl<P: Protocol> std::fmt::Debug for World<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("players", &self.players.len())
            .field("entities", &self.entities.len())
            .field("online", &self.online)
            .field("tick", &self.tick)
            .field("complete", &self.complete)
            .finish_non_exhaustive()
    }
}

/// One sync frame as handlers see it: player ids resolved, deltas typed.
#[non_exhaustive]
pub struct StateSync<P: Protocol> {
    /// The server tick the frame belongs to.
    pub tick: Tick,
    /// Players online on the server (Python nodelink's `count`).
    pub online: u32,
    /// Whether the frame began a snapshot that replaced the whole mirror. A
    /// newcomer's snapshot of a large world comes as one full frame followed by
    /// frames that add the remaining players (not full).
    pub full: bool,
    /// Whether the snapshot this frame belongs to continues in the next frame: the
    /// mirror is not complete yet ([`World::is_complete`]).
    pub more: bool,
    /// Players who arrived (or came into view, with room-scoped sync).
    pub joined: Vec<PlayerId>,
    /// Players who left (or went out of view).
    pub left: Vec<PlayerId>,
    /// Each changed player's changed fields (every field, in a snapshot).
    pub changes: Vec<(PlayerId, <P::State as SyncState>::Delta)>,
    /// The shared server state's changed fields, when any changed.
    pub server: Option<<P::ServerState as SyncState>::Delta>,
    /// Entities new in the mirror: spawned, or come into view.
    pub spawned: Vec<EntityId>,
    /// Entities gone from the mirror: despawned, or out of view.
    pub despawned: Vec<EntityId>,
    /// Each listed entity's changed fields (every field, for a new one).
    pub entities: Vec<(EntityId, <P::Entity as SyncState>::Delta)>,
}

impl<P: Protocol> std::fmt::Debug for StateSync<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSync")
            .field("tick", &self.tick)
            .field("online", &self.online)
            .field("full", &self.full)
            .field("more", &self.more)
            .field("joined", &self.joined)
            .field("left", &self.left)
            .field("changes", &self.changes)
            .field("server", &self.server)
            .field("spawned", &self.spawned)
            .field("despawned", &self.despawned)
            .field("entities", &self.entities)
            .finish()
    }
}

impl<P: Protocol> Clone for StateSync<P> {
    fn clone(&self) -> Self {
        Self {
            tick: self.tick,
            online: self.online,
            full: self.full,
            more: self.more,
            joined: self.joined.clone(),
            left: self.left.clone(),
            changes: self.changes.clone(),
            server: self.server.clone(),
            spawned: self.spawned.clone(),
            despawned: self.despawned.clone(),
            entities: self.entities.clone(),
        }
    }
}

impl<P: Protocol> World<P> {
    /// A player's state.
    #[must_use]
    pub fn get(&self, id: PlayerId) -> Option<&P::State> {
        self.players.get(&id)
    }

    /// Every mirrored player and its state.
    pub fn players(&self) -> impl Iterator<Item = (PlayerId, &P::State)> {
        self.players.iter().map(|(id, state)| (*id, state))
    }

    /// The players as a map.
    #[must_use]
    pub fn as_map(&self) -> &IdMap<P::State> {
        &self.players
    }

    /// How many players the mirror holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.players.len()
    }

    /// Whether the mirror holds no player.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.players.is_empty()
    }

    /// The shared server state.
    #[must_use]
    pub fn server_state(&self) -> &P::ServerState {
        &self.server
    }

    /// Players online on the server, from the last frame.
    #[must_use]
    pub fn online(&self) -> u32 {
        self.online
    }

    /// The tick of the last frame applied.
    #[must_use]
    pub fn tick(&self) -> Tick {
        self.tick
    }

    /// An entity's state.
    #[must_use]
    pub fn entity(&self, id: EntityId) -> Option<&P::Entity> {
        self.entities.get(&id)
    }

    /// Every mirrored entity, by id.
    pub fn entities(&self) -> impl Iterator<Item = (EntityId, &P::Entity)> {
        self.entities.iter().map(|(id, entity)| (*id, entity))
    }

    /// How many entities the mirror holds.
    #[must_use]
    pub fn entity_count(&self) -> usize {
        self.entities.len()
    }

    /// Whether the mirror holds the whole world the server shows this client: a
    /// snapshot has arrived and its last frame has been applied. `false` before
    /// the first snapshot and between the frames of a multi-frame one.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Forgets everything, as on a disconnect.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Applies one frame and returns it with player ids resolved. Changes for a
    /// net id that was never announced are skipped (they cannot be attributed).
    pub fn apply(&mut self, frame: SyncFrame<P>) -> StateSync<P> {
        let header = frame.header;
        if header.full {
            self.ids.clear();
            self.players.clear();
            self.entities.clear();
            self.server = P::ServerState::default();
        }
        let left = frame
            .left
            .iter()
            .filter_map(|net_id| self.ids.remove(net_id))
            .inspect(|id| {
                self.players.remove(id);
            })
            .collect();
        let joined = frame
            .joined
            .iter()
            .map(|(net_id, id)| {
                self.ids.insert(*net_id, *id);
                self.players.insert(*id, P::State::default());
                *id
            })
            .collect();
        let changes = frame
            .players
            .into_iter()
            .filter_map(|(net_id, delta)| {
                let id = *self.ids.get(&net_id)?;
                self.players.entry(id).or_default().apply(&delta);
                Some((id, delta))
            })
            .collect();
        if let Some(delta) = &frame.server {
            self.server.apply(delta);
        }
        let despawned = frame
            .despawned
            .iter()
            .filter(|id| self.entities.remove(id).is_some())
            .copied()
            .collect();
        let mut spawned = Vec::new();
        for (id, delta) in &frame.entities {
            let entity = self.entities.entry(*id).or_insert_with(|| {
                spawned.push(*id);
                P::Entity::default()
            });
            entity.apply(delta);
        }
        self.online = header.online;
        self.tick = header.tick;
        // A snapshot runs from a `full` frame to the first frame without `more`.
        self.in_snapshot |= header.full;
        if self.in_snapshot {
            self.complete = !header.more;
            self.in_snapshot = header.more;
        }
        StateSync {
            tick: header.tick,
            online: header.online,
            full: header.full,
            more: header.more,
            joined,
            left,
            changes,
            server: frame.server,
            spawned,
            despawned,
            entities: frame.entities,
        }
    }
}
