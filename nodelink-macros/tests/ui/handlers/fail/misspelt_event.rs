use nodelink::server::{Server, ServerConfig};
use nodelink::SyncState;

#[derive(SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
}

#[nodelink::events]
enum ToServer {
    Move { x: f32, y: f32 },
}

#[nodelink::events]
enum ToClient {
    Moved,
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
struct Game;

fn main() {
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.on_mvoe(|ctx, event| {
        ctx.player().state_mut().set_x(event.x);
    });
}
