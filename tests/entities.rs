//! Server-owned entities: spawned, changed and despawned by handlers, mirrored by
//! native and JSON clients, in newcomers' snapshots, and scoped by rooms.

use std::time::{Duration, Instant};

use nodelink::client::{Client, ClientEvent, PollClient};
use nodelink::server::{Server, SyncScope};
use nodelink::{EntityId, Protocol, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient, DEADLINE};
use serde_json::json;

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Avatar {
    pub(crate) x: f32,
}

/// A crate on the floor: where it is and what it holds are public; what the
/// server keeps secret never leaves it.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Crate {
    pub(crate) x: f32,
    pub(crate) kind: u8,
    #[sync(owner)]
    pub(crate) secret: u8,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Drop { x: f32, room: Option<String> },
    Push { id: EntityId, x: f32 },
    Take { id: EntityId },
    Enter { room: String },
    Exit { room: String },
    Walk { x: f32 },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {
    Dropped { id: EntityId },
}

#[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, entity = Crate)]
pub(crate) struct Floor;

fn floor(scope: SyncScope) -> Server<Floor> {
    let mut server = Server::<Floor>::new(local_config().sync_scope(scope));
    server.on_drop(|ctx, ToServerDrop { x, room }| {
        let entity = Crate {
            x,
            kind: 1,
            secret: 42,
        };
        let id = match room {
            Some(room) => ctx.spawn_in(&room, entity),
            None => ctx.spawn(entity),
        };
        ctx.broadcast(ToClient::Dropped { id });
    });
    server.on_push(|ctx, ToServerPush { id, x }| {
        if let Some(mut entity) = ctx.entity_mut(id) {
            entity.set_x(x);
        }
    });
    server.on_take(|ctx, ToServerTake { id }| {
        ctx.despawn(id);
    });
    server.on_enter(|ctx, ToServerEnter { room }| {
        let id = ctx.id();
        ctx.create_room(&room).add(id);
    });
    server.on_walk(|ctx, ToServerWalk { x }| {
        ctx.player().state_mut().set_x(x);
    });
    server.on_exit(|ctx, ToServerExit { room }| {
        let id = ctx.id();
        if let Some(mut room) = ctx.room_mut(&room) {
            room.remove(id);
        }
    });
    server
}

/// Polls `client` (blocking this worker only) until `done` holds; returns the
/// entities it saw spawned and despawned on the way.
fn poll_until(
    client: &mut PollClient<Floor>,
    what: &str,
    done: impl Fn(&PollClient<Floor>) -> bool,
) -> (Vec<EntityId>, Vec<EntityId>) {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        let (mut spawned, mut despawned) = (Vec::new(), Vec::new());
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            for event in client.wait(Duration::from_millis(20)) {
                if let ClientEvent::StateSync(sync) = event {
                    spawned.extend(sync.spawned);
                    despawned.extend(sync.despawned);
                }
            }
        }
        (spawned, despawned)
    })
}

