#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Avatar {
    #[sync(hidden)]
    x: f32,
}

fn main() {}
