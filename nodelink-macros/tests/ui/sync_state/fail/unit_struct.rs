#[derive(nodelink::SyncState, Clone, Default)]
struct Nothing;

fn main() {}
