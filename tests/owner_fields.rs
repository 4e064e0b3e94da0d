//! `#[sync(owner)]` fields reach only the player whose state they are, on both
//! wires: in tick frames, in a newcomer's snapshot, and never in what the other
//! players mirror.

use std::time::{Duration, Instant};

use nodelink::client::{Client, PollClient};
use nodelink::server::Server;
use nodelink::{PlayerId, Protocol, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient, DEADLINE};
use serde_json::json;

/// A card game: where a player sits is public, its hand and gold are its own.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Seat {
    pub(crate) x: f32,
    #[sync(owner)]
    pub(crate) hand: Vec<u8>,
    #[sync(owner)]
    pub(crate) gold: u32,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Draw { card: u8 },
    Move { x: f32 },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {}

#[nodelink::protocol(state = Seat, to_server = ToServer, to_client = ToClient)]
pub(crate) struct Cards;

/// Polls `client` (blocking this worker only) until `done` holds of it.
fn poll_until(
    client: &mut PollClient<Cards>,
    what: &str,
    done: impl Fn(&PollClient<Cards>) -> bool,
) {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            client.wait(Duration::from_millis(20));
        }
    });
}

fn seat(client: &PollClient<Cards>, id: PlayerId) -> Seat {
    client.world().get(id).cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_fields_reach_their_owner_only_on_both_wires() {
    let mut server = Server::<Cards>::new(local_config());
    server.on_draw(|ctx, ToServerDraw { card }| {
        let mut hand = ctx.player().state().hand.clone();
        hand.push(card);
        ctx.player().state_mut().set_hand(hand);
    });
    server.on_move(|ctx, ToServerMove { x }| {
        ctx.player().state_mut().set_x(x);
    });
    server.on_connect(|ctx| {
        ctx.player().state_mut().set_gold(100);
    });
    let running = serve(server).await;

    let mut ada = Client::<Cards>::from_url(running.url()).spawn().unwrap();
    poll_until(&mut ada, "ada's gold", |c| {
        c.id().is_some_and(|id| seat(c, id).gold == 100) && c.world().is_complete()
    });
    let ada_id = ada.id().unwrap();
    let mut bob = Client::<Cards>::from_url(running.url()).spawn().unwrap();
    // bob's snapshot holds his own gold, not ada's.
    poll_until(&mut bob, "bob's gold in his snapshot", |c| {
        c.id().is_some_and(|id| seat(c, id).gold == 100) && c.world().is_complete()
    });
    let bob_id = bob.id().unwrap();
    assert!(bob.world().get(ada_id).is_some(), "bob mirrors ada");
    assert_eq!(seat(&bob, ada_id).gold, 0, "ada's gold is hers alone");

    let mut carl = JsonClient::connect(&running.url()).await;
    let carl_id = carl.id.clone();
    carl.world_where("carl's own gold", |world| {
        world.get(&carl_id).is_some_and(|seat| seat["gold"] == 100)
    })
    .await;

    ada.send(ToServer::Draw { card: 7 }).unwrap();
    ada.send(ToServer::Move { x: 1.5 }).unwrap();
    bob.send(ToServer::Draw { card: 9 }).unwrap();
    poll_until(&mut ada, "ada's hand", |c| seat(c, ada_id).hand == [7]);
    poll_until(&mut bob, "ada's move and bob's hand", |c| {
        seat(c, ada_id).x == 1.5 && seat(c, bob_id).hand == [9]
    });
    poll_until(&mut ada, "bob's arrival in ada's mirror", |c| {
        c.world().get(bob_id).is_some()
    });
    assert_eq!(
        seat(&bob, ada_id).hand,
        Vec::<u8>::new(),
        "bob never sees ada's hand"
    );
    assert_eq!(
        seat(&ada, bob_id).hand,
        Vec::<u8>::new(),
        "ada never sees bob's hand"
    );
    assert_eq!(seat(&ada, bob_id).gold, 0);

    let ada_hex = ada_id.to_string();
    carl.world_where("ada's move", |world| {
        world.get(&ada_hex).is_some_and(|seat| seat["x"] == 1.5)
    })
    .await;
    let ada_as_carl_sees = &carl.world[&ada_hex];
    assert_eq!(ada_as_carl_sees, &json!({"x": 1.5}), "no owner field, ever");
    assert!(carl.world[&bob_id.to_string()].get("hand").is_none());

    within("stopping", running.stop()).await;
}

#[test]
fn the_schema_marks_owner_fields() {
    let schema: serde_json::Value = serde_json::from_str(&Cards::schema().to_json()).unwrap();
    assert_eq!(
        schema["state"]["fields"],
        json!([
            {"name": "x", "index": 0, "type": "f32"},
            {"name": "hand", "index": 1, "type": {"seq": "u8"}, "owner": true},
            {"name": "gold", "index": 2, "type": "u32", "owner": true}
        ])
    );
    assert_eq!(
        <Seat as SyncState>::OWNER,
        nodelink::FieldMask::from_bits(0b110)
    );
}
