#[nodelink::events]
struct Move {
    x: f32,
    y: f32,
}

fn main() {}
