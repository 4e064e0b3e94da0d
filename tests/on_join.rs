//! `on_join`: what it makes of a newcomer (its state, its rooms, the entities it
//! sees from there) is in the newcomer's very first snapshot, on both wires; the
//! newcomer never shows up with its `Default` state first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nodelink::client::Client;
use nodelink::server::{Server, SyncScope};
use nodelink::{EntityId, IdMap, PlayerId, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient};
use serde_json::json;
use tokio::sync::mpsc;

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Camper {
    pub(crate) x: f32,
    pub(crate) team: u8,
}

#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Tent {
    pub(crate) x: f32,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Wave,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {
    Hello { team: u8 },
}

#[nodelink::protocol(state = Camper, to_server = ToServer, to_client = ToClient, entity = Tent)]
pub(crate) struct Camp;

/// The n-th camper (from 1) starts at `10 * n` in team `n % 2`, in its team's room.
fn camp(scope: SyncScope) -> Server<Camp> {
    let mut server = Server::<Camp>::new(local_config().sync_scope(scope));
    server.on_wave(|_| {});
    server.on_join(|ctx| {
        let n = ctx.player_count() as u8;
        let id = ctx.id();
        ctx.player()
            .state_mut()
            .set_x(10.0 * f32::from(n))
            .set_team(n % 2);
        ctx.create_room(&format!("team-{}", n % 2)).add(id);
        let _ = ctx.send_to(id, ToClient::Hello { team: n % 2 });
    });
    server
}

/// What a native client's mirror held right after its first sync frame.
struct FirstMirror {
    id: PlayerId,
    players: IdMap<Camper>,
    entities: Vec<(EntityId, f32)>,
    complete: bool,
    /// Whether `on_join`'s event arrived before this frame.
    hello_first: bool,
}

/// Connects a native client and returns its mirror as of its first sync frame.
async fn first_mirror(url: &str) -> FirstMirror {
    let mut client = Client::<Camp>::from_url(url);
    let (tx, mut first) = mpsc::unbounded_channel();
    let hello = Arc::new(AtomicBool::new(false));
    let heard = hello.clone();
    client.on_hello(move |_, ToClientHello { .. }| heard.store(true, Ordering::SeqCst));
    client.on_state_sync(move |ctx, _| {
        let world = ctx.world();
        let _ = tx.send(FirstMirror {
            id: ctx.id(),
            players: world.as_map().clone(),
            entities: world.entities().map(|(id, tent)| (id, tent.x)).collect(),
            complete: world.is_complete(),
            hello_first: hello.load(Ordering::SeqCst),
        });
    });
    tokio::spawn(client.run());
    within("the first sync", first.recv())
        .await
        .expect("a sync frame")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_join_state_and_rooms_are_in_the_newcomers_first_snapshot_on_both_wires() {
    let running = serve(camp(SyncScope::Rooms)).await;
    let url = running.url();

    // 1: ada, native, team 1. Her first mirror already has her own state.
    let ada = first_mirror(&url).await;
    assert!(ada.complete, "one frame holds the whole world");
    assert!(!ada.hello_first, "on_join's events follow the snapshot");
    assert_eq!(ada.players.get(&ada.id), Some(&Camper { x: 10.0, team: 1 }));
    assert_eq!(ada.players.len(), 1);

    // 2: bob, JSON, team 0: his first sync holds his state, and nobody of team 1.
    let mut bob = JsonClient::connect(&url).await;
    let (event, first) = bob.next_frame("bob's first frame after the welcome").await;
    assert_eq!(event, "__state_sync__", "the snapshot comes first: {first}");
    assert_eq!(first["full"], true, "{first}");
    assert_eq!(
        first["players"],
        json!({ bob.id.clone(): {"x": 20.0, "team": 0} }),
        "bob's first sync"
    );
    assert_eq!(bob.next_event("hello").await, json!({"team": 0}));

    // 3: cy, native, team 1: ada's room. His first mirror: ada and himself as
    // `on_join` made him, not bob.
    let cy = first_mirror(&url).await;
    assert!(cy.complete);
    let expected: IdMap<Camper> = [
        (ada.id, Camper { x: 10.0, team: 1 }),
        (cy.id, Camper { x: 30.0, team: 1 }),
    ]
    .into_iter()
    .collect();
    assert_eq!(cy.players, expected, "cy's first mirror");

    // 4: dee, JSON, team 0: bob and herself in her first sync.
    let mut dee = JsonClient::connect(&url).await;
    let first = dee.next_event("__state_sync__").await;
    assert_eq!(
        first["players"],
        json!({
            bob.id.clone(): {"x": 20.0, "team": 0},
            dee.id.clone(): {"x": 40.0, "team": 0},
        }),
        "dee's first sync"
    );
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entities_a_newcomer_sees_are_chosen_from_where_on_join_put_it() {
    let mut server = camp(SyncScope::Everyone);
    // A camper sees the tents within 5 units of itself.
    server.entity_visibility(|player, _, tent| (player.state().x - tent.x).abs() <= 5.0);
    let running = serve(server).await;
    let by_the_origin = within("a spawn", running.handle.spawn(Tent { x: 0.0 }))
        .await
        .unwrap();
    let by_the_first = within("a spawn", running.handle.spawn(Tent { x: 12.0 }))
        .await
        .unwrap();
    let by_the_second = within("a spawn", running.handle.spawn(Tent { x: 21.0 }))
        .await
        .unwrap();

    // The first camper starts at 10: it sees the tent at 12, never the one at 0
    // that a camper at its `Default` position would.
    let ada = first_mirror(&running.url()).await;
    assert_eq!(ada.entities, vec![(by_the_first, 12.0)]);
    assert!(!ada.entities.iter().any(|(id, _)| *id == by_the_origin));

    // The second starts at 20, on JSON: the tent at 21 only.
    let mut bob = JsonClient::connect(&running.url()).await;
    let first = bob.next_event("__state_sync__").await;
    assert_eq!(
        first["entities"],
        json!({ by_the_second.to_string(): {"x": 21.0} }),
        "bob's first sync"
    );
    within("stopping", running.stop()).await;
}
