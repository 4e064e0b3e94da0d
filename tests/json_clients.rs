//! Clients of the JSON wire (Python nodelink 0.6.0's frames) and native clients in
//! one game, on one server: the same players, state, broadcasts and rooms, each
//! client in its own wire.

use nodelink::server::{Server, SyncScope, WireFormat, WireFormats};
use nodelink::PlayerId;
use nodelink_examples::{Game, OnToServer, ToClient, ToServer, ToServerChat, ToServerMove};
use nodelink_tests::{
    eventually, local_config, reporting_game, serve, within, JsonClient, Seen, Watcher,
};
use serde_json::json;

#[tokio::test]
async fn json_and_native_clients_play_one_game() {
    let (server, _errors) = reporting_game(local_config());
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

    // A newcomer on the JSON wire gets a snapshot with everyone's whole state,
    // keyed by the same ids the native wire uses.
    let mut python = JsonClient::connect(&running.url()).await;
    let python_key = python.id.clone();
    let python_id: PlayerId = python_key.parse().expect("an 8-hex id");
    let snapshot = python.next_event("__state_sync__").await;
    assert_eq!(snapshot["full"], true);
    assert_eq!(snapshot["count"], 2);
    assert!(snapshot["t"].as_f64().unwrap() > 1.7e9, "{snapshot}");
    assert_eq!(
        snapshot["players"][native_id.to_string()],
        json!({ "x": 3.0, "y": 4.0, "name": "" })
    );
    assert_eq!(
        snapshot["server"],
        json!({ "round": 0, "time_left": 0.0, "leader": null })
    );
    assert!(
        python.world.contains_key(&python.id),
        "the newcomer is in its own snapshot"
    );

    // Its events reach the typed handlers; its state reaches the native client.
    python.send("move", json!({ "x": 1.5, "y": -2 })).await;
    native
        .world_where("the JSON client's move", |world| {
            world
                .get(&python_id)
                .is_some_and(|avatar| (avatar.x, avatar.y) == (1.5, -2.0))
        })
        .await;
    python
        .world_where("its own move", |world| {
            world[&python_key] == json!({ "x": 1.5, "y": -2.0, "name": "" })
        })
        .await;

    // The native client's changes reach the JSON client as deltas by field name.
    native
        .sender
        .send(ToServer::Move { x: 5.0, y: 4.0 })
        .unwrap();
    let native_key = native_id.to_string();
    let delta = within("the native delta", async {
        loop {
            let sync = python.next_event("__state_sync__").await;
            if let Some(delta) = sync["players"].get(&native_key) {
                return delta.clone();
            }
        }
    })
    .await;
    assert_eq!(delta, json!({ "x": 5.0 }), "only the changed field");

    // A broadcast reaches both wires; player ids in events are the same hex strings.
    python
        .send("chat", json!({ "msg": "hello from json" }))
        .await;
    assert_eq!(
        python.next_event("chat").await,
        json!({ "from": python_key, "msg": "hello from json" })
    );
    let chat = native
        .next_where("the chat", |seen| match seen {
            Seen::Event(ToClient::Chat { from, msg }) => Some((*from, msg.clone())),
            _ => None,
        })
        .await;
    assert_eq!(chat, (python_id, "hello from json".to_owned()));

    // `send_to` one player, in its wire.
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
    assert_eq!(
        python.next_event("chat").await,
        json!({ "from": native_key, "msg": "just for you" })
    );

    // A unit event with no data; the shared server state follows by field name.
    python.send_text(r#"{"event": "ready"}"#).await;
    within("the next round", async {
        while python.server.get("round") != Some(&json!(1)) {
            python.next_frame("the next round").await;
        }
    })
    .await;
    eventually("the native client in round 1", || {
        native.server_state().round == 1
    })
    .await;

    // The server reports which wire each player speaks.
    let players = running.handle.players().await.unwrap();
    let wire_of = |id| players.iter().find(|p| p.id == id).map(|p| p.wire);
    assert_eq!(wire_of(python_id), Some(WireFormat::Json));
    assert_eq!(wire_of(native_id), Some(WireFormat::Native));

    // A departure is listed under `left`.
    native.sender.disconnect();
    python
        .world_where("the native client gone", |world| {
            !world.contains_key(&native_key)
        })
        .await;
    running.stop().await;
}

#[tokio::test]
async fn json_frames_that_do_not_fit_reach_on_error_and_cost_nothing_else() {
    let (server, mut errors) = reporting_game(local_config().max_invalid_frames(16));
    let running = serve(server).await;
    let mut native = Watcher::connect(&running.url()).await;
    let mut python = JsonClient::connect(&running.url()).await;
    let python_id: PlayerId = python.id.parse().unwrap();

    let bad: [(&str, &str); 9] = [
        ("not json", "undecodable frame: malformed frame: not a JSON event object: expected ident at line 1 column 2"),
        (r#"{"data": {}}"#, "undecodable frame: malformed frame: no `event` key"),
        (r#"{"event": "teleport", "data": {"to": 1}}"#, "undecodable frame: unknown event `teleport`"),
        (r#"{"event": "move", "data": {"x": "north", "y": 0}}"#, "undecodable frame: event `move`: field `x`: invalid type: string \"north\", expected f32"),
        (r#"{"event": "move", "data": {"x": 1}}"#, "undecodable frame: event `move`: missing field `y`"),
        (r#"{"event": "move", "data": {"x": 1, "y": 2, "z": 3}}"#, "undecodable frame: event `move`: unknown field `z`"),
        (r#"{"event": "move", "data": [1, 2]}"#, "undecodable frame: malformed frame: event `move`: `data` must be an object with the fields x, y, not [1,2]"),
        (r#"{"event": "chat", "data": {"msg": 7}}"#, "undecodable frame: event `chat`: field `msg`: invalid type: integer `7`, expected a string"),
        (r#"{"event": "ready", "data": 5}"#, "undecodable frame: malformed frame: event `ready`: `data` must be no data (null or {}), not 5"),
    ];
    for (frame, _) in bad {
        python.send_text(frame).await;
    }
    python.send_binary(vec![0x92, 0x01, 0xa4]).await;
    for (frame, expected) in bad {
        let (message, player) = within("an error report", errors.recv()).await.unwrap();
        assert_eq!(
            (message.as_str(), player),
            (expected, Some(python_id)),
            "for {frame}"
        );
    }
    let (message, player) = within("the binary frame's report", errors.recv())
        .await
        .unwrap();
    assert_eq!(
        (message.as_str(), player),
        (
            "binary frame ignored: the JSON wire uses text frames",
            Some(python_id)
        )
    );

    // The sender is still served, and nobody else noticed.
    python.send("move", json!({ "x": 7, "y": 8 })).await;
    native
        .world_where("the valid move after the bad ones", |world| {
            world.get(&python_id).is_some_and(|a| a.x == 7.0)
        })
        .await;
    assert!(errors.try_recv().is_err(), "no other reports");
    running.stop().await;
}

#[tokio::test]
async fn a_server_can_speak_one_wire_only() {
    use tokio_tungstenite::tungstenite::Error;
    async fn status(url: &str) -> (u16, String) {
        match within("the handshake", tokio_tungstenite::connect_async(url)).await {
            Err(Error::Http(response)) => (
                response.status().as_u16(),
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into(),
            ),
            Ok(_) => (101, String::new()),
            Err(other) => panic!("unexpected handshake error: {other}"),
        }
    }

    let (server, _) = reporting_game(local_config().wire_formats(WireFormats::NativeOnly));
    let running = serve(server).await;
    let (code, body) = status(&running.url()).await;
    assert_eq!(code, 400);
    let expected = format!(
        "not a nodelink client: expected the WebSocket subprotocol nodelink.{}.",
        nodelink::wire::WIRE_VERSION
    );
    assert!(body.starts_with(&expected), "{body}");
    Watcher::connect(&running.url()).await;
    running.stop().await;

    let (server, _) = reporting_game(local_config().wire_formats(WireFormats::JsonOnly));
    let running = serve(server).await;
    let error = within(
        "a refused native client",
        nodelink::client::Client::<Game>::from_url(running.url()).run(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            nodelink::client::ClientError::Refused { status: 400, ref reason, .. }
                if reason.starts_with("this server speaks only the JSON wire")
        ),
        "{error}"
    );
    JsonClient::connect(&running.url()).await;
    running.stop().await;
}

#[tokio::test]
async fn rooms_serve_json_and_native_members_alike() {
    let mut server = Server::<Game>::new(local_config().sync_scope(SyncScope::Rooms));
    server.on_move(|ctx, ToServerMove { x, y }| {
        ctx.player().state_mut().set_x(x).set_y(y);
    });
    // `chat` joins the room it names and greets its members.
    server.on_chat(|ctx, ToServerChat { msg: room }| {
        let id = ctx.id();
        let mut room_mut = ctx.create_room(&room);
        room_mut.add(id);
        room_mut.broadcast(ToClient::Chat {
            from: id,
            msg: format!("joined {room}"),
        });
    });
    let running = serve(server).await;

    let native = Watcher::connect(&running.url()).await;
    let native_id = native.id.unwrap();
    let mut python = JsonClient::connect(&running.url()).await;
    let mut outsider = JsonClient::connect(&running.url()).await;
    let native_key = native_id.to_string();

    native
        .sender
        .send(ToServer::Chat { msg: "red".into() })
        .unwrap();
    python.send("chat", json!({ "msg": "red" })).await;
    outsider.send("chat", json!({ "msg": "blue" })).await;

    // The room broadcast reaches the JSON member...
    within("both greetings", async {
        let mut greeted = 0;
        while greeted < 2 {
            let chat = python.next_event("chat").await;
            if chat["msg"] == "joined red" {
                greeted += 1;
            }
        }
    })
    .await;
    // ...and room-scoped sync shows it the native member, whole.
    native
        .sender
        .send(ToServer::Move { x: 2.0, y: 1.0 })
        .unwrap();
    python
        .world_where("the native member's move", |world| {
            world.get(&native_key).is_some_and(|s| s["x"] == 2.0)
        })
        .await;
    // The outsider in another room sees only itself.
    let greeting = outsider.next_event("chat").await;
    assert_eq!(greeting["msg"], "joined blue");
    outsider.send("move", json!({ "x": 9, "y": 9 })).await;
    let outsider_id = outsider.id.clone();
    outsider
        .world_where("its own move", |world| {
            world.get(&outsider_id).is_some_and(|s| s["x"] == 9.0)
        })
        .await;
    assert!(
        !outsider.world.contains_key(&native_key),
        "{:?}",
        outsider.world
    );
    assert!(
        !outsider.world.contains_key(&python.id),
        "{:?}",
        outsider.world
    );
    running.stop().await;
}
