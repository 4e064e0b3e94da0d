//! Games played through `nodelink-relay`, started in-process on port 0.
//!
//! - The published Python nodelink 0.6.0, unmodified: a `Server(relay_url=…)` host
//!   (`python/relay_host.py`) and `Client(code=…, relay_url=…)` players
//!   (`python/relay_player.py`), as separate processes: events, private sends,
//!   state sync, broadcasts, pings, a kick and the host's departure.
//! - A Rust nodelink server behind the native host link, through a stand-in host
//!   written here on plain tokio-tungstenite that replays each held player's
//!   request to the server: native and JSON clients play through the relay, and a
//!   refused client gets the server's own refusal.

use std::net::SocketAddr;
use std::path::PathBuf;

use futures::{SinkExt, StreamExt};
use nodelink::client::Disconnect;
use nodelink_examples::{ToClient, ToServer};
use nodelink_relay::{HostKind, Relay, RelayConfig, RelayHandle};
use nodelink_tests::{
    eventually, local_config, python, reporting_game, serve, upgrade_answer, within, ChildReports,
    JsonClient, Seen, Watcher,
};
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

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

/// A stand-in native host: its control link replays each held player's request to
/// the server at `server`; the server's answer becomes a refusal, or a data
/// connection pumped to the server's WebSocket. The game's code.
async fn proxy_host(relay: SocketAddr, server: SocketAddr) -> (String, JoinHandle<()>) {
    let (mut control, _) = tokio_tungstenite::connect_async(format!("ws://{relay}/link"))
        .await
        .expect("links");
    let Some(Ok(Message::Text(registered))) = control.next().await else {
        panic!("expected the registration");
    };
    let registered: Value = serde_json::from_str(&registered).unwrap();
    let code = registered["code"].as_str().unwrap().to_owned();
    let token = registered["token"].as_str().unwrap().to_owned();
    let task = tokio::spawn(async move {
        while let Some(Ok(message)) = control.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let player: Value = serde_json::from_str(&text).unwrap();
            if player["type"] != "player" {
                continue;
            }
            let cid = player["cid"].as_str().unwrap();
            let target = player["target"].as_str().unwrap();
            let mut request = format!("ws://{server}{target}")
                .into_client_request()
                .unwrap();
            for pair in player["headers"].as_array().unwrap() {
                let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
                if ["sec-websocket-protocol", "origin"].contains(&name) {
                    let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
                    let value = HeaderValue::from_str(value).unwrap();
                    request.headers_mut().insert(name, value);
                }
            }
            match tokio_tungstenite::connect_async(request).await {
                Ok((upstream, response)) => {
                    let mut accept = format!("ws://{relay}/link/accept/{cid}?token={token}");
                    if let Some(chosen) = response.headers().get("sec-websocket-protocol") {
                        accept.push_str("&subprotocol=");
                        accept.push_str(chosen.to_str().unwrap());
                    }
                    let (data, _) = tokio_tungstenite::connect_async(accept).await.unwrap();
                    tokio::spawn(pump(upstream, data));
                }
                Err(WsError::Http(response)) => {
                    let body = response.body().as_deref().unwrap_or_default();
                    let headers: Vec<[&str; 2]> = response
                        .headers()
                        .iter()
                        .filter(|(name, _)| name.as_str().starts_with("x-nodelink"))
                        .map(|(name, value)| [name.as_str(), value.to_str().unwrap()])
                        .collect();
                    let refuse = json!({
                        "type": "refuse",
                        "cid": cid,
                        "status": response.status().as_u16(),
                        "reason": String::from_utf8_lossy(body),
                        "headers": headers,
                    });
                    control
                        .send(Message::Text(refuse.to_string().into()))
                        .await
                        .unwrap();
                }
                Err(other) => panic!("the server did not answer: {other}"),
            }
        }
    });
    (code, task)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Forwards data messages and close frames both ways until both directions close.
async fn pump(upstream: Ws, data: Ws) {
    let (mut to_server, mut from_server) = upstream.split();
    let (mut to_relay, mut from_relay) = data.split();
    let up = async {
        while let Some(Ok(message)) = from_relay.next().await {
            if let Message::Text(_) | Message::Binary(_) | Message::Close(_) = message {
                let close = message.is_close();
                if to_server.send(message).await.is_err() || close {
                    break;
                }
            }
        }
    };
    let down = async {
        while let Some(Ok(message)) = from_server.next().await {
            if let Message::Text(_) | Message::Binary(_) | Message::Close(_) = message {
                let close = message.is_close();
                if to_relay.send(message).await.is_err() || close {
                    break;
                }
            }
        }
    };
    tokio::join!(up, down);
}

#[tokio::test]
async fn a_rust_server_behind_the_native_link_serves_relayed_clients() {
    let (server, _errors) = reporting_game(local_config());
    let running = serve(server).await;
    let (url, relay, relay_task) = start_relay().await;
    let relay_addr: SocketAddr = url.trim_start_matches("ws://").parse().unwrap();
    let (code, proxy) = proxy_host(relay_addr, running.addr).await;
    let join = format!("{url}/join/{code}");

    // A native client through the relay, beside one connected directly.
    let mut relayed = Watcher::connect(&join).await;
    let relayed_id = relayed.id.expect("welcomed");
    let mut direct = Watcher::connect(&running.url()).await;
    relayed
        .sender
        .send(ToServer::Move { x: 5.0, y: 6.0 })
        .unwrap();
    direct
        .world_where("the relayed move", |world| {
            world
                .get(&relayed_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (5.0, 6.0))
        })
        .await;
    relayed
        .sender
        .send(ToServer::Chat {
            msg: "via the relay".into(),
        })
        .unwrap();
    for watcher in [&mut relayed, &mut direct] {
        let from = watcher
            .next_where("the chat", |seen| match seen {
                Seen::Event(ToClient::Chat { from, msg }) if msg == "via the relay" => Some(*from),
                _ => None,
            })
            .await;
        assert_eq!(from, relayed_id);
    }

    // A JSON client (no subprotocol) gets the JSON wire through the relay.
    let mut json_client = JsonClient::connect(&join).await;
    json_client
        .send("move", json!({ "x": 1.0, "y": 2.0 }))
        .await;
    let json_id = json_client.id.clone();
    relayed
        .world_where("the JSON client's move", |world| {
            world
                .iter()
                .any(|(id, avatar)| id.to_string() == json_id && avatar.x == 1.0)
        })
        .await;

    // A client built for another protocol gets the server's own refusal.
    let offer = Some("nodelink.2.0123456789abcdef");
    let through_relay = upgrade_answer(&join, offer, &[]).await;
    let direct_answer = upgrade_answer(&running.url(), offer, &[]).await;
    assert_eq!(through_relay.status, 400);
    assert_eq!(
        (through_relay.status, &through_relay.body),
        (direct_answer.status, &direct_answer.body)
    );
    assert_eq!(
        through_relay.header("x-nodelink-fingerprint"),
        direct_answer.header("x-nodelink-fingerprint")
    );

    // A kick reaches the relayed client with the server's close code.
    running.handle.kick(relayed_id).unwrap();
    let reason = relayed
        .next_where("the kick", |seen| match seen {
            Seen::Disconnected(reason) => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(&reason, Disconnect::Closed { code: 4000, .. }),
        "{reason:?}"
    );

    proxy.abort();
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
    running.stop().await;
}
