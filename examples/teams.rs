//! Two teams on a line: each soldier's client mirrors its teammates and the
//! enemies within sight (a player visibility rule), a team sees its members'
//! ammo and no one else does (a tagged field), and a shot at an enemy out of
//! sight misses (`ctx.sees_player`, the rule the sync uses), narrated as four
//! bots play.
//!
//! Run with `cargo run --example teams`. Ends by itself after about three
//! seconds, checking that each bot mirrors exactly what it may see.

use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientEvent, PollClient};
use nodelink::server::{Server, ServerConfig};
use nodelink::{PlayerId, SyncState};

/// How far a soldier sees the other team.
const SIGHT: f32 = 3.0;
/// Where the line ends; soldiers patrol between 0 and this.
const LENGTH: f32 = 10.0;

/// Each player's state.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub struct Soldier {
    /// 1 or 2.
    pub team: u8,
    /// Position on the line.
    pub x: f32,
    /// Hit points: everyone who sees the soldier sees them.
    pub hp: u32,
    /// Rounds left: the soldier and its team receive it, the other team never.
    #[sync(tag = "team")]
    pub ammo: u32,
}

/// What soldiers send.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub enum ToServer {
    /// Walk to a point of the line.
    Walk {
        /// Where.
        x: f32,
    },
    /// Fire one round at a player.
    Shoot {
        /// At whom.
        at: PlayerId,
    },
}

/// What the server tells a shooter.
#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub enum ToClient {
    /// The shot hit.
    Hit {
        /// Whom.
        at: PlayerId,
    },
    /// The target was out of sight, or the shooter out of ammo.
    Missed,
}

/// The game's protocol.
#[derive(Debug)]
#[nodelink::protocol(state = Soldier, to_server = ToServer, to_client = ToClient)]
pub struct Skirmish;

fn skirmish() -> Server<Skirmish> {
    let mut server = Server::<Skirmish>::new(ServerConfig::default().host("127.0.0.1").port(0));
    // A soldier's client mirrors its team, and enemies within sight.
    server.player_visibility(|me, other| {
        me.state().team == other.state().team || (me.state().x - other.state().x).abs() <= SIGHT
    });
    // Its team sees its ammo.
    server.field_visibility("team", |sight| {
        sight.viewer.state().team == sight.owner.state().team
    });
    // Teams alternate; each soldier starts at its team's end of the line.
    server.on_connect(|ctx| {
        let team = if ctx.player_count() % 2 == 1 { 1 } else { 2 };
        let x = if team == 1 { 0.0 } else { LENGTH };
        ctx.player()
            .state_mut()
            .set_team(team)
            .set_x(x)
            .set_hp(100)
            .set_ammo(30);
    });
    server.on_walk(|ctx, ToServerWalk { x }| {
        ctx.player().state_mut().set_x(x.clamp(0.0, LENGTH));
    });
    server.on_shoot(|ctx, ToServerShoot { at }| {
        let me = ctx.id();
        let ammo = ctx.player().state().ammo;
        // The same answer the sync gives: no shooting at what one cannot see.
        if ammo == 0 || !ctx.sees_player(me, at) {
            let _ = ctx.send_to(me, ToClient::Missed);
            return;
        }
        ctx.player().state_mut().set_ammo(ammo - 1);
        if let Some(target) = ctx.get_player_mut(at) {
            let hp = target.state().hp.saturating_sub(10);
            target.state_mut().set_hp(hp);
        }
        let _ = ctx.send_to(me, ToClient::Hit { at });
    });
    server
}

/// This bot's soldier as its client mirrors it.
fn me(bot: &PollClient<Skirmish>) -> Soldier {
    bot.id()
        .and_then(|id| bot.world().get(id).cloned())
        .unwrap_or_default()
}