fn crate_x(client: &PollClient<Floor>, id: EntityId) -> Option<f32> {
    client.world().entity(id).map(|c| c.x)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entities_are_spawned_changed_despawned_and_in_newcomers_snapshots() {
    let running = serve(floor(SyncScope::Everyone)).await;
    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot", |c| c.world().is_complete());

    ada.send(ToServer::Drop { x: 1.5, room: None }).unwrap();
    let (spawned, _) = poll_until(&mut ada, "the crate", |c| c.world().entity_count() == 1);
    let (id, seen) = ada
        .world()
        .entities()
        .next()
        .map(|(id, c)| (id, c.clone()))
        .unwrap();
    assert_eq!(spawned, [id], "the spawn is reported once");
    assert_eq!(
        seen,
        Crate {
            x: 1.5,
            kind: 1,
            secret: 0
        },
        "every field but the server's own"
    );

    // A newcomer finds it in its snapshot.
    let mut bob = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut bob, "bob's snapshot with the crate", |c| {
        c.world().is_complete() && crate_x(c, id) == Some(1.5)
    });

    ada.send(ToServer::Push { id, x: 4.0 }).unwrap();
    poll_until(&mut bob, "the push", |c| crate_x(c, id) == Some(4.0));
    ada.send(ToServer::Take { id }).unwrap();
    let (_, despawned) = poll_until(&mut bob, "the crate gone", |c| {
        c.world().entity_count() == 0
    });
    assert_eq!(despawned, [id]);
    poll_until(&mut ada, "the crate gone for ada", |c| {
        c.world().entity_count() == 0
    });
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_clients_see_entities_by_id_without_their_server_fields() {
    let running = serve(floor(SyncScope::Everyone)).await;
    let mut carl = JsonClient::connect(&running.url()).await;
    carl.send("drop", json!({"x": 2.5, "room": null})).await;
    let sync = within("the crate's frame", async {
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
    let (id, state) = entities.iter().next().unwrap();
    assert_eq!(state, &json!({"x": 2.5, "kind": 1}), "no owner field");
    let id: u32 = id.parse().unwrap();
    carl.send("take", json!({"id": id})).await;
    let sync = within("the despawn", async {
        loop {
            let sync = carl.next_event("__state_sync__").await;
            if sync.get("despawned").is_some() {
                break sync;
            }
        }
    })
    .await;
    assert_eq!(sync["despawned"], json!([id]));
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_room_scoped_sync_a_room_s_entities_are_seen_by_its_members() {
    let running = serve(floor(SyncScope::Rooms)).await;
    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    let mut bob = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    ada.send(ToServer::Enter { room: "red".into() }).unwrap();
    bob.send(ToServer::Enter {
        room: "blue".into(),
    })
    .unwrap();
    poll_until(&mut ada, "ada in red", |c| c.world().is_complete());
    poll_until(&mut bob, "bob in blue", |c| c.world().is_complete());

    ada.send(ToServer::Drop {
        x: 1.0,
        room: Some("red".into()),
    })
    .unwrap();
    ada.send(ToServer::Drop { x: 9.0, room: None }).unwrap();
    poll_until(&mut ada, "red's crate and the shared one", |c| {
        c.world().entity_count() == 2
    });
    poll_until(&mut bob, "only the shared crate", |c| {
        c.world().entities().any(|(_, e)| e.x == 9.0)
    });
    assert_eq!(
        bob.world().entity_count(),
        1,
        "red's crate is not bob's to see"
    );

    // Bob enters red: he sees its crate; ada leaves it: she forgets it.
    bob.send(ToServer::Enter { room: "red".into() }).unwrap();
    poll_until(&mut bob, "red's crate", |c| c.world().entity_count() == 2);
    ada.send(ToServer::Exit { room: "red".into() }).unwrap();
    poll_until(&mut ada, "red's crate forgotten", |c| {
        c.world().entity_count() == 1 && c.world().entities().all(|(_, e)| e.x == 9.0)
    });
    within("stopping", running.stop()).await;
}

#[test]
fn the_schema_describes_the_entity_and_hashes_it() {
    let schema = Floor::schema();
    assert_eq!(schema.fingerprint(), Floor::FINGERPRINT);
    let json: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(
        json["entity"],
        json!({"name": "Crate", "fields": [
            {"name": "x", "index": 0, "type": "f32"},
            {"name": "kind", "index": 1, "type": "u8"},
            {"name": "secret", "index": 2, "type": "u8", "owner": true}
        ]})
    );
    assert_eq!(
        json["to_server"]["events"][1]["fields"][0],
        json!({"name": "id", "type": "entity_id"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handle_spawns_changes_and_despawns_from_anywhere() {
    let running = serve(floor(SyncScope::Everyone)).await;
    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot", |c| c.world().is_complete());

    let handle = running.handle.clone();
    let id = within(
        "a spawn",
        handle.spawn(Crate {
            x: 3.0,
            kind: 2,
            secret: 1,
        }),
    )
    .await
    .unwrap();
    poll_until(&mut ada, "the handle's crate", |c| {
        crate_x(c, id) == Some(3.0)
    });

    // From a plain thread, as a console or a timer would.
    let from_thread = handle.clone();
    let changed = std::thread::spawn(move || {
        futures::executor::block_on(from_thread.update_entity(id, |c| c.x = 5.0))
    })
    .join()
    .unwrap()
    .unwrap();
    assert!(changed);
    poll_until(&mut ada, "the change", |c| crate_x(c, id) == Some(5.0));
    let listed = within("the entities", handle.entities()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].0, listed[0].1.secret),
        (id, 1),
        "the server's copy has it all"
    );

    let gone = within("a despawn", handle.despawn(id)).await.unwrap();
    assert_eq!(gone.map(|c| c.x), Some(5.0));
    assert!(
        !within("a change to nothing", handle.update_entity(id, |_| {}))
            .await
            .unwrap()
    );
    poll_until(&mut ada, "the crate gone", |c| {
        c.world().entity_count() == 0
    });
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visibility_hook_decides_what_each_player_sees() {
    let mut server = floor(SyncScope::Everyone);
    // Fog of war: a player sees the crates within 5 units of itself.
    server.entity_visibility(|player, _, entity| (player.state().x - entity.x).abs() <= 5.0);
    let running = serve(server).await;
    let handle = running.handle.clone();
    let near = within(
        "a spawn",
        handle.spawn(Crate {
            x: 1.0,
            kind: 1,
            secret: 0,
        }),
    )
    .await
    .unwrap();
    let far = within(
        "a spawn",
        handle.spawn(Crate {
            x: 99.0,
            kind: 2,
            secret: 0,
        }),
    )
    .await
    .unwrap();

    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot, near crate only", |c| {
        c.world().is_complete() && c.world().entity_count() == 1 && crate_x(c, near) == Some(1.0)
    });
    let mut bob = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    bob.send(ToServer::Walk { x: 100.0 }).unwrap();
    poll_until(&mut bob, "bob by the far crate", |c| {
        crate_x(c, far) == Some(99.0) && c.world().entity(near).is_none()
    });

    // A change reaches only those who see the crate.
    within("a change", handle.update_entity(near, |c| c.kind = 7))
        .await
        .unwrap();
    poll_until(&mut ada, "the change", |c| {
        c.world().entity(near).is_some_and(|c| c.kind == 7)
    });
    assert!(bob.world().entity(near).is_none());

    // Ada walks over: the near crate leaves her view, the far one enters it.
    ada.send(ToServer::Walk { x: 98.0 }).unwrap();
    let (spawned, despawned) = poll_until(&mut ada, "the view moved", |c| {
        c.world().entity(near).is_none() && crate_x(c, far) == Some(99.0)
    });
    assert_eq!((spawned, despawned), (vec![far], vec![near]));

    // Back by the near crate; then a snapshot for everyone at once: each client
    // still gets only the crates it sees, not another player's view.
    ada.send(ToServer::Walk { x: 0.0 }).unwrap();
    poll_until(&mut ada, "ada by the near crate again", |c| {
        crate_x(c, near).is_some() && c.world().entity(far).is_none()
    });
    handle.sync_state(true).unwrap();
    for (client, sees, not) in [(&mut ada, near, far), (&mut bob, far, near)] {
        tokio::task::block_in_place(|| {
            let deadline = Instant::now() + DEADLINE;
            loop {
                assert!(
                    Instant::now() < deadline,
                    "timed out waiting for the snapshot"
                );
                let full = client.wait(Duration::from_millis(20)).into_iter().any(|event| {
                    matches!(event, ClientEvent::StateSync(sync) if sync.full && !sync.more)
                });
                if full {
                    break;
                }
            }
        });
        assert!(client.world().entity(sees).is_some(), "its own crate");
        assert!(client.world().entity(not).is_none(), "not the other's");
    }
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_with_the_same_view_share_one_encoded_frame() {
    let mut server = floor(SyncScope::Everyone);
    server.entity_visibility(|player, _, entity| (player.state().x - entity.x).abs() <= 5.0);
    // Every crate changes on every tick.
    server.on_tick(|ctx, _| {
        let ids: Vec<EntityId> = ctx.entities().map(|(id, _)| id).collect();
        for id in ids {
            ctx.update_entity(id, |c| c.kind = c.kind.wrapping_add(1));
        }
    });
    let running = serve(server).await;
    let handle = running.handle.clone();
    for x in [1.0, 99.0] {
        let spawn = handle.spawn(Crate {
            x,
            kind: 0,
            secret: 0,
        });
        within("a spawn", spawn).await.unwrap();
    }

    // Three players stay by the near crate, three walk to the far one: two views.
    let mut players = Vec::new();
    for i in 0..6 {
        let client = Client::<Floor>::from_url(running.url()).spawn().unwrap();
        let x = if i % 2 == 0 { 0.0 } else { 100.0 };
        client.send(ToServer::Walk { x }).unwrap();
        players.push((client, x));
    }
    for (client, x) in &mut players {
        let x = *x;
        poll_until(client, "a view of one crate, changing", |c| {
            let id = c.id();
            let placed = id
                .and_then(|id| c.world().get(id))
                .is_some_and(|a| a.x == x);
            let seen: Vec<f32> = c.world().entities().map(|(_, e)| e.x).collect();
            placed && seen.len() == 1 && (seen[0] - x).abs() <= 5.0
        });
    }

    // From now on only the crates change: each tick is one frame per view.
    let before = within("stats", handle.stats()).await.unwrap();
    let after = within("ten more ticks", async {
        loop {
            let stats = handle.stats().await.unwrap();
            if stats.ticks >= before.ticks + 10 {
                return stats;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    let ticks = after.ticks - before.ticks;
    let frames = after.frames - before.frames;
    assert_eq!(
        frames,
        2 * ticks,
        "{frames} frames in {ticks} ticks: one per view, not one per player"
    );
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_asks_whether_a_player_sees_an_entity() {
    let mut server = floor(SyncScope::Rooms);
    server.entity_visibility(|player, _, entity| (player.state().x - entity.x).abs() <= 5.0);
    // Taking a crate works only on one the player sees: out of sight (the
    // visibility rule) or out of its rooms (room-scoped sync) it stays.
    let (told, mut answers) = tokio::sync::mpsc::unbounded_channel();
    server.on_take(move |ctx, ToServerTake { id }| {
        let me = ctx.id();
        let seen = ctx.sees_entity(me, id);
        if seen {
            ctx.despawn(id);
        }
        let _ = told.send((id, seen));
    });
    let running = serve(server).await;
    let handle = running.handle.clone();
    let spawn = |x: f32, room: Option<&str>| {
        let handle = handle.clone();
        let room = room.map(str::to_owned);
        async move {
            let entity = Crate {
                x,
                kind: 1,
                secret: 0,
            };
            let spawning = match room {
                Some(room) => handle.spawn_in(&room, entity).await,
                None => handle.spawn(entity).await,
            };
            spawning.unwrap()
        }
    };
    let near = within("a spawn", spawn(1.0, None)).await;
    let far = within("a spawn", spawn(99.0, None)).await;
    let in_crypt = within("a spawn", spawn(2.0, Some("crypt"))).await;

    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's snapshot", |c| {
        c.world().is_complete() && crate_x(c, near) == Some(1.0)
    });
    let take = |id: EntityId| {
        ada.send(ToServer::Take { id }).unwrap();
        id
    };
    let asked = [take(far), take(in_crypt), take(EntityId::from_raw(12345))];
    for id in asked {
        let answer = within("the handler's answer", answers.recv()).await;
        assert_eq!(answer, Some((id, false)), "{id} is out of ada's sight");
    }
    take(near);
    assert_eq!(
        within("the handler's answer", answers.recv()).await,
        Some((near, true))
    );
    ada.send(ToServer::Enter {
        room: "crypt".into(),
    })
    .unwrap();
    poll_until(&mut ada, "the crypt's crate in view", |c| {
        crate_x(c, in_crypt) == Some(2.0)
    });
    ada.send(ToServer::Take { id: in_crypt }).unwrap();
    assert_eq!(
        within("the handler's answer", answers.recv()).await,
        Some((in_crypt, true))
    );
    poll_until(&mut ada, "both taken crates gone", |c| {
        c.world().entity(near).is_none() && c.world().entity(in_crypt).is_none()
    });
    assert!(ada.world().entity(far).is_none(), "never in view");
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visibility_rule_with_context_sees_the_entity_s_room() {
    // Everyone's scope, so the rule alone decides: a crate in a room is seen by
    // that room's members within 5 units, a crate in no room by everyone near.
    let mut server = floor(SyncScope::Everyone);
    server.entity_visibility_with(|sight| {
        let near = (sight.player.state().x - sight.entity.x).abs() <= 5.0;
        near && sight.room.is_none_or(|room| sight.player.in_room(room))
    });
    let running = serve(server).await;
    let handle = running.handle.clone();
    let open = within(
        "a spawn",
        handle.spawn(Crate {
            x: 1.0,
            kind: 1,
            secret: 0,
        }),
    )
    .await
    .unwrap();
    let locked = within(
        "a spawn",
        handle.spawn_in(
            "vault",
            Crate {
                x: 2.0,
                kind: 2,
                secret: 0,
            },
        ),
    )
    .await
    .unwrap();

    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "the open crate only", |c| {
        c.world().is_complete() && crate_x(c, open) == Some(1.0) && c.world().entity_count() == 1
    });
    ada.send(ToServer::Enter {
        room: "vault".into(),
    })
    .unwrap();
    poll_until(&mut ada, "the vault's crate once inside", |c| {
        crate_x(c, locked) == Some(2.0)
    });
    ada.send(ToServer::Walk { x: 50.0 }).unwrap();
    poll_until(&mut ada, "nothing once far away", |c| {
        c.world().entity_count() == 0
    });
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_changes_entities_while_reading_players() {
    let mut server = floor(SyncScope::Everyone);
    // A walker pulls every crate within 5 units along to where it stops.
    server.on_walk(|ctx, ToServerWalk { x }| {
        let me = ctx.id();
        ctx.player().state_mut().set_x(x);
        let (players, mut crates) = ctx.split_mut();
        let Some(walker) = players.get(me) else {
            return;
        };
        let to = walker.state().x;
        for (_, mut pulled) in crates.iter_mut() {
            if (pulled.x - to).abs() <= 5.0 {
                pulled.set_x(to);
            }
        }
    });
    let running = serve(server).await;
    let handle = running.handle.clone();
    let mut spawned = Vec::new();
    for x in [1.0, 3.0, 50.0] {
        let id = within(
            "a spawn",
            handle.spawn(Crate {
                x,
                kind: 1,
                secret: 0,
            }),
        )
        .await
        .unwrap();
        spawned.push(id);
    }
    let mut ada = Client::<Floor>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "three crates", |c| c.world().entity_count() == 3);
    ada.send(ToServer::Walk { x: 4.0 }).unwrap();
    poll_until(&mut ada, "the near crates pulled along", |c| {
        crate_x(c, spawned[0]) == Some(4.0) && crate_x(c, spawned[1]) == Some(4.0)
    });
    assert_eq!(crate_x(&ada, spawned[2]), Some(50.0), "the far one stays");
    within("stopping", running.stop()).await;
}
