//! A treasure hunt: nested player state, an inventory only its owner sees, and
//! server-owned entities of two kinds (coins, and a ghost that turns into a coin
//! when caught) behind a fog of war, narrated as two bots play.
//!
//! Run with `cargo run --example treasure`. Ends by itself after about three
//! seconds, checking that each bot mirrors exactly what it may see.

use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientEvent, PollClient};
use nodelink::server::{Server, ServerConfig};
use nodelink::sync::SyncMap;
use nodelink::{EntityId, PlayerId, SyncState};

/// How far a hunter sees coins.
const SIGHT: f32 = 0.35;
/// How close a hunter must come to pick a coin up.
const REACH: f32 = 0.05;

/// A hunter's tally: a nested state, synced per field.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Coins picked up.
    pub coins: u32,
    /// Steps walked.
    pub steps: u32,
}

/// Each player's state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Hunter {
    /// Position east, 0 to 1.
    pub x: f32,
    /// Position north, 0 to 1.
    pub y: f32,
    /// What everyone sees of the hunt.
    pub stats: Stats,
    /// Gold by kind of coin: only the hunter itself receives it.
    #[sync(owner)]
    pub purse: SyncMap<String, u32>,
}

/// A coin on the ground: a server-owned entity.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Coin {
    /// Position east.
    pub x: f32,
    /// Position north.
    pub y: f32,
    /// What it is worth.
    pub value: u32,
}

/// A ghost drifting about: caught, it turns into a coin.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Ghost {
    /// Position east.
    pub x: f32,
    /// Position north.
    pub y: f32,
}

/// What lies about: an entity of one of two kinds, each synced with its own fields.
#[derive(SyncState, Clone, Debug, PartialEq)]
pub enum Thing {
    /// A coin.
    Coin(Coin),
    /// A ghost.
    Ghost(Ghost),
}

impl Thing {
    fn position(&self) -> (f32, f32) {
        match self {
            Thing::Coin(coin) => (coin.x, coin.y),
            Thing::Ghost(ghost) => (ghost.x, ghost.y),
        }
    }
}

/// What hunters send.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub enum ToServer {
    /// Take a step toward a point.
    Walk {
        /// East.
        x: f32,
        /// North.
        y: f32,
    },
}

/// What the server tells everyone.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub enum ToClient {
    /// A hunter picked a coin up.
    Found {
        /// Who.
        by: PlayerId,
        /// Its worth.
        value: u32,
    },
    /// A hunter caught a ghost: it is a coin now.
    Caught {
        /// Who.
        by: PlayerId,
    },
}

/// The hunt's protocol.
#[derive(Debug)]
#[nodelink::protocol(state = Hunter, to_server = ToServer, to_client = ToClient, entity = Thing)]
pub struct Hunt;

fn distance(ax: f32, ay: f32, bx: f32, by: f32) -> f32 {
    ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt()
}

