// A client starts each player's copy from `Default`.
#[derive(nodelink::SyncState, Clone, PartialEq)]
struct Hero {
    x: f32,
}

fn main() {}
