//! The bench game on nodelink: each move sets the player's position; every change
//! goes to everyone at 20 ticks per second, and chat lines are broadcast. With
//! `--room-size N`, sync is scoped to rooms: players fill rooms of N in join order
//! and each receives only its room's changes. With `--match-size N`, the server
//! also hosts matches of the kind `match` (`nodelink_bench::MATCH_KIND`) with the
//! same rules and at most N players each, which clients create, find and join;
//! a player's `ready` ends its match. With `--tls CERT KEY`, it serves `wss://`
//! with that certificate chain and key (PEM files). With `--relay URL`, it hosts
//! through that relay instead of listening. With `--redis URL [--service NAME]`,
//! it is a process of that service (`nodelink::cluster`), which gateways reach at
//! its listener's URL; a chat line beginning with `!service ` then has it
//! broadcast the rest to every match of the service, and one beginning with
//! `!process ` to every match of this process (see
//! `nodelink_bench::SERVICE_BROADCAST`). With `--scrape-metrics SECONDS`, it
//! renders its Prometheus metrics that often, as a scrape would. With
//! `--tick-work MICROS`, each match of the `match` kind spends that much CPU in
//! every tick, and the server prints how many such ticks ran in each 5 seconds.
//! Prints `listening on ADDR` (or `joining at URL`, through a relay) first.
//!
//! Run by `loadgen --target nodelink`; alone: `cargo run -p nodelink-bench --release
//! --bin bench-server-nodelink -- [PORT] [--room-size N] [--match-size N] [--tls
//! CERT KEY] [--resume-grace SECONDS] [--ping-interval SECONDS] [--max-players N]
//! [--redis URL [--service NAME]] [--scrape-metrics SECONDS] [--tick-work MICROS]`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nodelink::cluster::{Cluster, ClusterConfig, ClusterHandle};
use nodelink::server::{MatchKind, RateLimit, Server, ServerConfig, ServerHandle, SyncScope};
use nodelink::tls::TlsConfig;
use nodelink::PlayerId;
use nodelink_bench::{
    ServerArgs, DEFAULT_SERVICE, MATCH_KIND, PROCESS_BROADCAST, SERVICE_BROADCAST,
};
use nodelink_examples::{Game, OnToServer, ToClient, ToServerChat, ToServerMove};

/// The live matches of the `match` kind in this process, by code: where a
/// `!process ` broadcast goes. A match is added when its first player connects
/// and removed once its handle says it has ended.
type LocalMatches = Arc<Mutex<HashMap<String, ServerHandle<Game>>>>;

/// The bench game's rules, the same for the server's default match and for every
/// match of the `match` kind. `numbered`: ids count from 1 in each match, as the
/// limit server's do, so both send the same bytes (not in a service, whose ids
/// must be unique across its processes).
fn bench_rules(kind: &mut MatchKind<Game>, numbered: bool) {
    if numbered {
        // Each match counts its own (the handlers are cloned for each).
        let mut next_id = 0;
        kind.id_generator(move || {
            next_id += 1;
            PlayerId::from_raw(next_id)
        });
    }
    kind.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    kind.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
}

/// The chat rule of the `match` kind: a line with a broadcast prefix goes to
/// every match of the service or of this process (the load generator's
/// `fanout` scenario), any other to the sender's match.
fn fanout_rules(kind: &mut MatchKind<Game>, service: Option<ClusterHandle>, local: LocalMatches) {
    let known = local.clone();
    kind.on_connect(move |ctx| {
        let mut matches = known.lock().unwrap_or_else(|e| e.into_inner());
        if !matches.contains_key(ctx.match_code()) {
            matches.insert(ctx.match_code().to_owned(), ctx.handle());
        }
    });
    kind.on_chat(move |ctx, ToServerChat { msg }| {
        let from = ctx.id();
        if let Some(line) = msg.strip_prefix(SERVICE_BROADCAST) {
            let Some(service) = service.clone() else {
                eprintln!("bench-server-nodelink: {SERVICE_BROADCAST:?} needs --redis");
                return;
            };
            let event = ToClient::Chat {
                from,
                msg: line.to_owned(),
            };
            // A handler cannot wait for Redis: the call goes on beside the match.
            tokio::spawn(async move {
                if let Err(error) = service.broadcast::<Game>(&event).await {
                    eprintln!("bench-server-nodelink: a service broadcast failed: {error}");
                }
            });
        } else if let Some(line) = msg.strip_prefix(PROCESS_BROADCAST) {
            let event = ToClient::Chat {
                from,
                msg: line.to_owned(),
            };
            let mut matches = local.lock().unwrap_or_else(|e| e.into_inner());
            matches.retain(|_, handle| handle.broadcast(event.clone()).is_ok());
        } else {
            ctx.broadcast(ToClient::Chat { from, msg });
        }
    });
}

