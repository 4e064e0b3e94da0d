// A map's keys go on the wire whole: a nested state cannot be one.
#[derive(nodelink::SyncState, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Cell {
    x: i32,
    y: i32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Board {
    pieces: nodelink::sync::SyncMap<Cell, u8>,
}

fn main() {}
