use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Default, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Ship {
    position: Vec2,
}

fn main() {}
