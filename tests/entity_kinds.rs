//! Several kinds of entity in one protocol: an enum of kinds as the `Entity`,
//! each kind with its own fields and masks, spawned by its own type, changed
//! through its own view, mirrored by kind on both wires and by the TypeScript
//! client, in snapshots, and sent whole when an entity changes kind (a monster
//! that dies and leaves loot).

use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientEvent, PollClient};
use nodelink::server::Server;
use nodelink::{EntityId, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient, DEADLINE};
use serde_json::json;

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Avatar {
    pub(crate) x: f32,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Monster {
    pub(crate) hp: u16,
    pub(crate) x: f32,
    pub(crate) name: String,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Loot {
    pub(crate) gold: u32,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Arrow {
    pub(crate) x: f32,
    pub(crate) dx: f32,
}

/// What lies in the dungeon.
#[derive(SyncState, Clone, Debug, PartialEq)]
pub(crate) enum Thing {
    Monster(Monster),
    Loot(Loot),
    Arrow(Arrow),
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Summon { name: String },
    Hit { id: EntityId },
    Shoot { x: f32 },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, entity = Thing)]
pub(crate) struct Dungeon;

fn dungeon() -> Server<Dungeon> {
    let mut server = Server::<Dungeon>::new(local_config());
    server.on_summon(|ctx, ToServerSummon { name }| {
        ctx.spawn(Monster {
            hp: 3,
            x: 1.0,
            name,
        });
    });
    // A hit takes one hp; the last turns the monster into its loot.
    server.on_hit(|ctx, ToServerHit { id }| {
        let Some(mut thing) = ctx.entity_mut(id) else {
            return;
        };
        let hp = match thing.monster() {
            Some(mut monster) => {
                let hp = monster.hp.saturating_sub(1);
                monster.set_hp(hp);
                hp
            }
            None => return,
        };
        if hp == 0 {
            thing.set(Thing::Loot(Loot { gold: 7 }));
        }
    });
    server.on_shoot(|ctx, ToServerShoot { x }| {
        ctx.spawn(Arrow { x, dx: 2.0 });
    });
    server
}

/// Polls `client` until `done` holds; returns the sync frames' entity changes
/// on the way, as the `Debug` of each delta.
fn poll_until(
    client: &mut PollClient<Dungeon>,
    what: &str,
    done: impl Fn(&PollClient<Dungeon>) -> bool,
) -> Vec<(EntityId, <Thing as SyncState>::Delta)> {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        let mut changes = Vec::new();
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            for event in client.wait(Duration::from_millis(20)) {
                if let ClientEvent::StateSync(sync) = event {
                    changes.extend(sync.entities);
                }
            }
        }
        changes
    })
}

fn thing(client: &PollClient<Dungeon>, id: EntityId) -> Option<Thing> {
    client.world().entity(id).cloned()
}

