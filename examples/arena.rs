//! Two teams in rooms, pickups to collect, a round timer, a cheating bot, a server
//! restart: everything beyond the basics, in one process, narrated as it happens.
//!
//! Run with `cargo run --example arena`. Ends by itself after about six seconds.
//!
//! Shown here: rooms with room-scoped sync (each team sees only itself and its own
//! pickups), a nested record synced per field, an inventory only its owner
//! receives, pickups as server-owned entities spawned and despawned by `on_tick`,
//! the shared server state (round and timer), middleware that clamps moves and
//! rejects a cheater's, ping latency, sequential player ids, sync statistics, and
//! clients reconnecting to a restarted server with their queue intact.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientConfig, ClientEvent, PollClient, Reconnect};
use nodelink::server::{Server, ServerConfig, ServerHandle, SyncScope};
use nodelink::sync::SyncMap;
use nodelink::{EntityId, PlayerId, SyncState, Verdict};
use nodelink_examples::{Match, OnToServer, ToClient, ToServer, ToServerMove, ToServerMoveMut};

const ROUND_SECONDS: f32 = 2.0;
/// Pickups lying about in each team's half at once.
const PICKUPS_PER_TEAM: usize = 3;
/// How close a fighter must come to collect a pickup.
const REACH: f32 = 0.06;
/// What a pickup can be, and its worth in points.
const KINDS: [(&str, u32); 3] = [("gem", 3), ("potion", 1), ("shield", 2)];

/// A fighter's record: a nested state, so a new score sends only the score.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// Points from pickups.
    pub score: u32,
    /// Pickups collected.
    pub pickups: u32,
}

/// Each player's synced state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Fighter {
    /// Position east, 0 to 1.
    pub x: f32,
    /// Position north, 0 to 1.
    pub y: f32,
    /// Team and number, e.g. `red-1`.
    pub name: String,
    /// What teammates see of the fighter's round.
    pub record: Record,
    /// Pickups by kind: only the fighter's own client receives it.
    #[sync(owner)]
    pub inventory: SyncMap<String, u32>,
}

/// Something to collect: a server-owned entity, seen only by its team's room.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Pickup {
    /// Position east.
    pub x: f32,
    /// Position north.
    pub y: f32,
    /// Index into [`KINDS`].
    pub kind: u8,
}

/// The arena's protocol: the shared examples' events and match state, its own
/// fighters and pickups.
#[derive(Debug)]
#[nodelink::protocol(state = Fighter, to_server = ToServer, to_client = ToClient, server_state = Match, entity = Pickup)]
pub struct Arena;

fn team_of(id: PlayerId) -> &'static str {
    if id.raw() % 2 == 1 {
        "red"
    } else {
        "blue"
    }
}

fn arena(addr: SocketAddr) -> Server<Arena> {
    let config = ServerConfig::default()
        .host(addr.ip().to_string())
        .port(addr.port())
        .sync_scope(SyncScope::Rooms)
        .ping_interval(Duration::from_millis(250));
    let mut server = Server::<Arena>::new(config);

    // Readable ids: 00000001, 00000002, … (a clash would be retried).
    let mut next = 0;
    server.id_generator(move || {
        next += 1;
        PlayerId::from_raw(next)
    });

    // Odd ids play red, even ids blue; with room-scoped sync a client mirrors only
    // its own team and its team's pickups.
    server.on_connect(|ctx| {
        let id = ctx.id();
        let team = team_of(id);
        // Named first, so teammates see the name in the player's first appearance.
        ctx.player()
            .state_mut()
            .set_name(format!("{team}-{}", id.raw()));
        ctx.create_room(team).add(id);
    });

    // Middleware: clamp every move into the arena; reject teleports.
    server.before_move(|ctx, ToServerMoveMut { x, y }| {
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
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });

    let mut seed = 11u32;
    server.on_tick(move |ctx, dt| {
        let mut random = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            f32::from(((seed >> 16) & 0x7fff) as u16) / 32_767.0
        };
        // Each team's half holds a few pickups, on the line the fighters walk.
        for team in ["red", "blue"] {
            let lying = ctx
                .entities()
                .filter(|(id, _)| ctx.entity_room(*id) == Some(team))
                .count();
            if lying < PICKUPS_PER_TEAM {
                let (x, kind) = (0.1 + 0.8 * random(), (random() * 2.99) as u8);
                ctx.spawn_in(team, Pickup { x, y: 0.5, kind });
            }
        }
        collect(ctx);

        // The round timer lives in the shared server state, synced to everyone.
        let left = ctx.server_state().time_left - dt.as_secs_f32();
        if left > 0.0 {
            ctx.server_state_mut().set_time_left(left);
            return;
        }
        let leader = ctx
            .players()
            .max_by_key(|p| p.state().record.score)
            .map(|p| p.id());
        let round = ctx.server_state().round + 1;
        ctx.server_state_mut()
            .set_round(round)
            .set_time_left(ROUND_SECONDS)
            .set_leader(leader);
    });
    server
}

