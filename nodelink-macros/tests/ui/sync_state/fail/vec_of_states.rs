// A `Vec` is sent whole; a state is synced field by field: a list of states is a
// `SyncVec`. Using the struct as a protocol's state then reports only that it does
// not compile, not the field's error a second time.
#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Stats {
    hp: u32,
}

#[derive(nodelink::SyncState, Clone, Default, PartialEq)]
struct Hero {
    party: Vec<Stats>,
}

#[nodelink::events]
enum ToServer {
    Ready,
}

#[nodelink::events]
enum ToClient {
    Ready,
}

#[nodelink::protocol(state = Hero, to_server = ToServer, to_client = ToClient)]
struct Game;

fn main() {}
