// A collection's items must be synced values too.
#[derive(Clone, Default, PartialEq)]
struct Item {
    name: String,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Hero {
    bag: nodelink::sync::SyncMap<String, Item>,
    list: nodelink::sync::SyncVec<Item>,
}

fn main() {}
