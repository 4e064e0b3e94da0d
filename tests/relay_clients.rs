//! The Rust and TypeScript clients through a real `nodelink-relay`, and what they
//! make of the relay's close codes (PROTOCOL.md, "Relay close codes"): the
//! TypeScript client plays through the relay and resumes its session after 4101
//! "host connection lost"; both clients stop after 4100 "host gone" (the game and
//! its code are gone) rather than try again into "unknown game code".

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nodelink::client::{ClientConfig, Disconnect, Reconnect};
use nodelink::wire::{CloseReason, NetId, Welcome};
use nodelink::{PlayerId, Protocol};
use nodelink_examples::Game;
use nodelink_relay::{Relay, RelayConfig, RelayHandle};
use nodelink_tests::{
    eventually, local_config, reporting_game, typescript_package, within, ChildReports, Proxy,
    Seen, Watcher,
};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A relay on a free loopback port: its URL, its handle and its task.
async fn start_relay() -> (String, RelayHandle, JoinHandle<()>) {
    let config = RelayConfig::default().host("127.0.0.1").port(0);
    let relay = Relay::new(config).bind().await.expect("binds");
    let url = format!("ws://{}", relay.local_addr());
    let handle = relay.handle();
    (url, handle, tokio::spawn(relay.run()))
}

/// The TypeScript client (`clients/typescript/test/e2e/interop-client.ts`) for `url`.
fn typescript_client(url: &str) -> ChildReports {
    let script = typescript_package().join("dist/test/e2e/interop-client.js");
    let mut command = tokio::process::Command::new("node");
    command.arg(script).arg(url);
    ChildReports::spawn("the TypeScript client", &mut command, true)
}

/// A host speaking the native host link by hand: it registers a game, accepts
/// each player with a welcome and nothing more, and can end its game.
struct HandHost {
    relay: String,
    control: Socket,
    code: String,
    token: String,
    /// Each accepted player's data connection, kept open.
    players: Vec<Socket>,
}

impl HandHost {
    async fn register(relay: &str) -> Self {
        let (mut control, _) = tokio_tungstenite::connect_async(format!("{relay}/link"))
            .await
            .expect("the control link");
        let registered = next_json(&mut control, "registered").await;
        Self {
            relay: relay.to_owned(),
            control,
            code: registered["code"].as_str().unwrap().to_owned(),
            token: registered["token"].as_str().unwrap().to_owned(),
            players: Vec::new(),
        }
    }

    fn join_url(&self) -> String {
        format!("{}/join/{}", self.relay, self.code)
    }

