// A `Box` is sent whole, so a state cannot be inside one.
#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Pet {
    hp: u32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Hero {
    pet: Box<Pet>,
}

fn main() {}