fn only_entity(client: &PollClient<Dungeon>) -> EntityId {
    client.world().entities().next().map(|(id, _)| id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinds_are_spawned_changed_by_kind_and_mirrored_by_kind() {
    let running = serve(dungeon()).await;
    let mut ada = Client::<Dungeon>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot", |c| c.world().is_complete());

    ada.send(ToServer::Summon { name: "orc".into() }).unwrap();
    poll_until(&mut ada, "the orc", |c| c.world().entity_count() == 1);
    let orc = only_entity(&ada);
    let summoned = Monster {
        hp: 3,
        x: 1.0,
        name: "orc".into(),
    };
    assert_eq!(thing(&ada, orc), Some(Thing::Monster(summoned.clone())));

    // A hit changes one field of the monster: only that field, under its kind.
    ada.send(ToServer::Hit { id: orc }).unwrap();
    let changes = poll_until(&mut ada, "the hit", |c| {
        matches!(thing(c, orc), Some(Thing::Monster(Monster { hp: 2, .. })))
    });
    let hit = &changes.last().expect("the hit's change").1;
    assert_eq!(
        hit.monster,
        Some(MonsterDelta {
            hp: Some(2),
            x: None,
            name: None
        })
    );
    assert_eq!((hit.loot.as_ref(), hit.arrow.as_ref()), (None, None));

    // Another kind in the same protocol, and a newcomer's snapshot of both.
    ada.send(ToServer::Shoot { x: 5.0 }).unwrap();
    poll_until(&mut ada, "the arrow", |c| c.world().entity_count() == 2);
    let mut bob = Client::<Dungeon>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut bob, "bob's snapshot", |c| {
        c.world().is_complete() && c.world().entity_count() == 2
    });
    let kinds: Vec<&str> = {
        let mut kinds: Vec<&str> = bob.world().entities().map(|(_, t)| t.kind_name()).collect();
        kinds.sort_unstable();
        kinds
    };
    assert_eq!(kinds, ["arrow", "monster"]);
    assert_eq!(
        thing(&bob, orc),
        Some(Thing::Monster(Monster { hp: 2, ..summoned }))
    );

    // The last hit turns the monster into loot: every mirror replaces it whole.
    ada.send(ToServer::Hit { id: orc }).unwrap();
    ada.send(ToServer::Hit { id: orc }).unwrap();
    for client in [&mut ada, &mut bob] {
        poll_until(client, "the loot", |c| {
            thing(c, orc) == Some(Thing::Loot(Loot { gold: 7 }))
        });
    }
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_change_is_one_entry_with_the_whole_new_kind_on_the_wire() {
    let running = serve(dungeon()).await;
    let mut ada = Client::<Dungeon>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot", |c| c.world().is_complete());
    ada.send(ToServer::Summon { name: "rat".into() }).unwrap();
    poll_until(&mut ada, "the rat", |c| c.world().entity_count() == 1);
    let rat = only_entity(&ada);

    // What the client decoded from the wire, entry by entry.
    for _ in 0..3 {
        ada.send(ToServer::Hit { id: rat }).unwrap();
    }
    let changes = poll_until(&mut ada, "the loot", |c| {
        matches!(thing(c, rat), Some(Thing::Loot(_)))
    });
    let entry = changes
        .into_iter()
        .find_map(|(id, delta)| (id == rat && delta.loot.is_some()).then_some(delta))
        .expect("the loot's entry");
    // The new kind whole, and nothing of the old one.
    assert_eq!(entry.loot, Some(LootDelta { gold: Some(7) }));
    assert_eq!(entry.monster, None);
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_clients_see_each_entity_under_its_kind() {
    let running = serve(dungeon()).await;
    let mut carl = JsonClient::connect(&running.url()).await;
    carl.send("shoot", json!({"x": 1.5})).await;
    let sync = within("the arrow's frame", async {
        loop {
            let sync = carl.next_event("__state_sync__").await;
            if sync.get("entities").is_some() {
                break sync;
            }
        }
    })
    .await;
    let entities = sync["entities"].as_object().unwrap();
    assert_eq!(entities.len(), 1);
    let (_, state) = entities.iter().next().unwrap();
    assert_eq!(state, &json!({"arrow": {"x": 1.5, "dx": 2.0}}));
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_mirrors_each_entity_by_kind() {
    use nodelink::Protocol;
    let running = serve(dungeon()).await;
    let schema = std::env::temp_dir().join(format!("dungeon-{}.json", std::process::id()));
    std::fs::write(&schema, Dungeon::schema().to_json()).unwrap();
    let script = nodelink_tests::typescript_package().join("dist/test/e2e/entities-client.js");
    let mut command = tokio::process::Command::new("node");
    command.arg(script).arg(running.url()).arg(&schema);
    let mut ts = nodelink_tests::ChildReports::spawn("the TypeScript client", &mut command, true);
    ts.expect("connect").await;

    let send = |event: &str, data: serde_json::Value| json!({ "cmd": "send", "event": event, "data": data });
    ts.command(&send("summon", json!({ "name": "imp" }))).await;
    let id = ts
        .expect_where("entities", |report| {
            let entities = report["entities"].as_object()?;
            let (id, thing) = entities.iter().next()?;
            (thing == &json!({ "monster": { "hp": 3, "x": 1, "name": "imp" } })).then(|| id.clone())
        })
        .await;
    // A hit: the monster's hp alone changes; then it dies and leaves loot.
    ts.command(&send("hit", json!({ "id": id.parse::<u32>().unwrap() })))
        .await;
    ts.expect_where("entities", |report| {
        (report["entities"][&id] == json!({ "monster": { "hp": 2, "x": 1, "name": "imp" } }))
            .then_some(())
    })
    .await;
    for _ in 0..2 {
        ts.command(&send("hit", json!({ "id": id.parse::<u32>().unwrap() })))
            .await;
    }
    ts.expect_where("entities", |report| {
        // The value is the loot, whole: nothing of the monster is left.
        (report["entities"][&id] == json!({ "loot": { "gold": 7 } })).then_some(())
    })
    .await;
    ts.command(&send("shoot", json!({ "x": 4.5 }))).await;
    ts.expect_where("entities", |report| {
        let entities = report["entities"].as_object()?;
        entities
            .values()
            .any(|thing| thing == &json!({ "arrow": { "x": 4.5, "dx": 2 } }))
            .then_some(())
    })
    .await;
    ts.command(&json!({ "cmd": "exit" })).await;
    ts.exited().await;
    let _ = std::fs::remove_file(&schema);
    within("stopping", running.stop()).await;
}
