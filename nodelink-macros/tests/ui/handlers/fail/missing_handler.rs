use nodelink::server::{EventCtx, Server, ServerConfig};
use nodelink::{HandlerResult, Protocol, SyncState};

#[derive(SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
}

#[nodelink::events]
enum ToServer {
    Move { x: f32, y: f32 },
    Chat { msg: String },
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

struct Rules;

// `Chat` is forgotten: the exhaustive trait makes that a compile error.
impl ToServerHandler<Server<Game>> for Rules {
    fn on_move(&mut self, ctx: &mut EventCtx<'_, Game>, x: f32, _y: f32) -> HandlerResult {
        ctx.player().state_mut().set_x(x);
        Ok(())
    }
}

fn main() {
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.handle_all(Rules);
}
