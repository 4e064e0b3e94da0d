//! Player ids (random, unguessable) and net ids (small, reused).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hasher};

use crate::wire::NetId;
use crate::PlayerId;

/// Draws player ids from a keyed hash (SipHash with a random per-process key) of a
/// counter: unpredictable without the key, with no random-number crate.
#[derive(Debug)]
pub(crate) struct PlayerIds {
    key: std::collections::hash_map::RandomState,
    counter: u64,
}

impl PlayerIds {
    pub(crate) fn new() -> Self {
        Self {
            key: std::collections::hash_map::RandomState::new(),
            counter: 0,
        }
    }

    /// The next id for which `taken` is false.
    pub(crate) fn next(&mut self, taken: impl Fn(PlayerId) -> bool) -> PlayerId {
        loop {
            self.counter += 1;
            let mut hasher = self.key.build_hasher();
            hasher.write_u64(self.counter);
            let id = PlayerId::from_raw(hasher.finish() as u32);
            if !taken(id) {
                return id;
            }
        }
    }
}

/// Hands out the smallest free net id, so ids stay small (one byte below 128
/// players) however many players have come and gone.
#[derive(Debug, Default)]
pub(crate) struct NetIds {
    next: u32,
    free: BinaryHeap<Reverse<u32>>,
}

impl NetIds {
    pub(crate) fn allocate(&mut self) -> NetId {
        if let Some(Reverse(id)) = self.free.pop() {
            return NetId(id);
        }
        self.next += 1;
        NetId(self.next - 1)
    }

    pub(crate) fn release(&mut self, id: NetId) {
        self.free.push(Reverse(id.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_ids_reuse_the_smallest_free() {
        let mut ids = NetIds::default();
        let [a, b, c] = [ids.allocate(), ids.allocate(), ids.allocate()];
        assert_eq!([a, b, c], [NetId(0), NetId(1), NetId(2)]);
        ids.release(c);
        ids.release(a);
        assert_eq!(ids.allocate(), NetId(0));
        assert_eq!(ids.allocate(), NetId(2));
        assert_eq!(ids.allocate(), NetId(3));
    }

    #[test]
    fn player_ids_skip_taken_ones() {
        let mut ids = PlayerIds::new();
        let first = ids.next(|_| false);
        let mut seen = vec![first];
        let second = ids.next(|id| seen.contains(&id));
        assert_ne!(first, second);
        seen.push(second);
    }
}
