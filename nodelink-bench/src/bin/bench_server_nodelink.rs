//! The bench game on nodelink: each move sets the player's position; every change
//! goes to everyone at 20 ticks per second, and chat lines are broadcast. With
//! `--room-size N`, sync is scoped to rooms: players fill rooms of N in join order
//! and each receives only its room's changes. With `--tls CERT KEY`, it serves
//! `wss://` with that certificate chain and key (PEM files). With `--relay URL`, it
//! hosts through that relay instead of listening. Prints `listening on ADDR` (or
//! `joining at URL`, through a relay) first.
//!
//! Run by `loadgen --target nodelink`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-nodelink -- [PORT] [--room-size N] [--tls CERT KEY]
//! [--resume-grace SECONDS]`.

use nodelink::server::{RateLimit, Server, ServerConfig, SyncScope};
use nodelink::tls::TlsConfig;
use nodelink::PlayerId;
use nodelink_bench::ServerArgs;
use nodelink_examples::{Game, OnToServer, ToClient, ToServerChat, ToServerMove};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    let mut config = ServerConfig::default()
        .host("127.0.0.1")
        .port(args.port)
        .tick_rate(20)
        // The load generator is trusted: every bot comes from one address and
        // sends at a fixed rate.
        .rate_limit(RateLimit::unlimited())
        .max_connections_per_ip(usize::MAX)
        .max_players(100_000);
    if args.room_size.is_some() {
        config = config.sync_scope(SyncScope::Rooms);
    }
    if let Some((cert, key)) = &args.tls {
        config = config.tls(TlsConfig::from_pem_files(cert, key)?);
    }
    if let Some(grace) = args.resume_grace {
        config = config.resume_grace(std::time::Duration::from_secs_f64(grace));
    }
    let mut server = Server::<Game>::new(config);
    // Ids count from 1, as the limit server's do, so both send the same bytes.
    let mut next_id = 0;
    server.id_generator(move || {
        next_id += 1;
        PlayerId::from_raw(next_id)
    });
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    if let Some(room_size) = args.room_size {
        // The server counts joins rather than letting each bot name its room, as
        // the limit server does: the same placement, nothing extra on the wire.
        let mut joins = 0usize;
        server.on_connect(move |ctx| {
            let room = format!("room {}", joins / room_size);
            joins += 1;
            let id = ctx.id();
            ctx.create_room(&room).add(id);
        });
    }
    if let Some(relay) = &args.relay {
        let hosted = server.relay(relay).await?;
        println!("joining at {}", hosted.join_url());
        hosted.run().await;
        return Ok(());
    }
    let bound = server.bind().await?;
    println!("listening on {}", bound.local_addr());
    bound.run().await;
    Ok(())
}
