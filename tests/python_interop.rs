//! The published Python nodelink 0.6.0 client (from PyPI, unmodified, driven through
//! its own `Client` API by `tests/python/interop_client.py`) plays on the Rust server
//! beside a native client, stand-alone or mounted at the root of an axum site.
//!
//! `tests/python/setup.sh` installs the package into `target/python-interop`; the
//! test runs it first, so `cargo test` needs nothing installed by hand (only
//! `python3` and access to PyPI on the first run).

use std::path::PathBuf;

use nodelink::PlayerId;
use nodelink_examples::{ToClient, ToServer};
use nodelink_tests::{
    eventually, local_config, python, reporting_game, serve, serve_router, within, ChildReports,
    Seen, Watcher,
};
use serde_json::json;
use tokio::process::Command;

/// The Python client process, started with the server's port.
fn python_client(port: u16) -> ChildReports {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/interop_client.py");
    let mut command = Command::new(python());
    command.arg(script).arg(port.to_string());
    ChildReports::spawn("the Python client", &mut command, false)
}

#[tokio::test]
async fn python_nodelink_clients_play_on_the_rust_server() {
    // Pings every 100 ms: the Python client's automatic `__pong__` answers them.
    let config = local_config().ping_interval(std::time::Duration::from_millis(100));
    let (server, mut errors) = reporting_game(config);
    let running = serve(server).await;
    let mut native = Watcher::connect(&running.url()).await;
    let native_id = native.id.expect("connected");
    native
        .sender
        .send(ToServer::Move { x: 3.0, y: 4.0 })
        .unwrap();
    native
        .world_where("the native move", |world| {
            world.get(&native_id).is_some_and(|avatar| avatar.x == 3.0)
        })
        .await;

    let mut python = python_client(running.addr.port());
    assert_eq!(python.expect("connect").await["n"], 1);
    let welcome = python.expect("welcome").await;
    assert_eq!(welcome["tick_rate"], 20);
    let python_key = welcome["id"].as_str().expect("an id").to_owned();
    let python_id: PlayerId = python_key.parse().expect("an 8-hex id");

    // Its `chat` was broadcast by the handler to both kinds of client (events go
    // out at once, so it may arrive before the tick that carries the move).
    let chat = python
        .expect_where("chat", |chat| {
            (chat["msg"] == "hello from python").then(|| chat.clone())
        })
        .await;
    assert_eq!(chat["from"], python_key.as_str());
    let seen = native
        .next_where("the Python chat", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "hello from python" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(seen, python_id);

    // Its `move` reached the typed handler: the native client mirrors the new state.
    native
        .world_where("the Python client's move", |world| {
            world
                .get(&python_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (1.5, -2.0))
        })
        .await;

    // The two events the game does not accept reached `on_error`, naming the event
    // and the field; the player stayed.
    let mut reports = Vec::new();
    for _ in 0..2 {
        let (message, player) = within("an error report", errors.recv()).await.unwrap();
        assert_eq!(player, Some(python_id));
        reports.push(message);
    }
    reports.sort();
    assert_eq!(
        reports,
        [
            "undecodable frame: event `move`: field `x`: invalid type: string \"left\", expected f32",
            "undecodable frame: unknown event `teleport`",
        ]
    );

    // Its `ready` (a unit event, sent without data) started round 1, and its
    // `__state_sync__` carries the native player's state and the server state.
    let native_key = native_id.to_string();
    // (A sync goes out only when something changed: wait for both in one frame.)
    python
        .expect_where("sync", |sync| {
            let native_state = &sync["world"][&native_key];
            let round = &sync["server"]["round"];
            (*native_state == json!({ "x": 3.0, "y": 4.0, "name": "" }) && *round == 1)
                .then_some(())
        })
        .await;
    eventually("the native client in round 1", || {
        native.server_state().round == 1
    })
    .await;

    // Its automatic `__pong__` echo of the `__ping__` data gave the server its
    // round trip.
    within("a measured round trip", async {
        loop {
            let players = running.handle.players().await.unwrap();
            if players
                .iter()
                .any(|p| p.id == python_id && p.ping.is_some())
            {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;

    // `send_to` one player reaches the Python client.
    running
        .handle
        .send_to(
            python_id,
            ToClient::Chat {
                from: native_id,
                msg: "just for you".into(),
            },
        )
        .unwrap();
    let direct = python
        .expect_where("chat", |chat| {
            (chat["msg"] == "just for you").then(|| chat.clone())
        })
        .await;
    assert_eq!(direct["from"], native_key.as_str());

    // A kick ends the connection with the package's own `disconnect` event; its
    // `reconnect=True` brings it back as a new player.
    running.handle.kick(python_id).unwrap();
    python.expect("disconnect").await;
    assert_eq!(python.expect("reconnecting").await["attempt"], 1);
    assert_eq!(python.expect("connect").await["n"], 2);
    let rejoined = python.expect("welcome").await;
    let rejoined_key = rejoined["id"].as_str().unwrap().to_owned();
    assert_ne!(rejoined_key, python_key, "a new connection is a new player");
    let rejoined_id: PlayerId = rejoined_key.parse().unwrap();
    let back = native
        .next_where("the chat after the reconnect", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "back again" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(back, rejoined_id);
    native
        .world_where("the kicked player gone", |world| {
            !world.contains_key(&python_id) && world.contains_key(&rejoined_id)
        })
        .await;

    // A broadcast the client takes as its cue to exit.
    running
        .handle
        .broadcast(ToClient::Chat {
            from: native_id,
            msg: "quit".into(),
        })
        .unwrap();
    python.exited().await;
    running.stop().await;
}

#[tokio::test]
async fn python_nodelink_clients_play_on_a_server_mounted_on_axum() {
    // The Python client connects to the site's root, which also serves a page.
    let config = local_config().ping_interval(std::time::Duration::from_millis(100));
    let (server, mut errors) = reporting_game(config);
    let mounted = server.mount();
    let handle = mounted.handle();
    let app = axum::Router::new().route("/", mounted.route_or(|| async { "the site" }));
    let (addr, http) = serve_router(app, true).await;
    let world = tokio::spawn(mounted.run());
    let mut native = Watcher::connect(&format!("ws://{addr}/")).await;
    let native_id = native.id.expect("connected");

    let mut python = python_client(addr.port());
    let welcome = python.expect("welcome").await;
    let python_key = welcome["id"].as_str().expect("an id").to_owned();
    let python_id: PlayerId = python_key.parse().expect("an 8-hex id");
    let seen = native
        .next_where("the Python chat", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) if msg == "hello from python" => Some(*from),
            _ => None,
        })
        .await;
    assert_eq!(seen, python_id);
    native
        .world_where("the Python client's move", |world| {
            world
                .get(&python_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (1.5, -2.0))
        })
        .await;
    for _ in 0..2 {
        let (_, player) = within("an error report", errors.recv()).await.unwrap();
        assert_eq!(
            player,
            Some(python_id),
            "the events the game does not accept"
        );
    }
    within("a measured round trip", async {
        loop {
            let players = handle.players().await.unwrap();
            if players
                .iter()
                .any(|p| p.id == python_id && p.ping.is_some())
            {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        nodelink_tests::http_get(addr, "/").await,
        (200, "the site".to_owned())
    );

    handle
        .broadcast(ToClient::Chat {
            from: native_id,
            msg: "quit".into(),
        })
        .unwrap();
    python.exited().await;
    handle.shutdown();
    within("the mounted server to stop", world).await.unwrap();
    http.abort();
}
