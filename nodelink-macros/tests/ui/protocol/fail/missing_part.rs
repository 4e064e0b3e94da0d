use nodelink::SyncState;

#[derive(SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
}

#[nodelink::events]
enum Events {
    Ping,
}

#[nodelink::protocol(state = Avatar, to_server = Events)]
struct Game;

fn main() {}
