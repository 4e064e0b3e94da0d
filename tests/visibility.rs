//! Per-recipient visibility of players and of tagged fields, on both wires: a
//! player visibility rule hides players from each other (composed with rooms),
//! frames are encoded once per distinct view, a tag's rule decides who besides
//! the owner gets its fields (checked on the raw bytes of every frame), and a
//! handler asks the same questions the sync answers.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use nodelink::client::{Client, PollClient};
use nodelink::server::{Server, ServerHandle, SyncScope};
use nodelink::wire::{decode_server_frame, NetId, ServerFrame};
use nodelink::{PlayerId, Protocol, SyncState};
use nodelink_tests::{local_config, serve, within, JsonClient, DEADLINE};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// A soldier: its team and position are public, its ammo goes to its team.
#[derive(SyncState, Clone, Debug, Default, PartialEq)]
pub(crate) struct Soldier {
    pub(crate) team: u8,
    pub(crate) x: f32,
    #[sync(tag = "team")]
    pub(crate) ammo: u32,
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToServer {
    Enlist { team: u8 },
    Walk { x: f32 },
    Reload { ammo: u32 },
    Spot { other: PlayerId },
    Enter { room: String },
}

#[nodelink::events]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToClient {
    Spotted { other: PlayerId, seen: bool },
}

#[nodelink::protocol(state = Soldier, to_server = ToServer, to_client = ToClient)]
pub(crate) struct Squad;

fn squad(scope: SyncScope) -> Server<Squad> {
    let mut server = Server::<Squad>::new(local_config().sync_scope(scope));
    server.on_enlist(|ctx, ToServerEnlist { team }| {
        ctx.player().state_mut().set_team(team);
    });
    server.on_walk(|ctx, ToServerWalk { x }| {
        ctx.player().state_mut().set_x(x);
    });
    server.on_reload(|ctx, ToServerReload { ammo }| {
        ctx.player().state_mut().set_ammo(ammo);
    });
    server.on_spot(|ctx, ToServerSpot { other }| {
        let me = ctx.id();
        let seen = ctx.sees_player(me, other);
        let _ = ctx.send_to(me, ToClient::Spotted { other, seen });
    });
    server.on_enter(|ctx, ToServerEnter { room }| {
        let me = ctx.id();
        ctx.create_room(&room).add(me);
    });
    server
}

/// Polls `client` (blocking this worker only) until `done` holds of it.
fn poll_until(
    client: &mut PollClient<Squad>,
    what: &str,
    done: impl Fn(&PollClient<Squad>) -> bool,
) {
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while !done(client) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            client.wait(Duration::from_millis(20));
        }
    });
}

fn soldier(client: &PollClient<Squad>, id: PlayerId) -> Option<Soldier> {
    client.world().get(id).cloned()
}

/// A client whose own state is `team` and `x`, mirrored back.
fn enlisted(url: &str, team: u8, x: f32) -> (PollClient<Squad>, PlayerId) {
    let mut client = Client::<Squad>::from_url(url.to_owned()).spawn().unwrap();
    client.send(ToServer::Enlist { team }).unwrap();
    client.send(ToServer::Walk { x }).unwrap();
    poll_until(&mut client, "enlisted", |c| {
        c.id()
            .and_then(|id| soldier(c, id))
            .is_some_and(|s| s.team == team && s.x == x)
    });
    let id = client.id().unwrap();
    (client, id)
}

/// Six soldiers, enlisted in teams 1 and 2 by turns: each client, its id, its team.
fn two_teams_of_three(url: &str) -> Vec<(PollClient<Squad>, PlayerId, u8)> {
    (0..6u8)
        .map(|i| {
            let team = 1 + i % 2;
            let mut client = Client::<Squad>::from_url(url.to_owned()).spawn().unwrap();
            client.send(ToServer::Enlist { team }).unwrap();
            poll_until(&mut client, "enlisted", |c| {
                c.id()
                    .and_then(|id| soldier(c, id))
                    .is_some_and(|s| s.team == team)
            });
            let id = client.id().unwrap();
            (client, id, team)
        })
        .collect()
}

