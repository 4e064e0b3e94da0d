//! The `sync` game on nodelink: each move sets the player's position; every change
//! goes to everyone at 20 ticks per second. Prints `listening on ADDR` first.
//!
//! Run by `loadgen --target nodelink`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-nodelink -- [PORT]`.

use nodelink::server::{RateLimit, Server, ServerConfig};
use nodelink_examples::{Game, OnToServer, ToClient};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map_or(Ok(0), |p| p.parse())?;
    let config = ServerConfig::default()
        .host("127.0.0.1")
        .port(port)
        .tick_rate(20)
        // The load generator is trusted: every bot comes from one address and
        // sends at a fixed rate.
        .rate_limit(RateLimit::unlimited())
        .max_connections_per_ip(usize::MAX)
        .max_players(100_000);
    let mut server = Server::<Game>::new(config);
    server.on_move(|ctx, x, y| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, msg| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    let bound = server.bind().await?;
    println!("listening on {}", bound.local_addr());
    bound.run().await;
    Ok(())
}