fn hunt() -> Server<Hunt> {
    let mut server = Server::<Hunt>::new(ServerConfig::default().host("127.0.0.1").port(0));
    // Fog of war: a hunter's client learns of the coins it can see, and forgets
    // them as it walks away.
    server.entity_visibility(|player, _, thing| {
        let me = player.state();
        let (x, y) = thing.position();
        distance(me.x, me.y, x, y) <= SIGHT
    });
    server.on_walk(|ctx, ToServerWalk { x, y }| {
        let (x, y) = (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0));
        let steps = ctx.player().state().stats.steps + 1;
        let mut hunter = ctx.player().state_mut();
        hunter.set_x(x).set_y(y);
        hunter.stats().set_steps(steps);
    });
    // A coin falls every tick until ten lie about, and a ghost drifts about (one at
    // a time, rising each second while there is none); a
    // hunter within reach takes a coin, and a caught ghost turns into a coin.
    let (mut seed, mut ticks) = (7u32, 0u32);
    server.on_tick(move |ctx, _| {
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            f32::from(((seed >> 16) & 0x7fff) as u16) / 32_767.0
        };
        let coins = ctx
            .entities()
            .filter(|(_, thing)| matches!(thing, Thing::Coin(_)))
            .count();
        if coins < 10 {
            let (x, y, value) = (next(), next(), 1 + (next() * 4.0) as u32);
            ctx.spawn(Coin { x, y, value }); // a kind's state spawns that kind
        }
        ticks += 1;
        let haunted = ctx
            .entities()
            .any(|(_, thing)| matches!(thing, Thing::Ghost(_)));
        if !haunted && ticks % 20 == 0 {
            ctx.spawn(Ghost { x: 0.5, y: 0.5 }); // rises in the middle of the field, each second
        }
        let (dx, dy) = ((next() - 0.5) * 0.02, (next() - 0.5) * 0.02);
        for (_, mut thing) in ctx.entities_mut() {
            if let Some(mut ghost) = thing.ghost() {
                let (x, y) = (
                    (ghost.x + dx).clamp(0.0, 1.0),
                    (ghost.y + dy).clamp(0.0, 1.0),
                );
                ghost.set_x(x).set_y(y); // the ghost's fields alone, under its kind
            }
        }
        // The hunters change while the things are read: `split_mut` borrows the
        // two apart, with no list of ids to collect first. The coins taken are
        // despawned afterwards, on the context, and the ghosts caught changed.
        let (mut hunters, things) = ctx.split_mut();
        let mut taken: Vec<(PlayerId, EntityId, u32)> = Vec::new();
        let mut caught: Vec<(PlayerId, EntityId)> = Vec::new();
        for hunter in hunters.iter_mut() {
            let (px, py) = (hunter.state().x, hunter.state().y);
            for (id, thing) in things.iter() {
                let (x, y) = thing.position();
                let already = taken.iter().any(|(_, t, _)| *t == id) // by another, this tick
                    || caught.iter().any(|(_, t)| *t == id);
                if already || distance(px, py, x, y) > REACH {
                    continue;
                }
                let c = match thing {
                    Thing::Coin(c) => c,
                    Thing::Ghost(_) => {
                        caught.push((hunter.id(), id));
                        continue;
                    }
                };
                let tally = hunter.state().stats.coins + c.value;
                let gold = hunter.state().purse.get("gold").copied().unwrap_or(0) + c.value;
                let mut state = hunter.state_mut();
                state.stats().set_coins(tally);
                // A purse holds a handful of kinds: far below its limit.
                let _ = state.purse().insert("gold".into(), gold);
                taken.push((hunter.id(), id, c.value));
            }
        }
        for (by, coin, value) in taken {
            ctx.despawn(coin);
            ctx.broadcast(ToClient::Found { by, value });
        }
        for (by, ghost) in caught {
            if let Some(mut thing) = ctx.entity_mut(ghost) {
                let (x, y) = thing.position();
                // Another kind: every client that sees it gets the coin, whole.
                thing.set(Thing::Coin(Coin { x, y, value: 5 }));
                ctx.broadcast(ToClient::Caught { by });
            }
        }
    });
    server
}

