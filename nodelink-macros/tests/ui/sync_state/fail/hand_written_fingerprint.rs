// A hand-written `Fingerprint` must say that the type is synced whole.
use nodelink::fingerprint::FingerprintHasher;

#[derive(serde::Serialize, serde::Deserialize, Clone, Default, PartialEq)]
struct Color(u32);

impl nodelink::Fingerprint for Color {
    const FINGERPRINT: u64 = FingerprintHasher::new().str("color v1").finish();
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Ship {
    paint: Color,
}

fn main() {}
