// A receiver makes the items it has not seen yet from `Default`.
#[nodelink::data]
#[derive(Clone, PartialEq)]
struct Card {
    rank: u8,
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Hand {
    cards: nodelink::sync::SyncVec<Card>,
}

fn main() {}
