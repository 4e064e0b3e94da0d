use nodelink::server::{Server, ServerConfig};
use nodelink::{Protocol, SyncState};

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

struct Game;
impl Protocol for Game {
    type State = Avatar;
    type ToServer = ToServer;
    type ToClient = ToClient;
    type ServerState = ();
    type Entity = ();
}

fn main() {
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.on_mvoe(|ctx, x, _y| {
        ctx.player().state_mut().set_x(x);
    });
}
