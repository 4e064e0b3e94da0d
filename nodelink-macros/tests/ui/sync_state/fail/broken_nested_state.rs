// A nested state that does not compile is reported where it is defined, once: the
// state that holds it adds nothing.
#[derive(nodelink::SyncState, Clone, PartialEq)]
struct Stats {
    hp: u32,
}

impl Default for Hero {
    fn default() -> Self {
        Hero { stats: Stats { hp: 10 } }
    }
}

#[derive(nodelink::SyncState, Clone, PartialEq)]
struct Hero {
    stats: Stats,
}

fn main() {}