/// A fixed computation of about `micros` microseconds of CPU, `rounds_per_us`
/// rounds of it a microsecond: the same work whatever else the core does.
fn simulate(micros: u64, rounds_per_us: u64) -> u64 {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..micros * rounds_per_us {
        seed = std::hint::black_box(seed.wrapping_mul(6_364_136_223_846_793_005) ^ round);
    }
    seed
}

/// Rounds of [`simulate`] a microsecond on this machine, timed over 50 ms.
fn rounds_per_us() -> u64 {
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < Duration::from_millis(50) {
        std::hint::black_box(simulate(100, 1));
        rounds += 100;
    }
    (rounds / started.elapsed().as_micros().max(1) as u64).max(1)
}

/// Has every match of `kind` spend `micros` of CPU a tick (as rounds of
/// [`simulate`], their number printed on standard error once), counting the
/// ticks and printing on standard error how many ran a second, every 5 seconds.
fn tick_work(kind: &mut MatchKind<Game>, micros: u64) {
    let rounds = rounds_per_us();
    // The work a tick does is this many rounds, timed on this run's machine:
    // what the cores carry is ticks times rounds, whatever the timing found.
    eprintln!("tick work: {} rounds", micros * rounds);
    let ticks = Arc::new(AtomicU64::new(0));
    let counted = ticks.clone();
    kind.on_tick(move |_, _| {
        std::hint::black_box(simulate(micros, rounds));
        counted.fetch_add(1, Ordering::Relaxed);
    });
    tokio::spawn(async move {
        let every = Duration::from_secs(5);
        let mut reports = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            reports.tick().await;
            let ran = ticks.swap(0, Ordering::Relaxed);
            eprintln!(
                "match ticks a second: {:.1}",
                ran as f64 / every.as_secs_f64()
            );
        }
    });
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = ServerArgs::parse(std::env::args().skip(1))?;
    if args.redis.is_some() && args.tls.is_some() {
        return Err("--redis with --tls: the bench's gateway reaches processes over ws://".into());
    }
    // A process of a service listens before it joins: the service is told its URL.
    let listener = match &args.redis {
        Some(_) => Some(nodelink::server::listen(&format!("127.0.0.1:{}", args.port)).await?),
        None => None,
    };
    let cluster = match (&args.redis, &listener) {
        (Some(redis), Some(listener)) => {
            let url = format!("ws://{}/", listener.local_addr()?);
            let service = args.service.as_deref().unwrap_or(DEFAULT_SERVICE);
            Some(Cluster::connect(ClusterConfig::new(redis, url).service(service)).await?)
        }
        _ => None,
    };
    let mut config = ServerConfig::default()
        .host("127.0.0.1")
        .port(args.port)
        .tick_rate(20)
        // The load generator is trusted: every bot comes from one address and
        // sends at a fixed rate.
        .rate_limit(RateLimit::unlimited())
        .max_connections_per_ip(usize::MAX)
        .max_players(args.max_players.unwrap_or(100_000));
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
    let numbered = cluster.is_none();
    bench_rules(&mut server, numbered);
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
        bench_rules(&mut matches, numbered);
        fanout_rules(
            &mut matches,
            cluster.as_ref().map(Cluster::handle),
            Arc::default(),
        );
        // The bench game ignores `ready` elsewhere; here it is how a client ends
        // its match (the load generator's `lifecycle` scenario), as a game ends a
        // match when a round is over.
        matches.on_ready(|ctx| ctx.end_match());
        if let Some(micros) = args.tick_work {
            tick_work(&mut matches, micros);
        }
        server.kind(matches);
    }
    if let Some(every) = args.scrape_metrics {
        // As Prometheus would: the whole text rendered, then dropped.
        let handle = server.handle();
        tokio::spawn(async move {
            let mut scrapes = tokio::time::interval(std::time::Duration::from_secs_f64(every));
            loop {
                scrapes.tick().await;
                std::hint::black_box(handle.metrics_text());
            }
        });
    }
    if let (Some(cluster), Some(listener)) = (cluster, listener) {
        println!("listening on {}", listener.local_addr()?);
        server.serve(listener).and(cluster).await?;
        return Ok(());
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
