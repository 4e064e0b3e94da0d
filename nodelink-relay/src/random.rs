//! Unpredictable numbers without a random-number crate, as nodelink gets them:
//! each `RandomState` is keyed from the OS's randomness (128 bits drawn once per
//! thread, then varied per instance), so hashing with a fresh one yields a value
//! that cannot be predicted without that key, however many values were seen.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A fresh unpredictable `u64`.
pub(crate) fn random_u64() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// A number drawn uniformly from `0..bound` (`bound > 0`): draws past the largest
/// multiple of `bound` are redrawn, so no value is likelier than another.
pub(crate) fn random_below(bound: u64) -> u64 {
    let bound = bound.max(1);
    let zone = u64::MAX - u64::MAX % bound;
    loop {
        let draw = random_u64();
        if draw < zone {
            return draw % bound;
        }
    }
}

/// 128 unpredictable bits as 32 lowercase hex digits: a secret that proves who
/// holds it.
pub(crate) fn random_token() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_below_the_bound_and_reach_every_value() {
        let mut seen = [false; 30];
        for _ in 0..10_000 {
            let draw = random_below(30);
            seen[usize::try_from(draw).unwrap()] = true;
        }
        assert!(seen.iter().all(|&s| s), "every value drawn: {seen:?}");
    }

    #[test]
    fn tokens_are_long_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
