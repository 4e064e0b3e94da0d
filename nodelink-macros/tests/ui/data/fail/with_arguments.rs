#[nodelink::data(rename_all = "camelCase")]
struct Vec2 {
    x: f32,
    y: f32,
}

fn main() {}
