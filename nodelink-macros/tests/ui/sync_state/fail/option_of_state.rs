// A state is synced field by field and always there: an `Option` of one is not.
#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Pet {
    hp: u32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Hero {
    pet: Option<Pet>,
}

fn main() {}