/// The server's ticks and sync frames over the next ten ticks.
async fn frames_in_ten_ticks(handle: &ServerHandle<Squad>) -> (u64, u64) {
    let before = handle.stats().await.unwrap();
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
    (after.ticks - before.ticks, after.frames - before.frames)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_sees_only_itself_and_what_the_rule_shows_on_both_wires() {
    let mut server = squad(SyncScope::Everyone);
    // A soldier sees its team, and any soldier standing at x = 0 (the square).
    server.player_visibility(|me, other| {
        me.state().team == other.state().team || other.state().x == 0.0
    });
    let running = serve(server).await;
    let url = running.url();

    let (mut ada, ada_id) = enlisted(&url, 1, 5.0);
    let (mut bob, bob_id) = enlisted(&url, 2, 5.0);
    let mut carl = JsonClient::connect(&url).await;
    carl.send("enlist", json!({"team": 1})).await;
    carl.send("walk", json!({"x": 7.0})).await;
    let carl_id: PlayerId = carl.id.parse().unwrap();
    let (ada_hex, bob_hex) = (ada_id.to_string(), bob_id.to_string());
    carl.world_where("carl sees ada, not bob", |world| {
        world.get(&ada_hex).is_some_and(|s| s["x"] == 5.0) && !world.contains_key(&bob_hex)
    })
    .await;
    poll_until(&mut ada, "ada sees carl, not bob", |c| {
        soldier(c, carl_id).is_some_and(|s| s.x == 7.0) && soldier(c, bob_id).is_none()
    });
    poll_until(&mut bob, "bob sees only himself", |c| {
        c.world().players().count() == 1
    });

    // Ada walks to the square: bob now sees her (whole), she still does not see him.
    ada.send(ToServer::Walk { x: 0.0 }).unwrap();
    poll_until(&mut bob, "ada in bob's mirror", |c| {
        soldier(c, ada_id).is_some_and(|s| s.team == 1 && s.x == 0.0)
    });
    assert!(soldier(&ada, bob_id).is_none(), "the rule is not symmetric");

    // A handler asks the same question the sync answers.
    bob.send(ToServer::Spot { other: ada_id }).unwrap();
    bob.send(ToServer::Spot { other: carl_id }).unwrap();
    let mut answers = BTreeMap::new();
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while answers.len() < 2 {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the answers"
            );
            for event in bob.wait(Duration::from_millis(20)) {
                if let nodelink::client::ClientEvent::Event(ToClient::Spotted { other, seen }) =
                    event
                {
                    answers.insert(other, seen);
                }
            }
        }
    });
    assert_eq!(answers, BTreeMap::from([(ada_id, true), (carl_id, false)]));

    // Ada walks away: she leaves bob's mirror as a player who left.
    ada.send(ToServer::Walk { x: 9.0 }).unwrap();
    poll_until(&mut bob, "ada gone from bob's mirror", |c| {
        soldier(c, ada_id).is_none()
    });

    // Bob changes sides: he comes into both views, whole.
    bob.send(ToServer::Enlist { team: 1 }).unwrap();
    poll_until(&mut ada, "bob in ada's mirror", |c| {
        soldier(c, bob_id).is_some_and(|s| s.team == 1 && s.x == 5.0)
    });
    carl.world_where("bob in carl's mirror", |world| {
        world
            .get(&bob_hex)
            .is_some_and(|s| s["team"] == 1 && s["x"] == 5.0)
    })
    .await;

    // One leaves: those who see it are told, by the rule's view of them.
    drop(bob);
    poll_until(&mut ada, "bob gone", |c| soldier(c, bob_id).is_none());
    carl.world_where("bob gone for carl", |world| !world.contains_key(&bob_hex))
        .await;
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_narrows_what_rooms_allow_and_never_widens_it() {
    let mut server = squad(SyncScope::Rooms);
    server.player_visibility(|me, other| me.state().team == other.state().team);
    let running = serve(server).await;
    let url = running.url();
    let (mut ada, ada_id) = enlisted(&url, 1, 1.0);
    let (mut bob, bob_id) = enlisted(&url, 1, 2.0);
    let (mut cid, cid_id) = enlisted(&url, 2, 3.0);
    // Ada and cid share a room but not a team; ada and bob share a team but, at
    // first, no room.
    for (client, room) in [(&mut ada, "hall"), (&mut cid, "hall"), (&mut bob, "yard")] {
        client.send(ToServer::Enter { room: room.into() }).unwrap();
    }
    bob.send(ToServer::Spot { other: ada_id }).unwrap();
    let mut told = None;
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + DEADLINE;
        while told.is_none() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the answer"
            );
            for event in bob.wait(Duration::from_millis(20)) {
                if let nodelink::client::ClientEvent::Event(ToClient::Spotted { seen, .. }) = event
                {
                    told = Some(seen);
                }
            }
        }
    });
    assert_eq!(told, Some(false), "same team, no shared room: not seen");
    bob.send(ToServer::Enter {
        room: "hall".into(),
    })
    .unwrap();
    poll_until(&mut ada, "bob, once in the hall", |c| {
        soldier(c, bob_id).is_some()
    });
    poll_until(&mut bob, "ada, once in the hall", |c| {
        soldier(c, ada_id).is_some()
    });
    assert!(
        soldier(&ada, cid_id).is_none(),
        "cid: same room, other team"
    );
    poll_until(&mut cid, "cid alone", |c| c.world().players().count() == 1);
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_with_the_same_view_share_one_encoded_frame() {
    let mut server = squad(SyncScope::Everyone);
    server.player_visibility(|me, other| me.state().team == other.state().team);
    server.field_visibility("team", |sight| {
        sight.viewer.state().team == sight.owner.state().team
    });
    // Every soldier moves on every tick; ammo changes only when asked.
    server.on_tick(|ctx, _| {
        for player in ctx.players_mut() {
            let x = player.state().x + 1.0;
            player.state_mut().set_x(x);
        }
    });
    let running = serve(server).await;
    let handle = running.handle.clone();
    let url = running.url();
    let mut soldiers = two_teams_of_three(&url);
    for (client, _, team) in &mut soldiers {
        let team = *team;
        poll_until(client, "its team of three, and no one else", |c| {
            let seen: Vec<u8> = c.world().players().map(|(_, s)| s.team).collect();
            seen.len() == 3 && seen.iter().all(|t| *t == team)
        });
    }

    // Each tick every soldier moved: one frame per team's view, not per soldier.
    let (ticks, frames) = frames_in_ten_ticks(&handle).await;
    assert_eq!(
        frames,
        2 * ticks,
        "{frames} frames in {ticks} ticks: one per view"
    );

    // Each reloads: its teammates get its ammo, the other team never does.
    for (client, _, _) in &soldiers {
        client.send(ToServer::Reload { ammo: 30 }).unwrap();
    }
    for (client, _, team) in &mut soldiers {
        let team = *team;
        poll_until(client, "the team's ammo", |c| {
            c.world()
                .players()
                .all(|(_, s)| s.team == team && s.ammo == 30)
        });
    }
    within("stopping", running.stop()).await;
}

