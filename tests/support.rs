//! Helpers shared by the end-to-end tests.

use std::collections::HashMap;

use nodelink::wire::{NetId, SyncFrame};
use nodelink::{PlayerId, SyncState};

/// A client's view of the world, rebuilt from sync frames exactly as PROTOCOL.md
/// says: departures, then arrivals, then changes; a snapshot replaces everything.
#[derive(Debug)]
pub struct Mirror<S: SyncState> {
    ids: HashMap<NetId, PlayerId>,
    /// Every known player's whole state.
    pub players: HashMap<PlayerId, S>,
}

impl<S: SyncState> Default for Mirror<S> {
    fn default() -> Self {
        Self {
            ids: HashMap::new(),
            players: HashMap::new(),
        }
    }
}

impl<S: SyncState> Mirror<S> {
    /// Applies one sync frame.
    ///
    /// # Panics
    /// When the frame names a net id that was never announced: a server bug.
    pub fn apply(&mut self, frame: &SyncFrame<S>) {
        if frame.header.full {
            self.ids.clear();
            self.players.clear();
        }
        for net_id in &frame.left {
            if let Some(id) = self.ids.remove(net_id) {
                self.players.remove(&id);
            }
        }
        for (net_id, id) in &frame.joined {
            self.ids.insert(*net_id, *id);
            self.players.insert(*id, S::default());
        }
        for (net_id, delta) in &frame.players {
            let id = self.ids[net_id];
            self.players.entry(id).or_default().apply(delta);
        }
    }
}
