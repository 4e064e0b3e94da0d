//! Unpredictable numbers without a random-number crate: each `RandomState` is
//! keyed from the OS's randomness (then varied per instance), so hashing with a
//! fresh one yields an unguessable value: SipHash under a secret key, from which
//! its outputs reveal nothing of the next ones. Enough for ids, jitter and resume
//! tokens (128 bits, two such draws); not for long-lived keys.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A fresh unpredictable `u64`.
pub(crate) fn random_u64() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// A fresh unpredictable `u128`: two independent draws.
pub(crate) fn random_u128() -> u128 {
    (u128::from(random_u64()) << 64) | u128::from(random_u64())
}

/// A number uniformly drawn from `0.0..1.0`.
pub(crate) fn random_unit() -> f64 {
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}
