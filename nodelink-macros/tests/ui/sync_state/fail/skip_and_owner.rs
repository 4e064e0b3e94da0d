#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Seat {
    x: f32,
    #[sync(skip, owner)]
    hand: Vec<u8>,
}

fn main() {}
