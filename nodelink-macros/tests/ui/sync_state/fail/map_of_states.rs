// A map is sent whole; a map of states is a `SyncMap`.
use std::collections::{BTreeMap, HashMap};

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Stats {
    hp: u32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Guild {
    by_name: HashMap<String, Stats>,
    by_rank: BTreeMap<u8, Stats>,
}

fn main() {}
