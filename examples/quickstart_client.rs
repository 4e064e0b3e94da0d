//! The quickstart client, as on Python nodelink's page, typed.
//!
//! Run `cargo run --example quickstart_server` first, then
//! `cargo run --example quickstart_client`.

use nodelink::client::Client;
use nodelink_examples::{Game, OnToClient, ToClientJoined, ToServer};

fn main() -> Result<(), nodelink::client::ClientError> {
    let mut client = Client::<Game>::new("localhost", 5000);

    client.on_connect(|ctx| {
        ctx.send(ToServer::Move { x: 10.0, y: 20.0 })?;
        Ok::<_, nodelink::client::ClientError>(())
    });

    client.on_joined(|_, ToClientJoined { id }| println!("player {id} joined!"));

    client.on_state_sync(|ctx, sync| {
        println!("tick {}: {} online", sync.tick.0, sync.online);
        for (id, state) in ctx.world().players() {
            println!("  {id}: {state:?}");
        }
    });

    client.on_disconnect(|reason| println!("disconnected: {reason}"));
    client.on_error(|error| eprintln!("error: {error}"));

    // Works even before connect(): queued, and flushed first on connect.
    client.send(ToServer::Chat {
        msg: "hello!".into(),
    })?;
    client.connect()
}
