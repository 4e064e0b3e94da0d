#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Slot<T> {
    value: T,
}

fn main() {}
