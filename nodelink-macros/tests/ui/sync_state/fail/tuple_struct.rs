#[derive(nodelink::SyncState, Clone, Default)]
struct Position(f32, f32);

fn main() {}
