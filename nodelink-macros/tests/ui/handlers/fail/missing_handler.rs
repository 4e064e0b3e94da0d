use nodelink::server::{EventCtx, Server, ServerConfig};
use nodelink::{HandlerResult, SyncState};

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

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
struct Game;

#[derive(Clone)]
struct Rules;

// `Chat` is forgotten: the exhaustive trait makes that a compile error.
impl ToServerHandler<Server<Game>> for Rules {
    fn on_move(&mut self, ctx: &mut EventCtx<'_, Game>, event: ToServerMove) -> HandlerResult {
        ctx.player().state_mut().set_x(event.x);
        Ok(())
    }
}

fn main() {
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.handle_all(Rules);
}