/// A native connection that reads raw frames, for the bytes of every sync frame.
async fn raw_squad(
    url: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().unwrap();
    let offer = nodelink::wire::handshake::subprotocol(<Squad as Protocol>::FINGERPRINT);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offer.parse().unwrap());
    let (socket, _) = within(
        "a raw connection",
        tokio_tungstenite::connect_async(request),
    )
    .await
    .unwrap();
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagged_fields_reach_their_team_only_checked_on_the_raw_bytes() {
    let mut server = squad(SyncScope::Everyone);
    server.field_visibility("team", |sight| {
        sight.viewer.state().team == sight.owner.state().team
    });
    let running = serve(server).await;
    let url = running.url();
    let (mut ada, ada_id) = enlisted(&url, 1, 1.0);
    let (mut bob, bob_id) = enlisted(&url, 2, 2.0);
    let mut carl = JsonClient::connect(&url).await;
    carl.send("enlist", json!({"team": 2})).await;
    let mut raw = raw_squad(&url).await;
    let mut raw_frames: Vec<ServerFrame<Squad>> = Vec::new();
    let mut raw_id = None;
    let mut net_ids: BTreeMap<NetId, PlayerId> = BTreeMap::new();
    // The raw client enlists in team 2, as bob and carl.
    let enlist = nodelink::wire::encode_event(&ToServer::Enlist { team: 2 }).unwrap();
    futures::SinkExt::send(&mut raw, Message::Binary(enlist))
        .await
        .unwrap();

    ada.send(ToServer::Reload { ammo: 11 }).unwrap();
    bob.send(ToServer::Reload { ammo: 22 }).unwrap();
    poll_until(&mut bob, "bob's own ammo", |c| {
        soldier(c, bob_id).is_some_and(|s| s.ammo == 22)
    });
    carl.send("reload", json!({"ammo": 33})).await;
    let carl_id: PlayerId = carl.id.parse().unwrap();
    poll_until(&mut bob, "carl's ammo, a teammate's", |c| {
        soldier(c, carl_id).is_some_and(|s| s.ammo == 33)
    });
    poll_until(&mut ada, "bob and carl, without their ammo", |c| {
        soldier(c, carl_id).is_some_and(|s| s.team == 2) && soldier(c, bob_id).is_some()
    });
    assert_eq!(
        soldier(&ada, bob_id).unwrap().ammo,
        0,
        "another team's ammo"
    );
    assert_eq!(soldier(&ada, carl_id).unwrap().ammo, 0);
    assert_eq!(soldier(&bob, ada_id).unwrap().ammo, 0);
    let ada_hex = ada_id.to_string();
    carl.world_where("bob's ammo, a teammate's", |world| {
        world
            .get(&bob_id.to_string())
            .is_some_and(|s| s["ammo"] == 22)
    })
    .await;
    carl.world_where("ada, moved", |world| world.contains_key(&ada_hex))
        .await;
    assert!(
        carl.world[&ada_hex].get("ammo").is_none(),
        "never in a JSON frame"
    );

    // Ada changes sides: from then on team 2 gets her ammo, whole, and she theirs.
    ada.send(ToServer::Enlist { team: 2 }).unwrap();
    poll_until(&mut bob, "ada's ammo, now a teammate's", |c| {
        soldier(c, ada_id).is_some_and(|s| s.ammo == 11)
    });
    poll_until(&mut ada, "her new team's ammo", |c| {
        soldier(c, bob_id).is_some_and(|s| s.ammo == 22)
            && soldier(c, carl_id).is_some_and(|s| s.ammo == 33)
    });

    // The raw client saw team 1's ammo only after ada joined team 2.
    within("the raw client's frames", async {
        loop {
            let Some(Ok(message)) = raw.next().await else {
                panic!("the raw connection ended");
            };
            let Message::Binary(bytes) = message else {
                continue;
            };
            let frame = decode_server_frame::<Squad>(&bytes, usize::MAX).unwrap();
            if let ServerFrame::Welcome(welcome) = &frame {
                raw_id = Some(welcome.player);
            }
            let done = match &frame {
                ServerFrame::Sync(sync) => {
                    for (net_id, id) in &sync.joined {
                        net_ids.insert(*net_id, *id);
                    }
                    sync.players.iter().any(|(net_id, delta)| {
                        net_ids.get(net_id) == Some(&ada_id) && delta.ammo == Some(11)
                    })
                }
                _ => false,
            };
            raw_frames.push(frame);
            if done {
                break;
            }
        }
    })
    .await;
    let mut ada_on_team_2 = false;
    let mut ammo_seen = Vec::new();
    for frame in &raw_frames {
        let ServerFrame::Sync(sync) = frame else {
            continue;
        };
        for (net_id, delta) in &sync.players {
            let Some(id) = net_ids.get(net_id) else {
                continue;
            };
            if *id == ada_id && delta.team == Some(2) {
                ada_on_team_2 = true;
            }
            if let Some(ammo) = delta.ammo {
                ammo_seen.push((*id, ammo, ada_on_team_2));
            }
        }
    }
    assert!(raw_id.is_some());
    assert!(
        ammo_seen
            .iter()
            .all(|(id, _, after)| *id != ada_id || *after),
        "ada's ammo reached team 2 only once she was in it: {ammo_seen:?}"
    );
    assert!(
        ammo_seen
            .iter()
            .any(|(id, ammo, _)| *id == bob_id && *ammo == 22),
        "a teammate's ammo does arrive: {ammo_seen:?}"
    );
    within("stopping", running.stop()).await;
}

