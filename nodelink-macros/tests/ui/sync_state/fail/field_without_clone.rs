#[nodelink::data]
#[derive(PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(nodelink::SyncState, Default)]
struct Ship {
    position: Option<Vec2>,
}

impl Clone for Ship {
    fn clone(&self) -> Self {
        Ship { position: None }
    }
}

fn main() {}
