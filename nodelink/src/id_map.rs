//! Maps keyed by the ids a server hands out: player ids, net ids, entity ids.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::PlayerId;

/// Hashes ids for maps looked up several times per player per tick, on the server
/// and in a client's mirror: a multiply by a 64-bit odd constant (Fibonacci
/// hashing), several times cheaper than the default SipHash. Flooding a map with
/// colliding keys is not a concern: the server hands ids out (or the user's
/// generator does), and a client mirrors the server it chose to trust.
///
/// ```
/// use std::hash::BuildHasher;
/// use nodelink::{BuildIdHasher, PlayerId};
///
/// let hasher = BuildIdHasher::default();
/// assert_ne!(hasher.hash_one(PlayerId::from_raw(1)), hasher.hash_one(PlayerId::from_raw(2)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(value.into());
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`IdHasher`]s.
pub type BuildIdHasher = BuildHasherDefault<IdHasher>;

/// A map keyed by player id, hashed with [`IdHasher`]: what
/// [`World::as_map`](crate::client::World::as_map) returns.
///
/// ```
/// use nodelink::{IdMap, PlayerId};
///
/// let mut scores: IdMap<u32> = IdMap::default();
/// scores.insert(PlayerId::from_raw(7), 3);
/// assert_eq!(scores[&PlayerId::from_raw(7)], 3);
/// ```
pub type IdMap<V> = HashMap<PlayerId, V, BuildIdHasher>;

/// A set of player ids.
pub(crate) type IdSet = HashSet<PlayerId, BuildIdHasher>;
