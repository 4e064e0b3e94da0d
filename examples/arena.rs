//! Two teams in rooms, a round timer, a cheating bot, a server restart: everything
//! beyond the basics, in one process, narrated as it happens.
//!
//! Run with `cargo run --example arena`. Ends by itself after about six seconds.
//!
//! Shown here: rooms with room-scoped sync (each team sees only itself), `on_tick`
//! driving the shared server state (round and timer), middleware that clamps moves
//! and rejects a cheater's, ping latency, sequential player ids, sync statistics,
//! and clients reconnecting to a restarted server with their queue intact.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientConfig, ClientEvent, PollClient, Reconnect};
use nodelink::server::{Server, ServerConfig, ServerHandle, SyncScope};
use nodelink::{PlayerId, Verdict};
use nodelink_examples::{Game, OnToServer, ToServer};

const ROUND_SECONDS: f32 = 2.0;

fn arena(addr: SocketAddr) -> Server<Game> {
    let config = ServerConfig::default()
        .host(addr.ip().to_string())
        .port(addr.port())
        .sync_scope(SyncScope::Rooms)
        .ping_interval(Duration::from_millis(250));
    let mut server = Server::<Game>::new(config);

    // Readable ids: 00000001, 00000002, … (a clash would be retried).
    let mut next = 0;
    server.id_generator(move || {
        next += 1;
        PlayerId::from_raw(next)
    });

    // Odd ids play red, even ids blue; with room-scoped sync a client mirrors only
    // its own team.
    server.on_connect(|ctx| {
        let id = ctx.id();
        let team = if id.raw() % 2 == 1 { "red" } else { "blue" };
        // Named first, so teammates see the name in the player's first appearance.
        ctx.player()
            .state_mut()
            .set_name(format!("{team}-{}", id.raw()));
        ctx.create_room(team).add(id);
    });

    // Middleware: clamp every move into the arena; reject teleports.
    server.before_move(|ctx, x, y| {
        let (from_x, from_y) = (ctx.player().state().x, ctx.player().state().y);
        *x = x.clamp(0.0, 1.0);
        *y = y.clamp(0.0, 1.0);
        let far = (*x - from_x).abs() + (*y - from_y).abs() > 0.5;
        if far && (from_x, from_y) != (0.0, 0.0) {
            println!("  middleware: rejected a teleport by {}", ctx.id());
            return Verdict::Reject;
        }
        Verdict::Pass
    });
    server.on_move(|ctx, x, y| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });

    // The round timer lives in the shared server state, synced to everyone.
    server.on_tick(|ctx, dt| {
        let left = ctx.server_state().time_left - dt.as_secs_f32();
        if left > 0.0 {
            ctx.server_state_mut().set_time_left(left);
            return;
        }
        let leader = ctx
            .players()
            .max_by(|a, b| a.state().x.total_cmp(&b.state().x))
            .map(|p| p.id());
        let round = ctx.server_state().round + 1;
        ctx.server_state_mut()
            .set_round(round)
            .set_time_left(ROUND_SECONDS)
            .set_leader(leader);
    });
    server
}

async fn start(
    addr: SocketAddr,
) -> Result<(ServerHandle<Game>, tokio::task::JoinHandle<()>), Box<dyn std::error::Error>> {
    let bound = arena(addr).bind().await?;
    let handle = bound.handle();
    Ok((handle, tokio::spawn(bound.run())))
}

/// A bot walks back and forth; the cheater also tries to teleport, once.
async fn bot(url: String, cheater: bool, stop: Instant) {
    let config = ClientConfig::default()
        .reconnect(Reconnect::default().initial_delay(Duration::from_millis(100)));
    let client = Client::<Game>::with_config(url, config);
    let sender = client.sender();
    let connection = tokio::spawn(client.run());
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let mut cheated = false;
    while Instant::now() < stop {
        ticker.tick().await;
        let t = start.elapsed().as_secs_f32();
        let x = 0.5 + 0.4 * (t * 0.7).sin();
        // Queued while the server restarts; delivered after the reconnect.
        let _ = sender.send(ToServer::Move { x, y: 0.5 });
        if cheater && !cheated && t > 1.0 {
            cheated = true;
            let _ = sender.send(ToServer::Move { x: x + 0.9, y: 0.0 });
        }
    }
    sender.disconnect();
    let _ = connection.await;
}

fn narrate(observer: &mut PollClient<Game>) {
    for event in observer.poll() {
        match event {
            ClientEvent::Connected { id } => println!("observer: connected as {id}"),
            ClientEvent::Disconnected(reason) => println!("observer: disconnected ({reason})"),
            ClientEvent::Reconnecting { attempt, delay } => {
                println!("observer: reconnecting, attempt {attempt} in {delay:?}");
            }
            ClientEvent::StateSync(sync) if sync.full => {
                let mut team: Vec<String> = observer
                    .world()
                    .players()
                    .map(|(id, s)| {
                        if s.name.is_empty() {
                            format!("{id} (naming)")
                        } else {
                            s.name.clone()
                        }
                    })
                    .collect();
                team.sort();
                println!("observer: snapshot; sees its team only: {team:?}");
            }
            ClientEvent::StateSync(sync) => {
                if let Some(round) = sync.server.as_ref().and_then(|s| s.round) {
                    let state = observer.world().server_state();
                    let latency = observer
                        .latency()
                        .map_or("?".to_owned(), |l| format!("{l:?}"));
                    println!(
                        "observer: round {round} starts; leader {:?}; latency {latency}",
                        state.leader.map(|id| id.to_string())
                    );
                }
            }
            _ => {}
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Take a free port, then keep it for the restart.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let url = format!("ws://{addr}/");
    let (handle, server) = start(addr).await?;
    println!("arena on {url}");

    let stop = Instant::now() + Duration::from_secs(6);
    let bots: Vec<_> = (0..4)
        .map(|i| tokio::spawn(bot(url.clone(), i == 2, stop)))
        .collect();
    let config = ClientConfig::default()
        .reconnect(Reconnect::default().initial_delay(Duration::from_millis(100)));
    let mut observer = Client::<Game>::with_config(url.clone(), config).spawn()?;

    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let restart_at = Instant::now() + Duration::from_secs(3);
    let mut restarted = false;
    let mut current = Some((handle, server));
    while Instant::now() < stop {
        ticker.tick().await;
        narrate(&mut observer);
        if !restarted && Instant::now() >= restart_at {
            restarted = true;
            if let Some((handle, server)) = current.take() {
                let stats = handle.stats().await?;
                println!(
                    "server: {} ticks, {} frames, {:.1} KiB sent to {} players; restarting",
                    stats.ticks,
                    stats.frames,
                    stats.bytes_sent as f64 / 1024.0,
                    stats.players
                );
                handle.shutdown();
                server.await?;
                let back = start(addr).await?;
                println!("server: back on {url}");
                current = Some(back);
            }
        }
    }
    for bot in bots {
        bot.await?;
    }
    narrate(&mut observer);
    drop(observer);
    if let Some((handle, server)) = current {
        let stats = handle.stats().await?;
        println!(
            "server: {} players at the end of the restarted session",
            stats.players
        );
        handle.shutdown();
        server.await?;
    }
    Ok(())
}
