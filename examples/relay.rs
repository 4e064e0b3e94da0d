//! Hosting without a public port: a relay hands the game a code, the server
//! connects out to it instead of listening, and players join with the code.
//!
//! Run with `cargo run --example relay`. It starts a `nodelink-relay` in the same
//! process (on a free port; deployed, it is `cargo run --release -p nodelink-relay
//! -- --port 9000` on a machine players can reach), hosts the game through it, and
//! has two players join by code. Ends by itself after about two seconds.

use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientEvent};
use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{Game, OnToServer, ToClient, ToServer, ToServerChat, ToServerMove};
use nodelink_relay::{Relay, RelayConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The relay: reachable by everyone, knows nothing of the game.
    let relay = Relay::new(RelayConfig::default().host("127.0.0.1").port(0))
        .bind()
        .await?;
    let relay_url = format!("ws://{}", relay.local_addr());
    let relay_handle = relay.handle();
    let relay_task = tokio::spawn(relay.run());
    println!("relay on {relay_url}");

    // The host: a server with no listening port, registered on the relay.
    let mut server = Server::<Game>::new(ServerConfig::default());
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    let hosted = server.relay(&relay_url).await?;
    let code = hosted.code().to_owned();
    println!(
        "host: game code {code} (players join at {})",
        hosted.join_url()
    );
    let handle = hosted.handle();
    let host_task = tokio::spawn(hosted.run());

    // Players need only the relay's address and the code, typed in any case.
    let mut ann = Client::<Game>::from_code(&relay_url, &code.to_lowercase()).spawn()?;
    let mut bob = Client::<Game>::from_code(&relay_url, &code).spawn()?;
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    while start.elapsed() < Duration::from_secs(2) {
        ticker.tick().await;
        let t = start.elapsed().as_secs_f32();
        bob.send(ToServer::Move { x: t, y: 1.0 })?;
        for event in ann.poll() {
            match event {
                ClientEvent::Connected { id } => println!("ann: joined by code as {id}"),
                ClientEvent::Event(ToClient::Chat { from, msg }) => {
                    println!("ann: chat {msg:?} from {from}");
                }
                _ => {}
            }
        }
        for event in bob.poll() {
            match event {
                ClientEvent::Connected { id } => {
                    println!("bob: joined by code as {id}");
                    bob.send(ToServer::Chat {
                        msg: "hi, it's bob".into(),
                    })?;
                }
                ClientEvent::Event(ToClient::Chat { from, msg }) => {
                    println!("bob: chat {msg:?} from {from}");
                }
                _ => {}
            }
        }
    }
    let bob_x = bob
        .id()
        .and_then(|id| ann.world().get(id))
        .map_or(0.0, |avatar| avatar.x);
    println!("ann sees bob at x = {bob_x:.1}, synced through the relay");

    let games = relay_handle.games();
    println!(
        "relay: {} game(s), {} player(s) in {code}",
        games.len(),
        games.iter().map(|g| g.players).sum::<usize>()
    );
    handle.shutdown();
    host_task.await?;
    relay_handle.shutdown();
    relay_task.await?;
    Ok(())
}
