// A field of a type that is not plain data is reported once, at that field; the
// event and the state that use the outer type add one error at most, pointing
// back at it.
#[derive(Clone, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[nodelink::data]
#[derive(Clone, PartialEq)]
struct Path {
    points: Vec<Vec2>,
    name: String,
}

#[nodelink::events]
enum ToServer {
    Go { path: Path },
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Walker {
    path: Option<Path>,
}

fn main() {}