#[test]
fn the_schema_marks_tagged_fields() {
    let schema: serde_json::Value = serde_json::from_str(&Squad::schema().to_json()).unwrap();
    assert_eq!(
        schema["state"]["fields"],
        json!([
            {"name": "team", "index": 0, "type": "u8"},
            {"name": "x", "index": 1, "type": "f32"},
            {"name": "ammo", "index": 2, "type": "u32", "tag": "team"}
        ])
    );
    assert_eq!(
        <Soldier as SyncState>::TAGS,
        &[("team", nodelink::FieldMask::from_bits(0b100))]
    );
}

#[test]
#[should_panic(
    expected = "no field of `Soldier` is marked `#[sync(tag = \"teem\")]`; its tags are \"team\""
)]
fn a_rule_for_a_tag_no_field_has_is_refused_naming_the_tags() {
    let mut server = Server::<Squad>::new(local_config());
    server.field_visibility("teem", |_| true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_shares_one_frame_of_its_members_tagged_changes() {
    let mut server = squad(SyncScope::Everyone);
    server.player_visibility(|me, other| me.state().team == other.state().team);
    server.field_visibility("team", |sight| {
        sight.viewer.state().team == sight.owner.state().team
    });
    // Once all six are in, every soldier's ammo changes on every tick, and
    // nothing else does.
    server.on_tick(|ctx, _| {
        if ctx.player_count() == 6 {
            for player in ctx.players_mut() {
                let ammo = player.state().ammo + 1;
                player.state_mut().set_ammo(ammo);
            }
        }
    });
    let running = serve(server).await;
    let handle = running.handle.clone();
    let url = running.url();
    let mut soldiers = two_teams_of_three(&url);
    for (client, _, team) in &mut soldiers {
        let team = *team;
        poll_until(client, "its team's ammo counting up", |c| {
            let seen: Vec<(u8, u32)> = c.world().players().map(|(_, s)| (s.team, s.ammo)).collect();
            seen.len() == 3 && seen.iter().all(|(t, ammo)| *t == team && *ammo > 0)
        });
    }
    let (ticks, frames) = frames_in_ten_ticks(&handle).await;
    assert_eq!(
        frames,
        2 * ticks,
        "{frames} frames in {ticks} ticks: one per team, each soldier's own ammo in it"
    );
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_put_in_a_room_by_on_join_keeps_its_room_mates_tagged_fields() {
    let mut server = squad(SyncScope::Rooms);
    server.field_visibility("team", |sight| {
        sight.viewer.state().team == sight.owner.state().team
    });
    // One team; each soldier starts with 7 rounds, in the hall.
    server.on_join(|ctx| {
        let id = ctx.id();
        ctx.player().state_mut().set_team(1).set_ammo(7);
        ctx.create_room("hall").add(id);
    });
    let running = serve(server).await;
    let url = running.url();
    let mut ada = Client::<Squad>::from_url(url.clone()).spawn().unwrap();
    poll_until(&mut ada, "ada in", |c| {
        c.id().is_some() && c.world().is_complete()
    });
    let ada_id = ada.id().unwrap();
    let mut bob = Client::<Squad>::from_url(url).spawn().unwrap();
    poll_until(&mut bob, "ada's ammo in bob's first mirror", |c| {
        c.world().is_complete() && soldier(c, ada_id).is_some_and(|s| s.ammo == 7)
    });
    // A later frame: nothing sent in between took ada's ammo away.
    ada.send(ToServer::Walk { x: 3.0 }).unwrap();
    poll_until(&mut bob, "ada's walk", |c| {
        soldier(c, ada_id).is_some_and(|s| s.x == 3.0)
    });
    assert_eq!(soldier(&bob, ada_id).unwrap().ammo, 7);
    within("stopping", running.stop()).await;
}
