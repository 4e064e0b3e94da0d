#[nodelink::data]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(nodelink::SyncState, Default)]
struct Ship {
    path: Vec<Vec2>,
}

impl Clone for Ship {
    fn clone(&self) -> Self {
        Ship { path: Vec::new() }
    }
}

fn main() {}
