//! Python nodelink's host protocol, message by message, with a bare WebSocket host
//! that sends and reads exactly what `RelayTransport` does (the real package plays
//! through the relay in the workspace's `tests/relay.rs`).

mod support;

use serde_json::json;
use support::{
    close_with, closed, connect, eventually, local, next_json, next_message, refused, send_binary,
    send_text, JsonHost, TestRelay,
};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn players_reach_their_host_and_the_host_reaches_them() {
    let relay = TestRelay::start(local()).await;
    let mut host = JsonHost::register(&relay).await;
    assert_eq!(host.code.len(), 6);

    // Python's client upper-cases the code; any case joins.
    let mut ann = connect(&relay.url(&format!("/join/{}", host.code.to_lowercase()))).await;
    let connect_ann = host.expect("__client_connect__").await;
    let ann_cid = connect_ann["cid"].as_str().unwrap().to_owned();
    assert!(connect_ann["address"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    let mut bob = connect(&relay.url(&format!("/join/{}", host.code))).await;
    let bob_cid = host.expect("__client_connect__").await["cid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(ann_cid, bob_cid);

    // A player's frame arrives as the payload object, exactly.
    send_text(&mut ann, r#"{"event":"move","data":{"x":1.5,"y":-2}}"#).await;
    let message = host.expect("__client_message__").await;
    assert_eq!(
        message,
        json!({ "cid": ann_cid, "payload": { "event": "move", "data": { "x": 1.5, "y": -2 } } })
    );

    // `__send__` reaches one player, its payload as the text frame.
    let payload = r#"{"event":"private","data":{"to":"ann","big":12345678901234567890}}"#;
    let send =
        format!(r#"{{"event":"__send__","data":{{"cid":"{ann_cid}","payload":{payload}}}}}"#);
    send_text(&mut host.socket, &send).await;
    match next_message(&mut ann, "the private message").await {
        Message::Text(text) => assert_eq!(text.as_str(), payload, "byte for byte"),
        other => panic!("{other:?}"),
    }

    // `__broadcast__` reaches everyone but the excluded.
    let broadcast = json!({ "event": "chat", "data": { "msg": "hi all" } });
    host.send(
        "__broadcast__",
        json!({ "payload": broadcast, "exclude": [] }),
    )
    .await;
    assert_eq!(next_json(&mut ann, "the broadcast").await, broadcast);
    assert_eq!(next_json(&mut bob, "the broadcast").await, broadcast);
    let only_bob = json!({ "event": "chat", "data": { "msg": "not ann" } });
    host.send(
        "__broadcast__",
        json!({ "payload": only_bob, "exclude": [ann_cid] }),
    )
    .await;
    assert_eq!(next_json(&mut bob, "the broadcast").await, only_bob);
    // Ann's next frame is the one after (nothing was queued for her in between).
    host.send(
        "__send__",
        json!({ "cid": ann_cid, "payload": { "event": "next" } }),
    )
    .await;
    assert_eq!(
        next_json(&mut ann, "the next frame").await,
        json!({ "event": "next" })
    );

    // `__kick__` closes the player with a nodelink server's kick, and the host
    // hears of the disconnect as of any other.
    host.send("__kick__", json!({ "cid": bob_cid })).await;
    assert_eq!(
        closed(&mut bob, "the kick").await,
        Some((4000, "kicked by the server".into()))
    );
    assert_eq!(
        host.expect("__client_disconnect__").await,
        json!({ "cid": bob_cid })
    );

    // A player that leaves: the host hears of it after its last message.
    send_text(&mut ann, r#"{"event":"bye"}"#).await;
    close_with(&mut ann, 1000, "").await;
    let last = host.expect("__client_message__").await;
    assert_eq!(last["payload"], json!({ "event": "bye" }));
    assert_eq!(
        host.expect("__client_disconnect__").await,
        json!({ "cid": ann_cid })
    );
    eventually("no players left", || {
        relay.game(&host.code).unwrap().players == 0
    })
    .await;
    relay.stop().await;
}

#[tokio::test]
async fn the_hosts_messages_for_players_gone_are_dropped_quietly() {
    let relay = TestRelay::start(local().max_invalid_frames(1)).await;
    let mut host = JsonHost::register(&relay).await;
    let mut ann = connect(&relay.url(&format!("/join/{}", host.code))).await;
    let cid = host.expect("__client_connect__").await["cid"].clone();
    // The race with a player's departure is normal: not an invalid message.
    for _ in 0..5 {
        host.send(
            "__send__",
            json!({ "cid": "c0", "payload": { "event": "x" } }),
        )
        .await;
        host.send("__kick__", json!({ "cid": "c0" })).await;
    }
    // One bad message is tolerated (the limit is one), and changes nothing.
    send_text(
        &mut host.socket,
        r#"{"event":"__send__","data":{"payload":{}}}"#,
    )
    .await;
    host.send(
        "__send__",
        json!({ "cid": cid, "payload": { "event": "still here" } }),
    )
    .await;
    assert_eq!(next_json(&mut ann, "a frame").await["event"], "still here");
    // The second passes the limit: the host link is closed, and its game over.
    send_binary(&mut host.socket, b"binary").await;
    assert_eq!(
        closed(&mut host.socket, "the host's close").await,
        Some((4003, "too many invalid frames".into()))
    );
    assert_eq!(
        closed(&mut ann, "host gone").await,
        Some((4100, "host gone".into()))
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_players_bad_messages_are_dropped_then_it_is_closed() {
    let relay = TestRelay::start(local().max_invalid_frames(3)).await;
    let mut host = JsonHost::register(&relay).await;
    let mut bad = connect(&relay.url(&format!("/join/{}", host.code))).await;
    let bad_cid = host.expect("__client_connect__").await["cid"].clone();
    let mut good = connect(&relay.url(&format!("/join/{}", host.code))).await;
    let good_cid = host.expect("__client_connect__").await["cid"].clone();

    send_text(&mut bad, "{not json").await;
    send_text(&mut bad, "[1, 2]").await;
    send_binary(&mut bad, &[0x93, 0x01]).await;
    // Three dropped: none reached the host, whose next message is the good one's.
    send_text(&mut good, r#"{"event":"ok"}"#).await;
    let message = host.expect("__client_message__").await;
    assert_eq!(message["cid"], good_cid);
    // The fourth closes it; the host hears it left, the other player plays on.
    send_text(&mut bad, "nope").await;
    assert_eq!(
        closed(&mut bad, "the invalid frames").await,
        Some((4003, "too many invalid frames".into()))
    );
    assert_eq!(
        host.expect("__client_disconnect__").await,
        json!({ "cid": bad_cid })
    );
    send_text(&mut good, r#"{"event":"still"}"#).await;
    assert_eq!(
        host.expect("__client_message__").await["payload"]["event"],
        "still"
    );
    relay.stop().await;
}

#[tokio::test]
async fn when_the_host_leaves_its_players_are_closed_and_the_code_released() {
    let relay = TestRelay::start(local()).await;
    let host = JsonHost::register(&relay).await;
    let code = host.code.clone();
    let mut ann = connect(&relay.url(&format!("/join/{code}"))).await;
    let mut host = host;
    host.expect("__client_connect__").await;
    drop(host);
    assert_eq!(
        closed(&mut ann, "host gone").await,
        Some((4100, "host gone".into()))
    );
    assert!(relay.game(&code).is_none());
    let answer = refused(&relay.url(&format!("/join/{code}"))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (404, "unknown game code")
    );
    // Its reconnection is a new game, with a new code.
    let again = JsonHost::register(&relay).await;
    assert_ne!(again.code, code);
    relay.stop().await;
}

#[tokio::test]
async fn requests_that_are_not_joins_are_refused() {
    let relay = TestRelay::start(local()).await;
    let host = JsonHost::register(&relay).await;
    let answer = refused(&relay.url("/elsewhere")).await;
    assert_eq!((answer.status, answer.body.as_str()), (404, "not found"));
    let plain = support::raw_http(
        relay.addr,
        "127.0.0.1",
        &format!("GET /join/{} HTTP/1.1\r\nHost: relay\r\n\r\n", host.code),
    )
    .await;
    assert_eq!(
        (plain.status, plain.body.as_str()),
        (400, "not a WebSocket upgrade")
    );
    // Not HTTP: dropped without an answer.
    let garbage = support::raw_exchange(relay.addr, "127.0.0.1", "\x16\x03\x01hello\r\n\r\n");
    assert!(garbage.await.is_empty());
    relay.stop().await;
}
