//! The bench game on nodelink: each move sets the player's position; every change
//! goes to everyone at 20 ticks per second, and chat lines are broadcast. With
//! `--room-size N`, sync is scoped to rooms: players fill rooms of N in join order
//! and each receives only its room's changes. With `--match-size N`, the server
//! also hosts matches of the kind `match` (`nodelink_bench::MATCH_KIND`) with the
//! same rules and at most N players each, which clients create, find and join;
//! a player's `ready` ends its match. With `--tls CERT KEY`, it serves `wss://`
//! with that certificate chain and key (PEM files). With `--relay URL`, it hosts
//! through that relay instead of listening. Prints `listening on ADDR` (or
//! `joining at URL`, through a relay) first.
//!
//! Run by `loadgen --target nodelink`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-nodelink -- [PORT] [--room-size N] [--match-size N] [--tls
//! CERT KEY] [--resume-grace SECONDS] [--ping-interval SECONDS]`.

use nodelink::server::{MatchKind, RateLimit, Server, ServerConfig, SyncScope};
use nodelink::tls::TlsConfig;
use nodelink::PlayerId;
use nodelink_bench::{ServerArgs, MATCH_KIND};
use nodelink_examples::{Game, OnToServer, ToClient, ToServerChat, ToServerMove};

/// The bench game's rules, the same for the server's default match and for every
/// match of the `match` kind.
fn bench_rules(kind: &mut MatchKind<Game>) {
    // Ids count from 1, as the limit server's do, so both send the same bytes.
    // Each match counts its own (the handlers are cloned for each).
    let mut next_id = 0;
    kind.id_generator(move || {
        next_id += 1;
        PlayerId::from_raw(next_id)
    });
    kind.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    kind.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
}

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
    if let Some(every) = args.ping_interval {
        config = config.ping_interval(std::time::Duration::from_secs_f64(every));
    }
    let mut server = Server::<Game>::new(config);
    bench_rules(&mut server);
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
    if let Some(match_size) = args.match_size {
        let mut matches = MatchKind::<Game>::new();
        matches
            .name(MATCH_KIND)
            .max_players(match_size)
            // Every match syncs to all its players, whatever the server's scope.
            .sync_scope(SyncScope::Everyone);
        bench_rules(&mut matches);
        // The bench game ignores `ready` elsewhere; here it is how a client ends
        // its match (the load generator's `lifecycle` scenario), as a game ends a
        // match when a round is over.
        matches.on_ready(|ctx| ctx.end_match());
        server.kind(matches);
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
