#[derive(nodelink::Fingerprint, Clone, Default, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Ship {
    position: Vec2,
}

fn main() {}
