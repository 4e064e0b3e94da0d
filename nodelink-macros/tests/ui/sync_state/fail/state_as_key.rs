// Keys and set items are sent whole: a state cannot be one.
use std::collections::BTreeSet;

#[derive(nodelink::SyncState, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Cell {
    x: i32,
    y: i32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Board {
    visited: BTreeSet<Cell>,
}

fn main() {}