    /// Accepts the next player that asks to join, and welcomes it as `id`.
    async fn accept(&mut self, id: PlayerId) {
        let player = next_json(&mut self.control, "player").await;
        let cid = player["cid"].as_str().unwrap();
        let subprotocol = nodelink::wire::handshake::subprotocol(Game::FINGERPRINT);
        let url = format!(
            "{}/link/accept/{cid}?token={}&subprotocol={subprotocol}",
            self.relay, self.token
        );
        let (mut data, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the data connection");
        let welcome = Welcome {
            fingerprint: Game::FINGERPRINT,
            player: id,
            net_id: NetId(0),
            tick_rate: 20,
            settings: nodelink::wire::Settings::default(),
            resume_token: Some("3f9a1c0e5b7d2468a0c4e6f8b1d3e5f7".parse().unwrap()),
            resumed: None,
        };
        data.send(Message::Binary(welcome.encode())).await.unwrap();
        self.players.push(data);
    }

    /// Closes the control link normally: the relay ends the game at once, and
    /// closes its players with 4100 "host gone".
    async fn end(mut self) -> Vec<Socket> {
        let normal = CloseFrame {
            code: CloseCode::Normal,
            reason: "shutting down".into(),
        };
        let _ = self.control.close(Some(normal)).await;
        self.players
    }
}

/// The next text message on `socket` that is a JSON object of `type`.
async fn next_json(socket: &mut Socket, kind: &str) -> Value {
    within(&format!("a `{kind}` message"), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON");
                    if value["type"] == kind {
                        return value;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the link ended waiting for `{kind}`: {other:?}"),
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_stops_when_the_relay_says_its_host_is_gone() {
    let (url, relay, relay_task) = start_relay().await;
    let mut host = HandHost::register(&url).await;
    let policy = Reconnect::default().initial_delay(Duration::from_millis(10));
    let mut client = Watcher::start_with(
        &host.join_url(),
        ClientConfig::default().reconnect(policy),
        |_| {},
    );
    host.accept(PlayerId::from_raw(0x1a2b_3c4d)).await;
    client.connected().await;

    let _players = host.end().await;
    let (seen, result) = client.finish("the client to stop").await;
    assert!(result.is_ok(), "{result:?}");
    let ended: Vec<&Disconnect> = seen
        .iter()
        .filter_map(|seen| match seen {
            Seen::Disconnected(reason) => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 1, "{seen:?}");
    assert_eq!(ended[0].close_reason(), Some(CloseReason::HostGone));
    assert_eq!(
        ended[0].to_string(),
        "closed by the server (4100: host gone)"
    );
    assert!(
        !seen
            .iter()
            .any(|seen| matches!(seen, Seen::Reconnecting(..) | Seen::Paused(_))),
        "no attempt into a game that is gone: {seen:?}"
    );
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_stops_when_the_relay_says_its_host_is_gone() {
    let (url, relay, relay_task) = start_relay().await;
    let mut host = HandHost::register(&url).await;
    let mut ts = typescript_client(&host.join_url());
    ts.command(&json!({ "cmd": "connect" })).await;
    host.accept(PlayerId::from_raw(0x1a2b_3c4d)).await;
    assert_eq!(ts.expect("connect").await["id"], "1a2b3c4d");

    let _players = host.end().await;
    let ended = ts.expect("disconnect").await;
    assert_eq!(
        (&ended["how"], &ended["code"], &ended["close_reason"]),
        (&json!("closed"), &json!(4100), &json!("HostGone"))
    );
    // Ended for good: a retry would be waiting ("reconnecting").
    ts.command(&json!({ "cmd": "status" })).await;
    assert_eq!(ts.expect("status").await["status"], "disconnected");
    ts.command(&json!({ "cmd": "exit" })).await;
    ts.exited().await;
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_plays_through_the_relay_and_resumes_after_4101() {
    let (url, relay, relay_task) = start_relay().await;
    let relay_addr: std::net::SocketAddr = url.trim_start_matches("ws://").parse().unwrap();
    // The host reaches the relay through a proxy that can cut its connections.
    let proxy = Proxy::start(relay_addr).await;
    let (server, mut errors) = reporting_game(local_config());
    let hosted = within("registering", server.relay(&proxy.url()))
        .await
        .expect("registers");
    let code = hosted.code().to_owned();
    let handle = hosted.handle();
    let serving = tokio::spawn(hosted.run());
    let join = format!("{url}/join/{}", code.to_ascii_lowercase());

    // A native player and the TypeScript one, both by code; both resume what a
    // cut breaks.
    let policy = Reconnect::default().initial_delay(Duration::from_millis(50));
    let mut native = Watcher::start_with(&join, ClientConfig::default().reconnect(policy), |_| {});
    let native_id = native.connected().await;
    let mut ts = typescript_client(&join);
    ts.command(&json!({ "cmd": "connect" })).await;
    let welcome = ts.expect("connect").await;
    assert_eq!(
        welcome["fingerprint"],
        format!("{:016x}", Game::FINGERPRINT)
    );
    let ts_key = welcome["id"].as_str().unwrap().to_owned();
    let ts_id: PlayerId = ts_key.parse().unwrap();
    let snapshot = ts.expect("snapshot").await;
    assert!(snapshot["world"].get(native_id.to_string()).is_some());

    // State and events cross the relay both ways.
    ts.command(&json!({ "cmd": "send", "event": "move", "data": { "x": 1.5, "y": -2 } }))
        .await;
    native
        .world_where("the TypeScript player's move", |world| {
            world.get(&ts_id).is_some_and(|a| (a.x, a.y) == (1.5, -2.0))
        })
        .await;
    native
        .sender
        .send(nodelink_examples::ToServer::Chat {
            msg: "through the relay".into(),
        })
        .unwrap();
    let chat = ts
        .expect_where("event", |event| {
            (event["data"]["msg"] == "through the relay").then(|| event["data"].clone())
        })
        .await;
    assert_eq!(chat["from"], native_id.to_string());

    // The host's connections are reset: the relay tells the player its host's
    // connection was lost; the client keeps its session and resumes it once the
    // host is back on its code.
    proxy.cut();
    let pause = ts.expect("pause").await;
    assert_eq!(
        (&pause["how"], &pause["code"]),
        (&json!("closed"), &json!(4101))
    );
    eventually("the host back on its game", || {
        relay
            .games()
            .iter()
            .any(|game| game.code == code && game.host_connected)
    })
    .await;
    let resumed = ts.expect("resume").await;
    assert_eq!(resumed["id"], ts_key.as_str());
    ts.command(&json!({ "cmd": "send", "event": "chat", "data": { "msg": "back" } }))
        .await;
    native
        .next_where("the chat after the resume", |seen| match seen {
            Seen::Event(nodelink_examples::ToClient::Chat { from, msg }) if msg == "back" => {
                Some(*from)
            }
            _ => None,
        })
        .await;
    ts.command(&json!({ "cmd": "stats" })).await;
    let stats = ts.expect("stats").await;
    assert_eq!(
        (&stats["resumes"], &stats["reconnects"]),
        (&json!(1), &json!(1))
    );
    assert!(errors.try_recv().is_err(), "the server reported no error");

    ts.command(&json!({ "cmd": "exit" })).await;
    ts.exited().await;
    handle.shutdown();
    within("the server to stop", serving).await.unwrap();
    relay.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}
