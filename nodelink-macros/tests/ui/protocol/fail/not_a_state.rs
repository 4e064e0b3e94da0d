use nodelink::SyncState;

#[derive(SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
}

#[nodelink::events]
enum Events {
    Ping,
}

// The parts are checked where they are named: `Events` is not a state.
#[nodelink::protocol(state = Events, to_server = Events, to_client = Events)]
struct Game;

fn main() {}
