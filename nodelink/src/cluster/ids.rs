//! Player ids unique across a service's processes and still unguessable: each
//! process takes blocks of a counter kept in Redis, and every count is scrambled
//! by a keyed permutation of 32-bit numbers (a Feistel network under the service's
//! secret), so distinct counts give distinct ids that reveal nothing of the next.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::PlayerId;

/// Counts drawn at once: a process asks Redis for more once per this many joins.
pub(crate) const BLOCK: u64 = 1 << 16;

const ROUNDS: u32 = 4;

/// The service's permutation of player ids.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scrambler {
    key: u64,
}

impl Scrambler {
    pub(crate) fn new(key: u64) -> Self {
        Self { key }
    }

    /// The id of the `count`-th player of the service (counts wrap at 2^32).
    pub(crate) fn id(&self, count: u64) -> PlayerId {
        let mut left = (count >> 16) as u16;
        let mut right = count as u16;
        for round in 0..ROUNDS {
            let mixed = left ^ self.round(round, right);
            left = right;
            right = mixed;
        }
        PlayerId::from_raw((u32::from(left) << 16) | u32::from(right))
    }

    fn round(&self, round: u32, half: u16) -> u16 {
        // `DefaultHasher::new()` is SipHash with fixed keys: the secret is hashed
        // in first, so the round function is keyed.
        let mut hasher = DefaultHasher::new();
        (self.key, round, half).hash(&mut hasher);
        hasher.finish() as u16
    }
}

/// The counts a process may still hand out: `next..end` of its current block.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    next: u64,
    end: u64,
    /// The next block, fetched before this one runs out.
    spare: Option<u64>,
}

impl Counts {
    /// Takes the block that ends at `end` (what `INCRBY` returned): as the
    /// current one if it is used up, else as the spare.
    pub(crate) fn add_block(&mut self, end: u64) {
        if self.next >= self.end {
            self.next = end - BLOCK;
            self.end = end;
        } else {
            self.spare = Some(end);
        }
    }

    /// The next count, if any is at hand.
    pub(crate) fn take(&mut self) -> Option<u64> {
        if self.next >= self.end {
            let end = self.spare.take()?;
            self.next = end - BLOCK;
            self.end = end;
        }
        let count = self.next;
        self.next += 1;
        Some(count)
    }

    /// Whether a block should be fetched: no spare, and under a quarter left.
    pub(crate) fn wants_block(&self) -> bool {
        self.spare.is_none() && self.end.saturating_sub(self.next) < BLOCK / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn distinct_counts_give_distinct_ids_in_no_visible_order() {
        let scrambler = Scrambler::new(0x1234_5678_9abc_def0);
        let ids: Vec<PlayerId> = (0..50_000).map(|count| scrambler.id(count)).collect();
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        // Consecutive counts are far apart.
        let close = ids
            .windows(2)
            .filter(|pair| pair[0].raw().abs_diff(pair[1].raw()) < 1 << 16)
            .count();
        assert!(close < 50, "{close} consecutive ids close together");
        // Another service's secret gives other ids.
        let other = Scrambler::new(1);
        assert_ne!(other.id(0), scrambler.id(0));
    }

    #[test]
    fn blocks_are_used_in_turn_and_asked_for_ahead() {
        let mut counts = Counts::default();
        assert_eq!(counts.take(), None);
        assert!(counts.wants_block());
        counts.add_block(BLOCK * 3);
        assert_eq!(counts.take(), Some(BLOCK * 2));
        assert!(!counts.wants_block());
        for _ in 1..(BLOCK - BLOCK / 4 + 1) {
            counts.take();
        }
        assert!(counts.wants_block());
        counts.add_block(BLOCK * 7);
        assert!(!counts.wants_block());
        while counts.next < counts.end {
            counts.take();
        }
        assert_eq!(counts.take(), Some(BLOCK * 6));
    }
}
