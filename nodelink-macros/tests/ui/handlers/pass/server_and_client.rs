use nodelink::client::Client;
use nodelink::server::{EventCtx, Server, ServerConfig};
use nodelink::{HandlerResult, PlayerId, Protocol, SyncState};

#[derive(SyncState, Clone, Default, PartialEq)]
struct Avatar {
    x: f32,
    y: f32,
}

#[nodelink::events]
enum ToServer {
    Move { x: f32, y: f32 },
    Ready,
}

#[nodelink::events]
enum ToClient {
    Joined(PlayerId),
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

impl ToServerHandler<Server<Game>> for Rules {
    fn on_move(&mut self, ctx: &mut EventCtx<'_, Game>, x: f32, y: f32) -> HandlerResult {
        ctx.player().state_mut().set_x(x).set_y(y);
        Ok(())
    }

    fn on_ready(&mut self, _: &mut EventCtx<'_, Game>) -> HandlerResult {
        Err("not yet".into())
    }
}

fn main() {
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.handle_all(Rules);
    // Closures may return `()` or a `Result`; parameter types are inferred.
    server.on_ready(|ctx| ctx.kick(ctx.id()));
    server.on_move(|ctx, x, y| -> Result<(), std::io::Error> {
        ctx.player().state_mut().set_x(x + y);
        Ok(())
    });

    let mut client = Client::<Game>::new("localhost", 5000);
    client.on_joined(|ctx, id| {
        let _ = ctx.world().get(id);
    });
}
