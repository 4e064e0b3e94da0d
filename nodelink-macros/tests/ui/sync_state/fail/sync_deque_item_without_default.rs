// A receiver makes each entry appended to a log from `Default`.
#[nodelink::data]
#[derive(Clone, PartialEq)]
struct Line {
    text: String,
}

#[derive(nodelink::SyncState, Clone, Default)]
struct Room {
    chat: nodelink::sync::SyncDeque<Line>,
}

fn main() {}
