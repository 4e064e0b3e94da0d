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

use std::path::PathBuf;

use futures::StreamExt;
use nodelink::client::{ClientConfig, Disconnect, Reconnect};
use nodelink::server::Rejection;
use nodelink_examples::{ToClient, ToServer};
use nodelink_relay::{HostKind, Relay, RelayConfig, RelayHandle};
use nodelink_tests::{
    eventually, local_config, python, reporting_game, upgrade_answer, within, ChildReports, Seen,
    Watcher,
};
use serde_json::json;
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// A relay on a free loopback port: its URL, its handle and its task.
async fn start_relay() -> (String, RelayHandle, JoinHandle<()>) {
    let config = RelayConfig::default().host("127.0.0.1").port(0);
    let relay = Relay::new(config).bind().await.expect("binds");
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
