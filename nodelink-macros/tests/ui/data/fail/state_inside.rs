// A state is synced field by field; plain data goes on the wire whole.
#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Hero {
    hp: u32,
}

#[nodelink::data]
#[derive(Clone, PartialEq)]
struct Save {
    slot: u8,
    hero: Hero,
}

fn main() {}
