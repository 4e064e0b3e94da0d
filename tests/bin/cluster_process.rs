//! A game process of a service, for tests that kill it as a crash would
//! (SIGKILL): the example game on `127.0.0.1` at a free port, joined to the
//! service `SERVICE` whose directory is the Redis at `REDIS_URL`, with a lease of
//! `LEASE_MS`. It prints `listening on <ws url>` once it serves, logs to stderr,
//! begins its shutdown with a drain when it reads the line `drain`, and stops at
//! once when its stdin closes.
//!
//! Usage: `cluster_process REDIS_URL SERVICE LEASE_MS [--match-players=N]
//! [--max-players=N] [--per-ip=N]`: at most `N` players a match (default: the
//! kind's), in the process (default: the server's), and connections from one
//! player's address (default: the server's). It trusts
//! `127.0.0.1` as a proxy (the tests' gateways), so that per-IP limits count the
//! players' addresses. Tables are found by their title.

use std::time::Duration;

use nodelink::cluster::{Cluster, ClusterConfig};
use nodelink::server::{Server, ServerConfig};
use nodelink_examples::{Game, OnToServer, Table, ToClient, ToServerChat, ToServerMove};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let mut args = std::env::args().skip(1);
    let usage =
        "usage: cluster_process REDIS_URL SERVICE LEASE_MS [--match-players=N] [--max-players=N] [--per-ip=N]";
    let redis = args.next().ok_or(usage)?;
    let service = args.next().ok_or(usage)?;
    let lease: u64 = args.next().ok_or(usage)?.parse()?;
    let mut match_players = None;
    let mut config = ServerConfig::default().trusted_proxies(["127.0.0.1".parse()?]);
    for flag in args {
        if let Some(players) = flag.strip_prefix("--match-players=") {
            match_players = Some(players.parse::<usize>()?);
        } else if let Some(limit) = flag.strip_prefix("--max-players=") {
            config = config.max_players(limit.parse()?);
        } else if let Some(limit) = flag.strip_prefix("--per-ip=") {
            config = config.max_connections_per_ip(limit.parse()?);
        } else {
            return Err(format!("{usage}: unknown {flag}").into());
        }
    }

    let mut server = Server::<Game>::new(config);
    server
        .metadata(Table::clone)
        .filter(|wanted, listed| wanted.title == listed.title);
    if let Some(players) = match_players {
        server.max_players(players);
    }
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    server.on_chat(|ctx, ToServerChat { msg }| {
        let from = ctx.id();
        ctx.broadcast(ToClient::Chat { from, msg });
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/", listener.local_addr()?);
    let cluster = Cluster::connect(
        ClusterConfig::new(redis, url.clone())
            .service(service)
            .lease(Duration::from_millis(lease)),
    )
    .await?;
    println!("listening on {url}");
    // Stdin is read on a thread of its own: a runtime waits for its blocking
    // reads before it stops, and a drained process must exit with its stdin
    // still open.
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let handle = server.handle();
    let commands = async move {
        while let Some(line) = lines.recv().await {
            if line.trim() == "drain" {
                // A service's process drains first.
                handle.shutdown();
            }
        }
        // Asked twice, it stops at once.
        handle.shutdown();
        handle.shutdown();
    };
    server
        .serve(listener)
        .and(cluster)
        .with_graceful_shutdown(commands)
        .await?;
    Ok(())
}
