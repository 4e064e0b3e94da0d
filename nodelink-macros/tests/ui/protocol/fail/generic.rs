use nodelink::SyncState;

#[derive(SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
}

#[nodelink::events]
enum Events {
    Ping,
}

#[nodelink::protocol(state = Avatar, to_server = Events, to_client = Events)]
struct Game<T>(T);

fn main() {}
