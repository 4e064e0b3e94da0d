#[nodelink::data]
#[derive(Clone, PartialEq)]
struct Seat {
    row: u8,
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Theatre {
    tickets: nodelink::sync::SyncMap<Seat, u32>,
}

fn main() {}
