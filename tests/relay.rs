//! Games played through `nodelink-relay`, started in-process on port 0.
//!
//! - The published Python nodelink 0.6.0, unmodified: a `Server(relay_url=…)` host
//!   (`python/relay_host.py`) and `Client(code=…, relay_url=…)` players
//!   (`python/relay_player.py`), as separate processes: events, private sends,
//!   state sync, broadcasts, pings, a kick and the host's departure.
//! - A Rust nodelink server hosting through the native host link
//!   (`Server::relay`), with no port of its own: native clients and an unmodified
//!   Python client join by code; admission (the authentication hook, the
//!   fingerprint check) answers relayed players as direct ones; kicks and the
//!   server's shutdown reach them.
//! - Many matches through one relay link, each with a relay code of its own that
//!   Rust and unmodified Python clients join it by; a match's code released when
//!   it ends; the relay's limit on a host's codes; sessions resumed through the
//!   relay into their own match.

use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use nodelink::client::{Client, ClientConfig, ClientError, Disconnect, Reconnect};
use nodelink::server::{Rejection, RelayedServer, Server};
use nodelink::wire::RefusalKind;
use nodelink::PlayerId;
use nodelink_examples::{Game, OnToServer, ToClient, ToServer};
use nodelink_relay::{GameInfo, HostKind, Relay, RelayConfig, RelayHandle};
use nodelink_tests::{
    eventually, local_config, python, reporting_game, upgrade_answer, within, ChildReports,
    Reports, Seen, Watcher,
};
use serde_json::json;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// A relay on a free loopback port: its URL, its handle and its task.
async fn start_relay() -> (String, RelayHandle, JoinHandle<()>) {
    start_relay_with(RelayConfig::default()).await
}

