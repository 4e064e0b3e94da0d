#[derive(serde::Serialize, serde::Deserialize, Clone, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[nodelink::data]
enum Shape {
    Dot(Vec2),
    Line { from: Vec2, to: Vec2 },
}

fn main() {}
