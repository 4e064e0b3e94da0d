use std::cell::Cell;

use nodelink::fingerprint::FingerprintHasher;

#[derive(serde::Serialize, serde::Deserialize, Clone, Default, PartialEq)]
struct Counter(Cell<u32>);

impl nodelink::Fingerprint for Counter {
    const FINGERPRINT: u64 = FingerprintHasher::new().str("counter v1").finish();
}

impl nodelink::sync::Whole for Counter {}

#[derive(nodelink::SyncState, Default)]
struct Ship {
    hits: Counter,
}

impl Clone for Ship {
    fn clone(&self) -> Self {
        Ship::default()
    }
}

fn main() {}
