#[derive(nodelink::SyncState, Default, PartialEq)]
struct Hero {
    x: f32,
}

fn main() {}