/// [`start_relay`] with these limits.
async fn start_relay_with(config: RelayConfig) -> (String, RelayHandle, JoinHandle<()>) {
    let relay = Relay::new(config.host("127.0.0.1").port(0))
        .bind()
        .await
        .expect("binds");
    let url = format!("ws://{}", relay.local_addr());
    let handle = relay.handle();
    (url, handle, tokio::spawn(relay.run()))
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

fn python_host(relay_url: &str) -> ChildReports {
    let mut command = Command::new(python());
    command.arg(script("relay_host.py")).arg(relay_url);
    ChildReports::spawn("the Python host", &mut command, false)
}

fn python_player(relay_url: &str, code: &str, name: &str) -> ChildReports {
    let mut command = Command::new(python());
    command
        .arg(script("relay_player.py"))
        .arg(relay_url)
        .arg(code)
        .arg(name);
    ChildReports::spawn("a Python player", &mut command, true)
}

/// A player's id, from the private welcome its host sent it.
async fn welcomed(player: &mut ChildReports, name: &str) -> String {
    let welcome = player.expect("welcome").await;
    assert_eq!(welcome["name"], name);
    welcome["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn python_nodelink_hosts_and_plays_through_the_relay() {
    let (url, relay, relay_task) = start_relay().await;
    let mut host = python_host(&url);
    let code = host.expect("registered").await["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let game = relay.games().into_iter().find(|game| game.code == code);
    assert_eq!(game.expect("the game").host, HostKind::Python);

    // Players join with the code (in lower case: the package upper-cases it).
    let mut ann = python_player(&url, &code, "ann");
    ann.expect("connect").await;
    let ann_id = welcomed(&mut ann, "ann").await;
    let mut bob = python_player(&url, &code, "bob");
    let bob_id = welcomed(&mut bob, "bob").await;
    host.expect_where("connect", |c| (c["id"] == bob_id.as_str()).then_some(()))
        .await;
    // A broadcast from the host's connect handler.
    ann.expect_where("joined", |j| (j["id"] == bob_id.as_str()).then_some(()))
        .await;

    // State: ann moves; bob's world has her new position and name, by sync.
    ann.command(&json!({ "send": "move", "data": { "x": 3, "y": 4 } }))
        .await;
    bob.expect_where("sync", |sync| {
        let ann_state = &sync["world"][&ann_id];
        (ann_state["x"] == 3 && ann_state["y"] == 4 && ann_state["name"] == "ann").then_some(())
    })
    .await;

    // A broadcast reaches both players.
    bob.command(&json!({ "send": "chat", "data": { "msg": "hello from bob" } }))
        .await;
    let heard = host.expect("chat").await;
    assert_eq!(heard["id"], bob_id.as_str());
    for player in [&mut ann, &mut bob] {
        let chat = player
            .expect_where("chat", |c| {
                (c["msg"] == "hello from bob").then(|| c.clone())
            })
            .await;
        assert_eq!(chat["from"], bob_id.as_str());
    }

    // The host measures each player's round trip from the client's automatic
    // `__pong__`, both through the relay.
    for player in [&mut ann, &mut bob] {
        within("a measured round trip", async {
            loop {
                player.command(&json!({ "send": "ping" })).await;
                if player.expect("pong").await["ms"].is_number() {
                    return;
                }
            }
        })
        .await;
    }

    // A kick: bob is disconnected, the host hears of it, ann sees him leave.
    ann.command(&json!({ "send": "kick", "data": { "id": bob_id } }))
        .await;
    bob.expect("disconnect").await;
    bob.exited().await;
    host.expect_where("disconnect", |d| (d["id"] == bob_id.as_str()).then_some(()))
        .await;
    ann.expect_where("left", |l| (l["id"] == bob_id.as_str()).then_some(()))
        .await;
    eventually("one player left in the game", || {
        relay
            .games()
            .iter()
            .any(|game| game.code == code && game.players == 1)
    })
    .await;

    // A bare WebSocket player, to see the close code when the host goes.
    let (mut cat, _) = within(
        "a bare player",
        tokio_tungstenite::connect_async(format!("{url}/join/{code}")),
    )
    .await
    .expect("joins");
    host.expect("connect").await;

    // The host goes: its players are closed with "host gone", its code released.
    drop(host);
    ann.expect("disconnect").await;
    ann.exited().await;
    let close = within("the bare player's close", async {
        while let Some(Ok(message)) = cat.next().await {
            if let Message::Close(frame) = message {
                return frame.map(|frame| (u16::from(frame.code), frame.reason.to_string()));
            }
        }
        None
    })
    .await;
    assert_eq!(close, Some((4100, "host gone".to_owned())));
    eventually("the code released", || relay.games().is_empty()).await;

    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test]
async fn a_rust_server_hosts_through_the_relay_with_no_port_of_its_own() {
    let (url, relay, relay_task) = start_relay().await;
    let (mut server, _errors) = reporting_game(local_config());
    // The authentication hook sees the player's own request, relayed.
    server.authenticate(|request| {
        let name = request.query_param("name");
        async move {
            match name.as_deref() {
                Some("mallory") => Err(Rejection::forbidden("no mallory here")),
                _ => Ok(name),
            }
        }
    });
    server.on_connect(|ctx| {
        let name = ctx.player().identity::<Option<String>>().cloned().flatten();
        ctx.player().state_mut().set_name(name.unwrap_or_default());
    });
    let hosted = within("registering", server.relay(&url))
        .await
        .expect("registers");
    let code = hosted.code().to_owned();
    assert_eq!(hosted.join_url(), format!("{url}/join/{code}"));
    let game = relay.games().into_iter().find(|game| game.code == code);
    assert_eq!(game.expect("the game").host, HostKind::Native);
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());

    // Native clients join by code (typed in lower case), through the relay.
    let join = format!("{url}/join/{}?name=ann", code.to_lowercase());
    let mut ann = Watcher::connect(&join).await;
    let ann_id = ann.id.expect("welcomed");
    let client = nodelink::client::Client::<nodelink_examples::Game>::from_code(&url, &code);
    assert_eq!(client.url(), format!("{url}/join/{code}"));
    let mut bob = Watcher::connect(client.url()).await;
    ann.sender.send(ToServer::Move { x: 5.0, y: 6.0 }).unwrap();
    bob.world_where("ann's move, and her name from her request", |world| {
        world
            .get(&ann_id)
            .is_some_and(|avatar| (avatar.x, avatar.y, avatar.name.as_str()) == (5.0, 6.0, "ann"))
    })
    .await;

    // An unmodified Python nodelink client joins by code too (JSON wire).
    let mut carl = python_player(&url, &code, "carl");
    carl.expect("connect").await;
    carl.command(&json!({ "send": "chat", "data": { "msg": "hello from python" } }))
        .await;
    for watcher in [&mut ann, &mut bob] {
        watcher
            .next_where("the Python client's chat", |seen| match seen {
                Seen::Event(ToClient::Chat { msg, .. }) if msg == "hello from python" => Some(()),
                _ => None,
            })
            .await;
    }
    carl.expect_where("sync", |sync| {
        let ann_state = &sync["world"][ann_id.to_string().as_str()];
        (ann_state["x"] == 5.0).then_some(())
    })
    .await;

    // A client built for another protocol, and one the hook refuses, get the
    // server's own refusals through the relay.
    let offer = format!("nodelink.{}.0123456789abcdef", nodelink::wire::WIRE_VERSION);
    let mismatch = upgrade_answer(&format!("{url}/join/{code}"), Some(&offer), &[]).await;
    assert_eq!(mismatch.status, 400);
    assert!(
        mismatch.body.starts_with("protocol mismatch"),
        "{}",
        mismatch.body
    );
    assert!(mismatch.header("x-nodelink-fingerprint").is_some());
    let refused = upgrade_answer(&format!("{url}/join/{code}?name=mallory"), None, &[]).await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (403, "no mallory here")
    );

    // A kick reaches the relayed client with the server's close code.
    handle.kick(ann_id).unwrap();
    let reason = ann
        .next_where("the kick", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(&reason, Disconnect::Closed { code: 4000, .. }),
        "{reason:?}"
    );

    // The server shuts down: its link closes normally, the relay ends the game at
    // once and tells the players the host is gone.
    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    let reason = bob
        .next_where("the end", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(
            &reason,
            Disconnect::Closed {
                code: 4001 | 4100,
                ..
            }
        ),
        "{reason:?}"
    );
    eventually("the game to end on the relay", || {
        relay.games().iter().all(|game| game.code != code)
    })
    .await;
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_serving_wss_hosts_a_rust_server_and_its_players() {
    use nodelink::client::{ClientConfig, PollClient};
    use nodelink::tls::{RootCertificates, TlsConfig};
    use nodelink_examples::Game;

    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
    let tls = TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
    let config = RelayConfig::default().host("127.0.0.1").port(0).tls(tls);
    let relay = Relay::new(config).bind().await.expect("binds");
    let url = format!("wss://{}", relay.local_addr());
    let relay_handle = relay.handle();
    let relay_task = tokio::spawn(relay.run());

    // The host trusts the relay's self-signed certificate, and so do players.
    let roots = RootCertificates::from_pem(cert.as_bytes()).unwrap();
    let (server, _errors) = reporting_game(local_config().relay_root_certificates(roots.clone()));
    let hosted = within("registering over wss://", server.relay(&url))
        .await
        .expect("registers");
    let code = hosted.code().to_owned();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());

    let join = nodelink::server::RelayedServer::<Game>::join_url_for(&url, &code);
    let trusting = || ClientConfig::default().root_certificates(roots.clone());
    let mut ann = nodelink::client::Client::<Game>::with_config(join.clone(), trusting())
        .spawn()
        .unwrap();
    let mut bob = nodelink::client::Client::<Game>::with_config(join, trusting())
        .spawn()
        .unwrap();
    let wait =
        |client: &mut PollClient<Game>, what: &str, done: &dyn Fn(&PollClient<Game>) -> bool| {
            tokio::task::block_in_place(|| {
                let deadline = std::time::Instant::now() + nodelink_tests::DEADLINE;
                while !done(client) {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "timed out waiting for {what}"
                    );
                    client.wait(std::time::Duration::from_millis(20));
                }
            });
        };
    wait(&mut ann, "ann's welcome", &|c| c.id().is_some());
    let ann_id = ann.id().unwrap();
    ann.send(ToServer::Move { x: 7.0, y: 8.0 }).unwrap();
    wait(&mut bob, "ann's move through the wss:// relay", &|c| {
        c.world()
            .get(ann_id)
            .is_some_and(|a| (a.x, a.y) == (7.0, 8.0))
    });

    // A player that does not trust the relay's certificate is refused, clearly.
    let mut stranger = nodelink::client::Client::<Game>::from_code(&url, &code)
        .spawn()
        .unwrap();
    let refused = tokio::task::block_in_place(|| {
        let deadline = std::time::Instant::now() + nodelink_tests::DEADLINE;
        loop {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for a refusal"
            );
            for event in stranger.wait(std::time::Duration::from_millis(20)) {
                if let nodelink::client::ClientEvent::Disconnected(reason) = event {
                    return reason.to_string();
                }
            }
        }
    });
    assert!(
        refused.contains("certificate") || refused.contains("TLS"),
        "{refused}"
    );

    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    relay_handle.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test]