/// One step of a bot: toward the nearest coin it sees, else along its circle.
fn step(bot: &PollClient<Hunt>, t: f32, phase: f32) -> ToServer {
    let me = bot
        .id()
        .and_then(|id| bot.world().get(id).cloned())
        .unwrap_or_default();
    // The bots mirror each thing as its kind: a ghost they see comes first (it is
    // worth the most), else the nearest coin.
    let nearest_of = |ghost: bool| {
        bot.world()
            .entities()
            .filter(|(_, thing)| matches!(thing, Thing::Ghost(_)) == ghost)
            .map(|(_, thing)| thing.position())
            .min_by(|(ax, ay), (bx, by)| {
                distance(me.x, me.y, *ax, *ay).total_cmp(&distance(me.x, me.y, *bx, *by))
            })
    };
    let nearest = nearest_of(true).or_else(|| nearest_of(false));
    let (x, y) = nearest.unwrap_or((
        0.5 + 0.35 * (t + phase).cos(),
        0.5 + 0.35 * (t + phase).sin(),
    ));
    let d = distance(me.x, me.y, x, y).max(f32::EPSILON);
    let stride = d.min(0.04);
    ToServer::Walk {
        x: me.x + (x - me.x) / d * stride,
        y: me.y + (y - me.y) / d * stride,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let bound = runtime.block_on(hunt().bind())?;
    let url = format!("ws://{}/", bound.local_addr());
    let handle = bound.handle();
    runtime.spawn(bound.run());
    println!("treasure hunt on {url}: coins fall, two hunters look for them");

    let _guard = runtime.enter();
    let mut bots = [
        Client::<Hunt>::from_url(url.clone()).spawn()?,
        Client::<Hunt>::from_url(url).spawn()?,
    ];
    let start = Instant::now();
    let mut steps = 0u32;
    while start.elapsed() < Duration::from_secs(3) {
        let t = start.elapsed().as_secs_f32();
        for (i, bot) in bots.iter_mut().enumerate() {
            for event in bot.poll() {
                match event {
                    ClientEvent::Event(ToClient::Found { by, value }) if Some(by) == bot.id() => {
                        println!("  hunter {i} found a coin worth {value}");
                    }
                    ClientEvent::Event(ToClient::Caught { by }) if Some(by) == bot.id() => {
                        println!("  hunter {i} caught a ghost: it turned into a coin");
                    }
                    ClientEvent::StateSync(sync) if !sync.spawned.is_empty() && steps % 20 == 0 => {
                        let ghosts = bot
                            .world()
                            .entities()
                            .filter(|(_, thing)| thing.kind_name() == "ghost")
                            .count();
                        println!(
                            "  hunter {i} sees {} thing(s) through the fog, {ghosts} of them ghosts",
                            bot.world().entity_count()
                        );
                    }
                    _ => {}
                }
            }
            bot.send(step(bot, t, i as f32 * 3.1))?;
        }
        steps += 1;
        std::thread::sleep(Duration::from_millis(25)); // the bots' pace, not a wait for the server
    }

    // The bots stop; their mirrors catch up with the server's last pickups.
    let deadline = Instant::now() + Duration::from_secs(5);
    let hunters = loop {
        let hunters = runtime.block_on(handle.players())?;
        let caught_up = bots.iter().all(|bot| {
            let mine = bot.id().and_then(|id| bot.world().get(id));
            hunters
                .iter()
                .any(|h| Some(h.id) == bot.id() && mine.is_some_and(|m| m.purse == h.state.purse))
        });
        if caught_up || Instant::now() > deadline {
            break hunters;
        }
        for bot in &mut bots {
            bot.wait(Duration::from_millis(20));
        }
    };

    // Each bot knows its own purse; of the other it knows the tally, not the purse.
    for (i, bot) in bots.iter().enumerate() {
        let own = bot
            .id()
            .and_then(|id| bot.world().get(id))
            .cloned()
            .unwrap_or_default();
        let server_side = hunters
            .iter()
            .find(|h| Some(h.id) == bot.id())
            .map(|h| h.state.clone())
            .unwrap_or_default();
        println!(
            "hunter {i}: {} coins in {} steps, purse {:?}",
            own.stats.coins,
            own.stats.steps,
            own.purse.get("gold")
        );
        if own.purse != server_side.purse {
            return Err(format!("hunter {i}'s purse differs from the server's").into());
        }
        for (id, other) in bot
            .world()
            .players()
            .filter(|(id, _)| Some(*id) != bot.id())
        {
            if !other.purse.is_empty() {
                return Err(format!("hunter {i} sees {id}'s purse").into());
            }
        }
        let visible = bot.world().entities().all(|(_, thing)| {
            let (x, y) = thing.position();
            distance(own.x, own.y, x, y) <= SIGHT + 0.05 // a step may be in flight
        });
        if !visible {
            return Err(format!("hunter {i} mirrors a thing beyond its sight").into());
        }
    }
    handle.shutdown();
    Ok(())
}
