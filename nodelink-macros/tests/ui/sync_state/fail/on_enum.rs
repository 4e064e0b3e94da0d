#[derive(nodelink::SyncState, Clone, Default)]
enum Phase {
    #[default]
    Lobby,
    Playing,
}

fn main() {}