/// One move of a bot: fire at the nearest enemy it sees, else walk its patrol.
fn act(bot: &PollClient<Skirmish>, t: f32, phase: f32) -> ToServer {
    let mine = me(bot);
    let enemy = bot
        .world()
        .players()
        .filter(|(_, s)| s.team != mine.team)
        .min_by(|(_, a), (_, b)| (a.x - mine.x).abs().total_cmp(&(b.x - mine.x).abs()));
    match enemy {
        Some((at, _)) if mine.ammo > 0 && (t * 10.0) as u32 % 4 == 0 => ToServer::Shoot { at },
        _ => ToServer::Walk {
            x: LENGTH / 2.0 + LENGTH / 2.0 * (t * 1.5 + phase).sin(),
        },
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Runtime::new()?;
    let bound = runtime.block_on(skirmish().bind())?;
    let url = format!("ws://{}/", bound.local_addr());
    let handle = bound.handle();
    runtime.spawn(bound.run());
    println!(
        "skirmish on {url}: two teams of two patrol a line {LENGTH} long, seeing {SIGHT} ahead"
    );

    let _guard = runtime.enter();
    let mut bots = Vec::new();
    for _ in 0..4 {
        bots.push(Client::<Skirmish>::from_url(url.clone()).spawn()?);
    }
    let start = Instant::now();
    let (mut hits, mut misses) = (0u32, 0u32);
    let mut in_sight = [false; 4];
    while start.elapsed() < Duration::from_secs(3) {
        let t = start.elapsed().as_secs_f32();
        for (i, bot) in bots.iter_mut().enumerate() {
            for event in bot.poll() {
                match event {
                    ClientEvent::Event(ToClient::Hit { .. }) => hits += 1,
                    ClientEvent::Event(ToClient::Missed) => misses += 1,
                    ClientEvent::StateSync(_) => {
                        let mine = me(bot);
                        let sees_enemy = bot.world().players().any(|(_, s)| s.team != mine.team);
                        if sees_enemy != in_sight[i] {
                            in_sight[i] = sees_enemy;
                            let news = if sees_enemy {
                                "an enemy comes into sight"
                            } else {
                                "no enemy in sight"
                            };
                            println!(
                                "  soldier {i} (team {}, at {:.1}): {news}",
                                mine.team, mine.x
                            );
                        }
                    }
                    _ => {}
                }
            }
            if bot.id().is_some() {
                bot.send(act(bot, t, i as f32 * 1.7))?;
            }
        }
        std::thread::sleep(Duration::from_millis(50)); // the bots' pace, not a wait for the server
    }
    println!("{hits} hits, {misses} misses (shots out of sight or out of ammo)");

    // The bots stop; their mirrors catch up with the server's last changes.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let soldiers = runtime.block_on(handle.players())?;
        let expected = |bot: &PollClient<Skirmish>| -> Vec<(PlayerId, Soldier)> {
            let Some(mine) = soldiers.iter().find(|s| Some(s.id) == bot.id()) else {
                return Vec::new();
            };
            let mut seen: Vec<(PlayerId, Soldier)> = soldiers
                .iter()
                .filter(|other| {
                    other.id == mine.id
                        || other.state.team == mine.state.team
                        || (other.state.x - mine.state.x).abs() <= SIGHT
                })
                .map(|other| {
                    let mut state = other.state.clone();
                    if state.team != mine.state.team {
                        state.ammo = 0; // never sent to the other team
                    }
                    (other.id, state)
                })
                .collect();
            seen.sort_by_key(|(id, _)| *id);
            seen
        };
        let mirrored = |bot: &PollClient<Skirmish>| -> Vec<(PlayerId, Soldier)> {
            let mut seen: Vec<(PlayerId, Soldier)> = bot
                .world()
                .players()
                .map(|(id, s)| (id, s.clone()))
                .collect();
            seen.sort_by_key(|(id, _)| *id);
            seen
        };
        if bots.iter().all(|bot| mirrored(bot) == expected(bot)) {
            break;
        }
        if Instant::now() > deadline {
            for (i, bot) in bots.iter().enumerate() {
                println!(
                    "soldier {i} mirrors {:?}, may see {:?}",
                    mirrored(bot),
                    expected(bot)
                );
            }
            return Err("a soldier's mirror is not what it may see".into());
        }
        for bot in &mut bots {
            bot.wait(Duration::from_millis(20));
        }
    }
    for (i, bot) in bots.iter().enumerate() {
        let mine = me(bot);
        let enemies = bot
            .world()
            .players()
            .filter(|(_, s)| s.team != mine.team)
            .count();
        println!(
            "soldier {i}: team {}, at {:.1}, {} hp, {} rounds; mirrors itself, {} teammate(s) and {enemies} enemy(ies) in sight",
            mine.team,
            mine.x,
            mine.hp,
            mine.ammo,
            bot.world().players().count() - enemies - 1,
        );
    }
    println!("every mirror holds its team, the enemies in sight, and no enemy's ammo");
    handle.shutdown();
    Ok(())
}
