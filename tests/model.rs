//! Model-based check of what each client may see: random sequences of changes
//! (plain, nested, owner-only and tagged fields, map inserts and removals, team
//! changes, spawns of entities of two kinds, their changes, changes of kind and
//! despawns, room moves) applied on a
//! room-scoped server with visibility rules for players, entities and a tag;
//! after every batch, each client's mirror must equal exactly its view of the
//! server's truth: itself and the players it shares a room with that the player
//! rule shows it (others' owner fields at their defaults, their tagged fields as
//! last shown by the tag's rule), and the entities of its rooms and of none that
//! the entity rule shows it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use nodelink::client::{Client, PollClient};
use nodelink::server::{Server, SyncScope};
use nodelink::sync::SyncMap;
use nodelink::{EntityId, PlayerId, SyncState};
use nodelink_tests::local_config;
use proptest::prelude::*;
use tokio::sync::{mpsc, oneshot};

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Stats {
    pub(crate) hp: u8,
    pub(crate) mana: u8,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Hero {
    pub(crate) x: u8,
    pub(crate) stats: Stats,
    pub(crate) bag: SyncMap<u8, u8>,
    #[sync(owner)]
    pub(crate) secret: u8,
    pub(crate) team: u8,
    #[sync(tag = "team")]
    pub(crate) ammo: u8,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Crate {
    pub(crate) v: u8,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Gem {
    pub(crate) shine: u8,
    pub(crate) v: u8,
}

/// Entities of two kinds, each with its own fields and masks.
#[derive(SyncState, Clone, Debug, PartialEq)]
pub(crate) enum Thing {
    Crate(Crate),
    Gem(Gem),
}

impl Thing {
    fn of_kind(gem: bool, v: u8) -> Self {
        if gem {
            Thing::Gem(Gem { shine: v + 1, v })
        } else {
            Thing::Crate(Crate { v })
        }
    }

    fn v(&self) -> u8 {
        match self {
            Thing::Crate(c) => c.v,
            Thing::Gem(g) => g.v,
        }
    }
}

#[nodelink::events]
pub(crate) enum Nothing {}

#[nodelink::protocol(state = Hero, to_server = Nothing, to_client = Nothing, entity = Thing)]
pub(crate) struct Model;

const ROOMS: [&str; 2] = ["a", "b"];
/// How long a mirror may take to catch up with a batch: a few ticks, with room
/// for a loaded machine (short, so that shrinking a failure stays quick).
const DEADLINE: Duration = Duration::from_secs(5);
const PLAYERS: usize = 3;

/// One change, applied by the server's tick; players and entities by position.
#[derive(Debug, Clone)]
enum Op {
    X(usize, u8),
    Hp(usize, u8),
    Put(usize, u8, u8),
    Drop(usize, u8),
    Secret(usize, u8),
    Team(usize, u8),
    Ammo(usize, u8),
    Join(usize, usize),
    Leave(usize, usize),
    Spawn(Option<usize>, bool, u8),
    Despawn(usize),
    Set(usize, u8),
    /// The entity becomes the other kind, of the same value.
    Morph(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..PLAYERS;
    prop_oneof![
        (p.clone(), 0u8..3).prop_map(|(p, v)| Op::X(p, v)),
        (p.clone(), 0u8..3).prop_map(|(p, v)| Op::Hp(p, v)),
        (p.clone(), 0u8..3, 0u8..3).prop_map(|(p, k, v)| Op::Put(p, k, v)),
        (p.clone(), 0u8..3).prop_map(|(p, k)| Op::Drop(p, k)),
        (p.clone(), 1u8..4).prop_map(|(p, v)| Op::Secret(p, v)),
        (p.clone(), 0u8..2).prop_map(|(p, v)| Op::Team(p, v)),
        (p.clone(), 1u8..4).prop_map(|(p, v)| Op::Ammo(p, v)),
        (p.clone(), 0..ROOMS.len()).prop_map(|(p, r)| Op::Join(p, r)),
        (p, 0..ROOMS.len()).prop_map(|(p, r)| Op::Leave(p, r)),
        (prop::option::of(0..ROOMS.len()), any::<bool>(), 0u8..3)
            .prop_map(|(r, gem, v)| Op::Spawn(r, gem, v)),
        (0usize..4).prop_map(Op::Despawn),
        (0usize..4, 0u8..3).prop_map(|(i, v)| Op::Set(i, v)),
        (0usize..4).prop_map(Op::Morph),
    ]
}

/// A batch of changes, then the server's truth once they are applied.
type Batch = (Vec<Op>, oneshot::Sender<Truth>);

#[derive(Debug, Clone)]
struct Truth {
    players: BTreeMap<PlayerId, Hero>,
    rooms: BTreeMap<PlayerId, BTreeSet<String>>,
    entities: BTreeMap<EntityId, (Option<String>, Thing)>,
}

fn server(
    batches: mpsc::UnboundedReceiver<Batch>,
) -> Server<Model, mpsc::UnboundedReceiver<Batch>> {
    let config = local_config().sync_scope(SyncScope::Rooms);
    let mut server = Server::<Model, _>::with_game(config, batches);
    server.player_visibility(|me, other| sees_player(me.state(), other.state()));
    server.entity_visibility(|me, _, thing| sees_thing(me.state(), thing));
    server.field_visibility("team", |sight| {
        sees_ammo(sight.viewer.state(), sight.owner.state())
    });
    // Everyone starts in room `a`, so views overlap until the changes move players.
    server.on_connect(|ctx| {
        let id = ctx.id();
        ctx.create_room(ROOMS[0]).add(id);
    });
    let mut spawned: Vec<(EntityId, Option<String>)> = Vec::new();
    server.on_tick(move |ctx, _| {
        while let Ok((ops, reply)) = ctx.game().try_recv() {
            let mut ids: Vec<PlayerId> = ctx.players().map(|p| p.id()).collect();
            ids.sort();
            for op in ops {
                let player = |i: usize| ids[i % ids.len()];
                match op {
                    Op::X(p, v) => {
                        ctx.get_player_mut(player(p)).unwrap().state_mut().set_x(v);
                    }
                    Op::Hp(p, v) => {
                        ctx.get_player_mut(player(p))
                            .unwrap()
                            .state_mut()
                            .stats()
                            .set_hp(v);
                    }
                    Op::Put(p, k, v) => {
                        let player = ctx.get_player_mut(player(p)).unwrap();
                        player.state_mut().bag().insert(k, v).unwrap();
                    }
                    Op::Drop(p, k) => {
                        ctx.get_player_mut(player(p))
                            .unwrap()
                            .state_mut()
                            .bag()
                            .remove(&k);
                    }
                    Op::Secret(p, v) => {
                        ctx.get_player_mut(player(p))
                            .unwrap()
                            .state_mut()
                            .set_secret(v);
                    }
                    Op::Team(p, v) => {
                        ctx.get_player_mut(player(p))
                            .unwrap()
                            .state_mut()
                            .set_team(v);
                    }
                    Op::Ammo(p, v) => {
                        ctx.get_player_mut(player(p))
                            .unwrap()
                            .state_mut()
                            .set_ammo(v);
                    }
                    Op::Join(p, r) => {
                        ctx.create_room(ROOMS[r]).add(player(p));
                    }
                    Op::Leave(p, r) => {
                        if let Some(mut room) = ctx.room_mut(ROOMS[r]) {
                            room.remove(player(p));
                        }
                    }
                    Op::Spawn(r, gem, v) => {
                        let thing = Thing::of_kind(gem, v);
                        let id = match r {
                            Some(r) => ctx.spawn_in(ROOMS[r], thing),
                            None => ctx.spawn(thing),
                        };
                        spawned.push((id, r.map(|r| ROOMS[r].to_owned())));
                    }
                    Op::Despawn(i) => {
                        if !spawned.is_empty() {
                            let (id, _) = spawned.remove(i % spawned.len());
                            ctx.despawn(id);
                        }
                    }
                    Op::Set(i, v) => {
                        if let Some((id, _)) = spawned.get(i % spawned.len().max(1)) {
                            let mut thing = ctx.entity_mut(*id).unwrap();
                            if let Some(mut c) = thing.crate_() {
                                c.set_v(v);
                            } else if let Some(mut g) = thing.gem() {
                                g.set_v(v);
                            }
                        }
                    }
                    Op::Morph(i) => {
                        if let Some((id, _)) = spawned.get(i % spawned.len().max(1)) {
                            let mut thing = ctx.entity_mut(*id).unwrap();
                            let gem = matches!(*thing, Thing::Crate(_));
                            let v = thing.v();
                            thing.set(Thing::of_kind(gem, v));
                        }
                    }
                }
            }
            let players = ctx.players().map(|p| (p.id(), p.state().clone())).collect();
            let rooms = ctx
                .players()
                .map(|p| (p.id(), p.rooms().map(str::to_owned).collect()))
                .collect();
            let entities = spawned
                .iter()
                .filter_map(|(id, room)| ctx.entity(*id).map(|t| (*id, (room.clone(), t.clone()))))
                .collect();
            let _ = reply.send(Truth {
                players,
                rooms,
                entities,
            });
        }
    });
    server
}

/// The player rule: a player sees its team, and anyone standing at x = 0.
fn sees_player(me: &Hero, other: &Hero) -> bool {
    me.team == other.team || other.x == 0
}

/// The entity rule: things of value 2 are seen by team 1 only.
fn sees_thing(me: &Hero, thing: &Thing) -> bool {
    thing.v() != 2 || me.team == 1
}

/// The tag's rule: a team sees its members' ammo.
fn sees_ammo(me: &Hero, other: &Hero) -> bool {
    me.team == other.team
}

/// What each client last received of each other player's tagged fields, while
/// it mirrors that player: `(viewer, other)` to the ammo it holds.
type Shown = BTreeMap<(PlayerId, PlayerId), u8>;

/// What the client of `me` may see of `truth`; `shown` is what it held of the
/// others' tagged fields after the previous batch, and is updated.
fn view_of(
    truth: &Truth,
    me: PlayerId,
    shown: &mut Shown,
) -> (BTreeMap<PlayerId, Hero>, BTreeMap<EntityId, Thing>) {
    let mine = &truth.rooms[&me];
    let hero_of_me = &truth.players[&me];
    let players: BTreeMap<PlayerId, Hero> = truth
        .players
        .iter()
        .filter(|(id, hero)| {
            **id == me || (!truth.rooms[*id].is_disjoint(mine) && sees_player(hero_of_me, hero))
        })
        .map(|(id, hero)| {
            let mut hero = hero.clone();
            if *id != me {
                hero.secret = 0; // an owner field: never anyone else's
                                 // A tagged field: its value while the rule shows it, else the
                                 // last value shown since the player came into view (announced,
                                 // it starts from the default).
                let held = shown.entry((me, *id)).or_default();
                if sees_ammo(hero_of_me, &hero) {
                    *held = hero.ammo;
                }
                hero.ammo = *held;
            }
            (*id, hero)
        })
        .collect();
    shown.retain(|(viewer, other), _| *viewer != me || players.contains_key(other));
    let entities = truth
        .entities
        .iter()
        .filter(|(_, (room, thing))| {
            room.as_ref().is_none_or(|room| mine.contains(room)) && sees_thing(hero_of_me, thing)
        })
        .map(|(id, (_, thing))| (*id, thing.clone()))
        .collect();
    (players, entities)
}

fn mirror(client: &PollClient<Model>) -> (BTreeMap<PlayerId, Hero>, BTreeMap<EntityId, Thing>) {
    let world = client.world();
    (
        world.players().map(|(id, h)| (id, h.clone())).collect(),
        world.entities().map(|(id, t)| (id, t.clone())).collect(),
    )
}

fn run(batches: Vec<Vec<Op>>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (send, receive) = mpsc::unbounded_channel();
    let bound = runtime.block_on(server(receive).bind()).unwrap();
    let url = format!("ws://{}/", bound.local_addr());
    let handle = bound.handle();
    runtime.spawn(bound.run());
    let guard = runtime.enter();
    let mut clients: Vec<PollClient<Model>> = (0..PLAYERS)
        .map(|_| Client::<Model>::from_url(url.clone()).spawn().unwrap())
        .collect();
    let deadline = Instant::now() + DEADLINE;
    while handle.player_count() < PLAYERS || clients.iter().any(|c| c.id().is_none()) {
        prop_assert!(Instant::now() < deadline, "the clients did not connect");
        for client in &mut clients {
            client.wait(Duration::from_millis(10));
        }
    }
    let mut shown = Shown::new();
    for ops in batches {
        let (reply, truth) = oneshot::channel();
        send.send((ops, reply)).unwrap();
        let truth = runtime
            .block_on(tokio::time::timeout(DEADLINE, truth))
            .expect("the server applies a batch within the deadline")
            .expect("the server answers every batch");
        let deadline = Instant::now() + DEADLINE;
        for client in &mut clients {
            let me = client.id().unwrap();
            let expected = view_of(&truth, me, &mut shown);
            while mirror(client) != expected {
                if Instant::now() > deadline {
                    prop_assert_eq!(mirror(client), expected.clone(), "the mirror of {}", me);
                }
                client.wait(Duration::from_millis(10));
            }
        }
    }
    handle.shutdown();
    // Bounded: a case never waits on its clients' or server's tasks to wind down.
    drop(clients);
    drop(guard);
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_client_mirrors_exactly_what_it_may_see(
        batches in prop::collection::vec(prop::collection::vec(op(), 1..10), 1..8)
    ) {
        run(batches)?;
    }
}
