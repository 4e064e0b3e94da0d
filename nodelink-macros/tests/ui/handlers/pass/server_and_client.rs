use nodelink::client::Client;
use nodelink::server::{EventCtx, Server, ServerConfig};
use nodelink::{HandlerResult, PlayerId, SyncState};

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

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
struct Game;

#[derive(Clone)]
struct Rules;

impl ToServerHandler<Server<Game>> for Rules {
    fn on_move(&mut self, ctx: &mut EventCtx<'_, Game>, event: ToServerMove) -> HandlerResult {
        ctx.player().state_mut().set_x(event.x).set_y(event.y);
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
    server.on_move(|ctx, ToServerMove { x, y }| -> Result<(), std::io::Error> {
        ctx.player().state_mut().set_x(x + y);
        Ok(())
    });
    // The fields by name, without destructuring; middleware gets them by `&mut`.
    server.on_move(|ctx, event| {
        ctx.player().state_mut().set_x(event.x).set_y(event.y);
    });
    server.before_move(|_, event| {
        *event.x = event.x.clamp(0.0, 100.0);
    });
    server.before_ready(|_| false);
    // Each variant's struct converts into the enum.
    let _: ToServer = ToServerMove { x: 1.0, y: 2.0 }.into();
    let _: ToServer = ToServerReady.into();

    let mut client = Client::<Game>::new("localhost", 5000);
    client.on_joined(|ctx, ToClientJoined(id)| {
        let _ = ctx.world().get(id);
    });
}
