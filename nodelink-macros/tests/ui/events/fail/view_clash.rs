#[nodelink::events]
enum ToServer {
    Move { x: f32 },
    MoveMut { y: f32 },
}

fn main() {}