async fn a_rust_host_that_loses_its_link_reconnects_and_keeps_its_code() {
    let (url, relay, relay_task) = start_relay().await;
    let relay_addr: std::net::SocketAddr = url.trim_start_matches("ws://").parse().unwrap();
    // The host reaches the relay through a proxy that can cut its connections.
    let proxy = nodelink_tests::Proxy::start(relay_addr).await;
    let (server, _errors) = reporting_game(local_config());
    let hosted = within("registering", server.relay(&proxy.url()))
        .await
        .expect("registers");
    let code = hosted.code().to_owned();
    let codes = hosted.codes();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());
    let join = format!("{url}/join/{code}");
    let policy = Reconnect::default().initial_delay(std::time::Duration::from_millis(50));
    let mut ann = Watcher::start_with(&join, ClientConfig::default().reconnect(policy), |_| {});
    let ann_id = ann.connected().await;

    // The control link and ann's data connection are reset: the relay tells ann
    // her host's connection was lost, and the server holds her session.
    proxy.cut();
    let reason = ann
        .next_where("ann's session to pause", |seen| match seen {
            Seen::Paused(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(&reason, Disconnect::Closed { code: 4101, .. }),
        "{reason:?}"
    );
    // The host reconnects with its token within the grace period: same code, and
    // players can join again.
    eventually("the host back on its game", || {
        relay
            .games()
            .iter()
            .any(|game| game.code == code && game.host_connected)
            && proxy.accepted() >= 3
    })
    .await;
    assert_eq!(*codes.borrow(), code, "the same code");
    // Ann resumes through the relay as the same player, once the host is back.
    let resumed = ann
        .next_where("ann's resume", |seen| match seen {
            Seen::Resumed(id) => Some(*id),
            _ => None,
        })
        .await;
    assert_eq!(resumed, ann_id);
    let mut bob = Watcher::connect(&join).await;
    let bob_id = bob.id.expect("welcomed after the reconnection");
    bob.sender.send(ToServer::Move { x: 3.0, y: 4.0 }).unwrap();
    bob.world_where("bob's move", |world| {
        world.get(&bob_id).is_some_and(|avatar| avatar.x == 3.0)
    })
    .await;

    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

/// The example game, whose matches end soon once empty and whose `ready` ends
/// the match it is sent in.
fn match_server() -> (Server<Game>, Reports) {
    let (mut server, errors) = reporting_game(local_config());
    server.linger(Duration::from_millis(100));
    server.on_ready(|ctx| ctx.end_match());
    (server, errors)
}

/// A Rust client of the example game, and its welcomes: its id and the code of
/// the match the welcome names.
fn player(
    url: &str,
    config: ClientConfig,
) -> (Watcher, mpsc::UnboundedReceiver<(PlayerId, String)>) {
    let (tx, welcomes) = mpsc::unbounded_channel();
    let watcher = Watcher::start_with(url, config, move |client| {
        client.on_connect(move |ctx| {
            let code = ctx.match_code().unwrap_or_default().to_owned();
            let _ = tx.send((ctx.id(), code));
        });
    });
    (watcher, welcomes)
}

async fn match_welcome(
    welcomes: &mut mpsc::UnboundedReceiver<(PlayerId, String)>,
) -> (PlayerId, String) {
    within("the welcome", welcomes.recv())
        .await
        .expect("a welcome")
}

/// A client's URL for a new match, asked of the server hosting `game_code` on
/// the relay at `url`.
fn create_url(url: &str, game_code: &str) -> String {
    let server = RelayedServer::<Game>::join_url_for(url, game_code);
    Client::<Game>::create(&server, &nodelink_examples::Table::default())
        .unwrap()
        .url()
        .to_owned()
}

/// The relay's view of the game `code`.
fn relay_game(relay: &RelayHandle, code: &str) -> GameInfo {
    relay
        .games()
        .into_iter()
        .find(|game| game.code == code)
        .expect("the game on the relay")
}

/// How a client's connection ended.
async fn ended(watcher: &mut Watcher, what: &str) -> Disconnect {
    watcher
        .next_where(what, |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_server_hosts_matches_each_joined_by_its_own_relay_code() {
    let (url, relay, relay_task) = start_relay().await;
    let (server, _errors) = match_server();
    let hosted = within("registering", server.relay(&url))
        .await
        .expect("registers");
    let game_code = hosted.code().to_owned();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());
    assert!(
        relay_game(&relay, &game_code).match_codes.is_empty(),
        "no code claimed before a match needs one"
    );

    // The default match keeps the game's code.
    let (_zoe, mut zoe_welcomes) =
        player(&format!("{url}/join/{game_code}"), ClientConfig::default());
    assert_eq!(match_welcome(&mut zoe_welcomes).await.1, game_code);

    // Two clients each create a match through the relay; each welcome names a
    // relay code of the match's own, which the relay holds for this host.
    let (mut ann, mut ann_welcomes) =
        player(&create_url(&url, &game_code), ClientConfig::default());
    let (ann_id, red) = match_welcome(&mut ann_welcomes).await;
    let (mut bob, mut bob_welcomes) =
        player(&create_url(&url, &game_code), ClientConfig::default());
    let (bob_id, blue) = match_welcome(&mut bob_welcomes).await;
    assert_ne!(red, blue);
    assert!(red != game_code && blue != game_code);
    let held = relay_game(&relay, &game_code).match_codes;
    assert!(held.contains(&red) && held.contains(&blue), "{held:?}");
    let mut on_server: Vec<String> = handle.matches().into_iter().map(|m| m.code).collect();
    on_server.sort();
    let mut expected = vec![game_code.clone(), red.clone(), blue.clone()];
    expected.sort();
    assert_eq!(on_server, expected);

    // Rust clients join each match by its code alone, typed in any case.
    let red_url = Client::<Game>::from_code(&url, &red.to_lowercase())
        .url()
        .to_owned();
    let (mut carl, mut carl_welcomes) = player(&red_url, ClientConfig::default());
    let (carl_id, code) = match_welcome(&mut carl_welcomes).await;
    assert_eq!(code, red);
    let blue_url = Client::<Game>::from_code(&url, &blue).url().to_owned();
    let (mut dave, mut dave_welcomes) = player(&blue_url, ClientConfig::default());
    let (dave_id, code) = match_welcome(&mut dave_welcomes).await;
    assert_eq!(code, blue);

    // And so do unmodified Python nodelink clients: `Client(code=…, relay_url=…)`.
    let mut eve = python_player(&url, &red, "eve");
    eve.expect("connect").await;
    let mut fay = python_player(&url, &blue, "fay");
    fay.expect("connect").await;

    // Each match is its own: ann's move reaches carl and eve, none of blue's.
    ann.sender.send(ToServer::Move { x: 1.0, y: 2.0 }).unwrap();
    carl.world_where("ann's move", |world| {
        world.get(&ann_id).is_some_and(|avatar| avatar.x == 1.0)
    })
    .await;
    let eve_world = eve
        .expect_where("sync", |sync| {
            let world = &sync["world"];
            (world[ann_id.to_string().as_str()]["x"] == 1.0).then(|| world.clone())
        })
        .await;
    dave.sender.send(ToServer::Move { x: 3.0, y: 4.0 }).unwrap();
    let fay_world = fay
        .expect_where("sync", |sync| {
            let world = &sync["world"];
            (world[dave_id.to_string().as_str()]["x"] == 3.0).then(|| world.clone())
        })
        .await;
    // Each world holds its match's players since they joined: red's, blue's.
    for (world, theirs, others) in [
        (&eve_world, [ann_id, carl_id], [bob_id, dave_id]),
        (&fay_world, [bob_id, dave_id], [ann_id, carl_id]),
    ] {
        for id in theirs {
            assert!(world.get(id.to_string()).is_some(), "{id} in {world}");
        }
        for id in others {
            assert!(world.get(id.to_string()).is_none(), "{id} not in {world}");
        }
    }

    // A Python player's chat reaches its match only: bob's first chat is fay's.
    eve.command(&json!({ "send": "chat", "data": { "msg": "hello red" } }))
        .await;
    for watcher in [&mut ann, &mut carl] {
        watcher
            .next_where("eve's chat", |seen| match seen {
                Seen::Event(ToClient::Chat { msg, .. }) if msg == "hello red" => Some(()),
                _ => None,
            })
            .await;
    }
    fay.command(&json!({ "send": "chat", "data": { "msg": "hello blue" } }))
        .await;
    let first = bob
        .next_where("a chat", |seen| match seen {
            Seen::Event(ToClient::Chat { msg, .. }) => Some(msg.clone()),
            _ => None,
        })
        .await;
    assert_eq!(first, "hello blue");

    // Blue ends: its players are told, and its code is released on the relay.
    bob.sender.send(ToServer::Ready).unwrap();
    for watcher in [&mut bob, &mut dave] {
        let reason = ended(watcher, "the match's end").await;
        assert!(
            matches!(&reason, Disconnect::Closed { code: 4011, .. }),
            "{reason:?}"
        );
    }
    fay.expect("disconnect").await;
    eventually("blue's code released", || {
        !relay_game(&relay, &game_code).match_codes.contains(&blue)
    })
    .await;
    let answer = upgrade_answer(&format!("{url}/join/{blue}"), None, &[]).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (404, "unknown game code")
    );
    // Red plays on.
    carl.sender.send(ToServer::Move { x: 5.0, y: 6.0 }).unwrap();
    ann.world_where("carl's move", |world| {
        world.get(&carl_id).is_some_and(|avatar| avatar.x == 5.0)
    })
    .await;

    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    eventually("every code released", || relay.games().is_empty()).await;
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_server_makes_no_more_matches_than_the_relay_grants_it_codes() {
    let (url, relay, relay_task) =
        start_relay_with(RelayConfig::default().max_codes_per_host(2)).await;
    let (server, _errors) = match_server();
    let hosted = within("registering", server.relay(&url))
        .await
        .expect("registers");
    let game_code = hosted.code().to_owned();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());

    let (mut ann, mut ann_welcomes) =
        player(&create_url(&url, &game_code), ClientConfig::default());
    let (_, red) = match_welcome(&mut ann_welcomes).await;
    let (mut bob, mut bob_welcomes) =
        player(&create_url(&url, &game_code), ClientConfig::default());
    let (_, blue) = match_welcome(&mut bob_welcomes).await;

    // The host holds its two codes: a third match is refused, as a full server.
    let (mut carl, _) = player(&create_url(&url, &game_code), ClientConfig::default());
    let (_, result) = carl.finish("the refusal").await;
    let Err(ClientError::Refused {
        status,
        reason,
        kind,
    }) = result
    else {
        panic!("expected a refusal, got {result:?}");
    };
    assert_eq!((status, kind), (503, Some(RefusalKind::ServerFull)));
    assert!(
        reason.contains("most match codes on the relay (2)"),
        "{reason}"
    );
    // Joining a match by its code needs no new code.
    let (_dave, mut dave_welcomes) = player(
        Client::<Game>::from_code(&url, &red).url(),
        ClientConfig::default(),
    );
    assert_eq!(match_welcome(&mut dave_welcomes).await.1, red);

    // Once a match ends and its code is released, a new match gets a code.
    bob.sender.send(ToServer::Ready).unwrap();
    ended(&mut bob, "blue's end").await;
    eventually("blue's code released", || {
        !relay_game(&relay, &game_code).match_codes.contains(&blue)
    })
    .await;
    let (_eve, mut eve_welcomes) = player(&create_url(&url, &game_code), ClientConfig::default());
    let (_, green) = match_welcome(&mut eve_welcomes).await;
    assert!(green != red && green != game_code, "{green}");
    let mut held = relay_game(&relay, &game_code).match_codes;
    held.sort();
    let mut expected = vec![red.clone(), green];
    expected.sort();
    assert_eq!(held, expected);
    ann.sender.send(ToServer::Ready).unwrap();
    ended(&mut ann, "red's end").await;

    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_resume_through_the_relay_into_their_own_match() {
    let (url, relay, relay_task) = start_relay().await;
    let relay_addr: std::net::SocketAddr = url.trim_start_matches("ws://").parse().unwrap();
    // The host reaches the relay through a proxy that can cut its connections.
    let proxy = nodelink_tests::Proxy::start(relay_addr).await;
    let (server, _errors) = match_server();
    let hosted = within("registering", server.relay(&proxy.url()))
        .await
        .expect("registers");
    let game_code = hosted.code().to_owned();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());
    let policy = Reconnect::default().initial_delay(Duration::from_millis(50));
    let config = || ClientConfig::default().reconnect(policy.clone());

    // Ann made the match through the game's code; carl joined it by its own.
    let (mut ann, mut ann_welcomes) = player(&create_url(&url, &game_code), config());
    let (ann_id, red) = match_welcome(&mut ann_welcomes).await;
    let red_url = Client::<Game>::from_code(&url, &red).url().to_owned();
    let (mut carl, mut carl_welcomes) = player(&red_url, config());
    let (carl_id, _) = match_welcome(&mut carl_welcomes).await;
    // Another match, that neither must land in.
    let (_bob, mut bob_welcomes) = player(&create_url(&url, &game_code), config());
    let (bob_id, _) = match_welcome(&mut bob_welcomes).await;

    // The host's connections are reset: both players pause, the host reclaims its
    // game with its match codes, and both resume into red.
    proxy.cut();
    for watcher in [&mut ann, &mut carl] {
        let reason = watcher
            .next_where("the pause", |seen| match seen {
                Seen::Paused(reason) => Some(reason.clone()),
                _ => None,
            })
            .await;
        assert!(
            matches!(&reason, Disconnect::Closed { code: 4101, .. }),
            "{reason:?}"
        );
    }
    for (watcher, id) in [(&mut ann, ann_id), (&mut carl, carl_id)] {
        let resumed = watcher
            .next_where("the resume", |seen| match seen {
                Seen::Resumed(id) => Some(*id),
                _ => None,
            })
            .await;
        assert_eq!(resumed, id);
    }
    assert!(relay_game(&relay, &game_code).match_codes.contains(&red));
    carl.sender.send(ToServer::Move { x: 7.0, y: 8.0 }).unwrap();
    ann.world_where("carl's move after the resume", |world| {
        world.get(&carl_id).is_some_and(|avatar| avatar.x == 7.0)
    })
    .await;
    assert!(!ann.world.contains_key(&bob_id), "bob is in another match");

    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}