/// A fighter within reach of one of its team's pickups takes it: the pickup is
/// despawned, the fighter's record and inventory grow.
fn collect(ctx: &mut nodelink::server::ServerCtx<'_, Arena>) {
    let world = &*ctx;
    let taken: Vec<(PlayerId, EntityId, u8)> = world
        .players()
        .flat_map(|player| {
            let (x, y, team) = (player.state().x, player.state().y, team_of(player.id()));
            world
                .entities()
                .filter(move |(id, p)| {
                    world.entity_room(*id) == Some(team)
                        && (p.x - x).abs() + (p.y - y).abs() <= REACH
                })
                .map(move |(id, p)| (player.id(), id, p.kind))
        })
        .collect();
    for (by, pickup, kind) in taken {
        if ctx.despawn(pickup).is_none() {
            continue; // a teammate took it this tick
        }
        let (name, points) = KINDS[usize::from(kind)];
        if let Some(player) = ctx.get_player_mut(by) {
            let record = player.state().record.clone();
            let held = player.state().inventory.get(name).copied().unwrap_or(0);
            let mut fighter = player.state_mut();
            fighter
                .record()
                .set_score(record.score + points)
                .set_pickups(record.pickups + 1);
            // Three kinds: far below the inventory's limit.
            let _ = fighter.inventory().insert(name.to_owned(), held + 1);
        }
    }
}

async fn start(
    addr: SocketAddr,
) -> Result<(ServerHandle<Arena>, tokio::task::JoinHandle<()>), Box<dyn std::error::Error>> {
    let bound = arena(addr).bind().await?;
    let handle = bound.handle();
    Ok((handle, tokio::spawn(bound.run())))
}

/// A bot walks back and forth; the cheater also tries to teleport, once.
async fn bot(url: String, cheater: bool, stop: Instant) {
    let config = ClientConfig::default()
        .reconnect(Reconnect::default().initial_delay(Duration::from_millis(100)));
    let client = Client::<Arena>::with_config(url, config);
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

fn narrate(observer: &mut PollClient<Arena>) {
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
                println!(
                    "observer: snapshot; sees its team only: {team:?}, and {} pickup(s) in its half",
                    observer.world().entity_count()
                );
            }
            ClientEvent::StateSync(sync) => {
                // The inventory is an owner field: its changes come in a frame of the
                // observer's own, entry by entry.
                let me = observer.id();
                let first = sync
                    .changes
                    .iter()
                    .filter(|(id, _)| Some(*id) == me)
                    .filter_map(|(_, delta)| delta.inventory.as_ref())
                    .flat_map(|inventory| inventory.entries.iter())
                    .find(|(_, count)| *count == 1);
                if let Some((kind, _)) = first {
                    println!("observer: picked up its first {kind}");
                }
                if let Some(round) = sync.server.as_ref().and_then(|s| s.round) {
                    let state = observer.world().server_state();
                    let latency = observer
                        .latency()
                        .map_or("?".to_owned(), |l| format!("{l:?}"));
                    println!(
                        "observer: round {round} starts; leader {:?}; latency {latency}",
                        state.leader.map(|id| id.to_string())
                    );
                    let me = observer.id().and_then(|id| observer.world().get(id));
                    if let Some(me) = me {
                        let mut held: Vec<_> = me.inventory.iter().collect();
                        held.sort();
                        // Teammates' records are synced; their inventories never are.
                        let hidden = observer
                            .world()
                            .players()
                            .filter(|(id, _)| Some(*id) != observer.id())
                            .all(|(_, mate)| mate.inventory.is_empty());
                        println!(
                            "observer: score {}, inventory {held:?}; teammates' inventories hidden: {hidden}",
                            me.record.score
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// The observer walks toward the nearest pickup its client mirrors.
fn hunt(observer: &PollClient<Arena>) -> Option<ToServer> {
    let me = observer.world().get(observer.id()?)?;
    let (_, target) = observer
        .world()
        .entities()
        .min_by(|(_, a), (_, b)| (a.x - me.x).abs().total_cmp(&(b.x - me.x).abs()))?;
    let step = (target.x - me.x).clamp(-0.05, 0.05);
    Some(ToServer::Move {
        x: me.x + step,
        y: 0.5,
    })
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
    let mut observer = Client::<Arena>::with_config(url.clone(), config).spawn()?;

    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    let restart_at = Instant::now() + Duration::from_secs(3);
    let mut restarted = false;
    let mut current = Some((handle, server));
    while Instant::now() < stop {
        ticker.tick().await;
        narrate(&mut observer);
        if let Some(step) = hunt(&observer) {
            let _ = observer.send(step);
        }
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
