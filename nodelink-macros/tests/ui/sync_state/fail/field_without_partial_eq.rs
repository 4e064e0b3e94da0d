#[nodelink::data]
#[derive(Clone)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Ship {
    position: Option<Vec2>,
}

fn main() {}
