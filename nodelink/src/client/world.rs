//! The client's mirror of the server's world.

use std::collections::HashMap;

use crate::sync::Tick;
use crate::wire::{NetId, SyncFrame};
use crate::{PlayerId, SyncState};

/// Every player's whole state as the server last synced it.
///
/// Rebuilt from sync frames: a snapshot replaces everything, then each frame's
/// departures, arrivals and changes are applied in that order. Players who leave
/// are removed.
#[derive(Debug, Clone)]
pub struct World<S: SyncState> {
    ids: HashMap<NetId, PlayerId>,
    players: HashMap<PlayerId, S>,
    online: u32,
    tick: Tick,
}

impl<S: SyncState> Default for World<S> {
    fn default() -> Self {
        Self {
            ids: HashMap::new(),
            players: HashMap::new(),
            online: 0,
            tick: Tick::default(),
        }
    }
}

/// One sync frame as handlers see it: player ids resolved, deltas typed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StateSync<S: SyncState> {
    /// The server tick the frame belongs to.
    pub tick: Tick,
    /// Players online on the server (Python nodelink's `count`).
    pub online: u32,
    /// Whether the frame was a full snapshot that replaced the whole mirror.
    pub full: bool,
    /// Players who arrived.
    pub joined: Vec<PlayerId>,
    /// Players who left.
    pub left: Vec<PlayerId>,
    /// Each changed player's changed fields (every field, in a snapshot).
    pub changes: Vec<(PlayerId, S::Delta)>,
}

impl<S: SyncState> World<S> {
    /// A player's state.
    #[must_use]
    pub fn get(&self, id: PlayerId) -> Option<&S> {
        self.players.get(&id)
    }

    /// Every player and its state.
    pub fn players(&self) -> impl Iterator<Item = (PlayerId, &S)> {
        self.players.iter().map(|(id, state)| (*id, state))
    }

    /// The players as a map.
    #[must_use]
    pub fn as_map(&self) -> &HashMap<PlayerId, S> {
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

    /// Forgets everything, as on a disconnect.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Applies one frame and returns it with player ids resolved. Changes for a
    /// net id that was never announced are skipped (they cannot be attributed).
    pub fn apply(&mut self, frame: SyncFrame<S>) -> StateSync<S> {
        let header = frame.header;
        if header.full {
            self.ids.clear();
            self.players.clear();
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
                self.players.insert(*id, S::default());
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
        self.online = header.online;
        self.tick = header.tick;
        StateSync {
            tick: header.tick,
            online: header.online,
            full: header.full,
            joined,
            left,
            changes,
        }
    }
}
