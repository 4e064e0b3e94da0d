// The attribute derives serde's traits and `Fingerprint` itself.
#[nodelink::data]
#[derive(Clone, serde::Serialize, PartialEq, nodelink::Fingerprint)]
struct Vec2 {
    x: f32,
    y: f32,
}

fn main() {}
