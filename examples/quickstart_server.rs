//! The quickstart server, as on Python nodelink's page, typed.
//!
//! Run with `cargo run --example quickstart_server`, then start clients with
//! `cargo run --example quickstart_client`. Stop it with Ctrl-C.

use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{Game, OnToServer, ToClient, ToServerChat, ToServerMove};

fn main() -> Result<(), nodelink::server::RunError> {
    let mut server = Server::<Game>::new(ServerConfig::default().port(5000));

    server.on_connect(|ctx| {
        let id = ctx.id();
        ctx.broadcast(ToClient::Joined { id });
    });

    server.on_move(|ctx, ToServerMove { x, y }| {
        // Only changed fields are synced, to every client, at 20 ticks per second.
        ctx.player().state_mut().set_x(x).set_y(y);
    });

    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });

    server.on_disconnect(|ctx| {
        let id = ctx.id();
        ctx.broadcast(ToClient::Left { id });
    });

    server.on_error(|error, player| match player {
        Some(player) => eprintln!("error from {}: {error}", player.id()),
        None => eprintln!("error: {error}"),
    });

    println!("listening on port 5000");
    server.start()
}
