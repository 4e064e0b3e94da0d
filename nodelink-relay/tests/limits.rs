//! Every limit of `RelayConfig`, reached: what the relay answers or closes, and
//! that nobody else is affected.

mod support;

use std::time::Duration;

use futures::StreamExt;
use nodelink_relay::{JoinRate, RateLimit};
use serde_json::json;
use support::{
    closed, connect, eventually, idle_connection, join_from, local, next_json, raw_exchange,
    refused, send_binary, send_text, spliced_player, start_join, upgrade_from, upgrade_request,
    within, JsonHost, NativeHost, TestRelay,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn games_are_bounded() {
    let relay = TestRelay::start(local().max_games(2)).await;
    let python = JsonHost::register(&relay).await;
    let _native = NativeHost::link(&relay).await;
    for path in ["/host", "/link"] {
        let answer = refused(&relay.url(path)).await;
        assert_eq!((answer.status, answer.body.as_str()), (503, "relay full"));
    }
    drop(python);
    eventually("the Python game over", || relay.games().len() == 1).await;
    JsonHost::register(&relay).await;
    relay.stop().await;
}

#[tokio::test]
async fn match_codes_are_bounded_per_host_and_count_as_games() {
    let config = local()
        .max_codes_per_host(2)
        .max_games(4)
        .max_players_per_game(2);
    let relay = TestRelay::start(config).await;
    let mut host = NativeHost::link(&relay).await;
    assert_eq!(host.registered["max_codes"], 2);
    let answer = host.claim(3).await;
    assert_eq!(answer["codes"].as_array().unwrap().len(), 2, "{answer}");
    assert_eq!(answer["reason"], "this host holds its most match codes (2)");
    let first = answer["codes"][0].as_str().unwrap().to_owned();
    let second = answer["codes"][1].as_str().unwrap().to_owned();
    // Nothing more until one is released.
    let answer = host.claim(1).await;
    assert_eq!(
        answer,
        json!({ "type": "codes", "codes": [],
                "reason": "this host holds its most match codes (2)" })
    );
    host.release(&first).await;
    let third = host.claim_codes(1).await.remove(0);
    assert_eq!(relay.game(&host.code).unwrap().match_codes.len(), 2);

    // Each code counts against the relay's games: three held, a second host
    // takes the fourth, and gets no match code of its own; a third host none.
    let mut other = NativeHost::link(&relay).await;
    let answer = other.claim(1).await;
    assert_eq!(
        answer,
        json!({ "type": "codes", "codes": [], "reason": "relay full" })
    );
    let answer = refused(&relay.url("/link")).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, "relay full"));

    // Players share their game's seats, whichever code they joined with.
    let _ann = start_join(relay.url(&format!("/join/{second}")), Vec::new());
    host.player().await;
    let _bob = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    host.player().await;
    let answer = refused(&relay.url(&format!("/join/{third}"))).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, "game full"));
    relay.stop().await;
}

#[tokio::test]
async fn players_per_game_are_bounded_waiting_ones_included() {
    let relay = TestRelay::start(local().max_players_per_game(2)).await;
    let mut python = JsonHost::register(&relay).await;
    let join = relay.url(&format!("/join/{}", python.code));
    let _ann = connect(&join).await;
    let bob = connect(&join).await;
    let answer = refused(&join).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, "game full"));
    python.expect("__client_connect__").await;
    python.expect("__client_connect__").await;
    drop(bob);
    python.expect("__client_disconnect__").await;
    eventually("a free seat", || {
        relay.game(&python.code).unwrap().players == 1
    })
    .await;
    connect(&join).await;

    let mut native = NativeHost::link(&relay).await;
    let (_player, _data, _) = spliced_player(&relay, &mut native).await;
    let _held = start_join(relay.url(&format!("/join/{}", native.code)), Vec::new());
    native.player().await;
    let answer = refused(&relay.url(&format!("/join/{}", native.code))).await;
    assert_eq!((answer.status, answer.body.as_str()), (503, "game full"));
    relay.stop().await;
}

#[tokio::test]
async fn joins_waiting_for_a_native_host_are_bounded() {
    let relay = TestRelay::start(local().max_pending_joins(1)).await;
    let mut host = NativeHost::link(&relay).await;
    let join = relay.url(&format!("/join/{}", host.code));
    let first = start_join(join.clone(), Vec::new());
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    let answer = refused(&join).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, "too many players waiting to join")
    );
    let _data = host.accept(&cid, None).await;
    within("the first player", first)
        .await
        .unwrap()
        .expect("accepted");
    let _second = start_join(join, Vec::new());
    host.player().await;
    relay.stop().await;
}

#[tokio::test]
async fn an_oversize_message_closes_its_sender_alone() {
    let config = local().max_frame_len(1024).max_host_frame_len(4096);
    let relay = TestRelay::start(config).await;

    // A Python host's player.
    let mut python = JsonHost::register(&relay).await;
    let join = relay.url(&format!("/join/{}", python.code));
    let mut big = connect(&join).await;
    let big_cid = python.expect("__client_connect__").await["cid"].clone();
    let mut other = connect(&join).await;
    python.expect("__client_connect__").await;
    let text = format!(r#"{{"event":"x","data":"{}"}}"#, "a".repeat(2000));
    send_text(&mut big, &text).await;
    assert_eq!(
        closed(&mut big, "the oversize close").await,
        Some((4003, "too many invalid frames".into()))
    );
    assert_eq!(
        python.expect("__client_disconnect__").await,
        json!({ "cid": big_cid })
    );
    send_text(&mut other, r#"{"event":"fine"}"#).await;
    assert_eq!(
        python.expect("__client_message__").await["payload"]["event"],
        "fine"
    );

    // A spliced player: the host is told why.
    let mut native = NativeHost::link(&relay).await;
    let (mut player, mut data, _) = spliced_player(&relay, &mut native).await;
    send_binary(&mut player, &[0; 2000]).await;
    assert_eq!(
        closed(&mut player, "the close").await.map(|c| c.0),
        Some(4003)
    );
    assert_eq!(
        closed(&mut data, "the reason").await.map(|c| c.0),
        Some(4003)
    );

    // A data connection over the host limit: its player is told the host is lost.
    let (mut player, mut data, _) = spliced_player(&relay, &mut native).await;
    send_binary(&mut data, &[0; 5000]).await;
    assert_eq!(
        closed(&mut data, "the close").await.map(|c| c.0),
        Some(4003)
    );
    assert_eq!(
        closed(&mut player, "the lost host").await,
        Some((4101, "host connection lost".into()))
    );

    // A Python host over the host limit: its game ends.
    let huge = json!({ "payload": { "event": "x", "data": "b".repeat(5000) } });
    python.send("__broadcast__", huge).await;
    assert_eq!(
        closed(&mut python.socket, "the host's close")
            .await
            .map(|c| c.0),
        Some(4003)
    );
    assert_eq!(
        closed(&mut other, "host gone").await.map(|c| c.0),
        Some(4100)
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_python_hosts_player_that_does_not_read_is_closed_as_slow() {
    let config = local()
        .send_queue_len(8)
        .send_queue_bytes(64 * 1024)
        .socket_send_buffer(Some(4096))
        // The stalled peer never answers the close frame: do not wait long for it.
        .close_timeout(Duration::from_millis(200));
    let relay = TestRelay::start(config).await;
    let mut host = JsonHost::register(&relay).await;
    let path = format!("/join/{}", host.code);
    let (_stalled, _) = upgrade_from(relay.addr, "127.0.0.1", &path, true)
        .await
        .expect("joins");
    let stalled = host.expect("__client_connect__").await["cid"].clone();
    let mut reader = connect(&relay.url(&path)).await;
    let reader_cid = host.expect("__client_connect__").await["cid"].clone();
    // The stalled player's queue and socket fill; the first message that does not
    // fit closes it, and the host hears of it.
    let chunk = "x".repeat(16 * 1024);
    for _ in 0..200 {
        let payload = json!({ "event": "chunk", "data": chunk });
        host.send("__send__", json!({ "cid": stalled, "payload": payload }))
            .await;
    }
    let (event, data) = host.next("the slow player's departure").await;
    assert_eq!(
        (event.as_str(), &data),
        ("__client_disconnect__", &json!({ "cid": stalled }))
    );
    // The other player was never delayed.
    host.send(
        "__send__",
        json!({ "cid": reader_cid, "payload": { "event": "hi" } }),
    )
    .await;
    assert_eq!(next_json(&mut reader, "a message").await["event"], "hi");
    relay.stop().await;
}

#[tokio::test]
async fn a_splice_whose_reader_stalls_closes_it_as_slow() {
    let config = local()
        .send_queue_len(8)
        .send_queue_bytes(64 * 1024)
        .socket_send_buffer(Some(4096))
        .slow_consumer_timeout(Duration::from_millis(200))
        .close_timeout(Duration::from_millis(200));
    let relay = TestRelay::start(config).await;
    let mut host = NativeHost::link(&relay).await;
    let path = format!("/join/{}", host.code);

    // A player that stops reading: closed as slow, and its host told so.
    let joining = tokio::spawn({
        let addr = relay.addr;
        let path = path.clone();
        async move { upgrade_from(addr, "127.0.0.1", &path, true).await }
    });
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    let mut data = host.accept(&cid, None).await;
    let (_stalled, _) = within("the upgrade", joining)
        .await
        .unwrap()
        .expect("joins");
    let chunk = vec![0u8; 16 * 1024];
    let flood = async {
        loop {
            use futures::SinkExt;
            let message = tokio_tungstenite::tungstenite::Message::Binary(chunk.clone().into());
            if data.send(message).await.is_err() {
                return;
            }
        }
    };
    // The flood stops when the relay closes the data connection.
    within("the flood to be stopped", flood).await;
    assert_eq!(
        closed(&mut data, "the slow player").await,
        Some((4004, "not reading fast enough".into()))
    );

    // A data connection that stops reading: closed as slow, its player told.
    let joining = start_join(relay.url(&path), Vec::new());
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    let accept = format!("/link/accept/{cid}?token={}", host.token);
    let (_stalled_data, _) = upgrade_from(relay.addr, "127.0.0.1", &accept, true)
        .await
        .expect("accepted");
    let (mut player, _) = within("the upgrade", joining)
        .await
        .unwrap()
        .expect("joins");
    let flood = async {
        loop {
            use futures::SinkExt;
            let message = tokio_tungstenite::tungstenite::Message::Binary(chunk.clone().into());
            if player.send(message).await.is_err() {
                return;
            }
        }
    };
    within("the flood to be stopped", flood).await;
    assert_eq!(
        closed(&mut player, "the lost host").await,
        Some((4101, "host connection lost".into()))
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_slow_handshake_is_cut_off() {
    let relay = TestRelay::start(local().handshake_timeout(Duration::from_millis(200))).await;
    // Half a request, then nothing: dropped without an answer.
    let answer = raw_exchange(relay.addr, "127.0.0.1", "GET /host HTTP/1.1\r\nHost: r\r\n").await;
    assert!(answer.is_empty());
    relay.stop().await;
}

#[tokio::test]
async fn failed_joins_are_rate_limited_per_address() {
    let relay = TestRelay::start(local().failed_joins(JoinRate::new(1.0, 3))).await;
    let host = JsonHost::register(&relay).await;
    let real = format!("/join/{}", host.code);
    // A native host on the address, with a player from elsewhere waiting.
    let (control, _) = upgrade_from(relay.addr, "127.0.0.1", "/link", false)
        .await
        .expect("links");
    let mut native = support::NativeHost::from_control(relay.addr, control).await;
    let native_join = format!("/join/{}", native.code);
    let waiting = tokio::spawn({
        let addr = relay.addr;
        async move { upgrade_from(addr, "127.0.0.2", &native_join, false).await }
    });
    let cid = native.player().await["cid"].as_str().unwrap().to_owned();
    // Three failures: an unknown code, a code that cannot be one, a wrong token.
    let unknown = join_from(&relay, "127.0.0.1", "/join/ZZZZZZ").await;
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (404, "unknown game code")
    );
    assert_eq!(
        join_from(&relay, "127.0.0.1", "/join/not-a-code")
            .await
            .status,
        404
    );
    assert_eq!(
        join_from(&relay, "127.0.0.1", "/link?token=guess")
            .await
            .status,
        410
    );
    // Past the bucket every join from that address is refused, the real code too.
    let refused_answer = upgrade_from(relay.addr, "127.0.0.1", &real, false)
        .await
        .expect_err("refused");
    assert_eq!(
        (refused_answer.status, refused_answer.body.as_str()),
        (
            429,
            "too many failed joins from your address: try again later"
        )
    );
    // A valid token still passes: the host accepts its waiting player.
    let accept = format!("/link/accept/{cid}?token={}", native.token);
    upgrade_from(relay.addr, "127.0.0.1", &accept, false)
        .await
        .expect("a valid token passes");
    within("the waiting player", waiting)
        .await
        .unwrap()
        .expect("accepted");
    let wrong = format!("/link/accept/{cid}?token=guess");
    let refused_token = upgrade_from(relay.addr, "127.0.0.1", &wrong, false).await;
    assert_eq!(refused_token.expect_err("refused").status, 429);
    // Other addresses are not affected.
    upgrade_from(relay.addr, "127.0.0.2", &real, false)
        .await
        .expect("another address joins");
    // Once a token refills (a second), the address may join again.
    within("the bucket to refill", async {
        loop {
            match upgrade_from(relay.addr, "127.0.0.1", &real, false).await {
                Ok(_) => return,
                Err(answer) => assert_eq!(answer.status, 429),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    relay.stop().await;
}

#[tokio::test]
async fn connections_per_address_are_bounded_but_not_a_hosts_data_connections() {
    let relay = TestRelay::start(local().max_connections_per_ip(2)).await;
    let _first = idle_connection(relay.addr, "127.0.0.1").await;
    let _second = idle_connection(relay.addr, "127.0.0.1").await;
    let answer = join_from(&relay, "127.0.0.1", "/join/ZZZZZZ").await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (429, "too many connections from your address")
    );
    // A native host on one address, with more data connections than the limit.
    let (control, _) = upgrade_from(relay.addr, "127.0.0.3", "/link", false)
        .await
        .expect("links");
    let mut host = support::NativeHost::from_control(relay.addr, control).await;
    let mut players = Vec::new();
    for n in 4..7 {
        let join = format!("/join/{}", host.code);
        let from = format!("127.0.0.{n}");
        let joining = tokio::spawn({
            let addr = relay.addr;
            async move { upgrade_from(addr, &from, &join, false).await }
        });
        let cid = host.player().await["cid"].as_str().unwrap().to_owned();
        let accept = format!("/link/accept/{cid}?token={}", host.token);
        let (data, _) = upgrade_from(relay.addr, "127.0.0.3", &accept, false)
            .await
            .expect("a data connection");
        let (player, _) = within("the player", joining).await.unwrap().expect("joins");
        players.push((player, data));
    }
    assert_eq!(relay.game(&host.code).unwrap().players, 3);
    relay.stop().await;
}

#[tokio::test]
async fn connections_are_bounded_in_all() {
    let relay = TestRelay::start(local().max_connections(2)).await;
    let first = idle_connection(relay.addr, "127.0.0.1").await;
    let _second = idle_connection(relay.addr, "127.0.0.1").await;
    // The third waits in the backlog: its request is not answered while both
    // places are taken…
    let mut third = idle_connection(relay.addr, "127.0.0.1").await;
    third
        .write_all(upgrade_request("/join/ZZZZZZ").as_bytes())
        .await
        .expect("writes");
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(early.is_err(), "answered while the relay was full");
    // …and is, once one closes.
    drop(first);
    let mut answer = Vec::new();
    within("the answer", third.read_to_end(&mut answer))
        .await
        .expect("reads");
    assert!(
        answer.starts_with(b"HTTP/1.1 404"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_flooding_player_of_a_python_host_is_closed() {
    let limit = RateLimit::new(10.0, 5).disconnect_after(20);
    let relay = TestRelay::start(local().player_rate_limit(limit)).await;
    let mut host = JsonHost::register(&relay).await;
    let join = relay.url(&format!("/join/{}", host.code));
    let mut flood = connect(&join).await;
    let flood_cid = host.expect("__client_connect__").await["cid"].clone();
    let mut calm = connect(&join).await;
    let calm_cid = host.expect("__client_connect__").await["cid"].clone();
    for _ in 0..100 {
        send_text(&mut flood, r#"{"event":"spam"}"#).await;
    }
    assert_eq!(
        closed(&mut flood, "the flood's close").await,
        Some((4005, "sending too fast".into()))
    );
    // Only the burst (and what the rate refilled meanwhile) reached the host.
    let mut relayed = 0;
    loop {
        let (event, data) = host.next("the flood's messages").await;
        if event == "__client_disconnect__" {
            assert_eq!(data["cid"], flood_cid);
            break;
        }
        relayed += 1;
    }
    assert!((5..30).contains(&relayed), "{relayed} relayed");
    send_text(&mut calm, r#"{"event":"calm"}"#).await;
    assert_eq!(host.expect("__client_message__").await["cid"], calm_cid);
    relay.stop().await;
}

#[tokio::test]
async fn a_silent_peer_is_closed_and_a_live_one_kept() {
    let config = local()
        .ping_interval(Duration::from_millis(50))
        .idle_timeout(Duration::from_millis(300));
    let relay = TestRelay::start(config).await;
    // A host that answers pings (its WebSocket layer does, as long as it reads).
    let mut live = JsonHost::register(&relay).await;
    let live_code = live.code.clone();
    let reading = tokio::spawn(async move { while live.socket.next().await.is_some() {} });
    // A host that upgraded and then never read again: its pings go unanswered.
    let mut silent = idle_connection(relay.addr, "127.0.0.1").await;
    silent
        .write_all(upgrade_request("/host").as_bytes())
        .await
        .expect("writes");
    let mut head = [0u8; 12];
    within("the upgrade", silent.read_exact(&mut head))
        .await
        .expect("reads");
    assert_eq!(&head, b"HTTP/1.1 101");
    eventually("the silent host's game to end", || relay.games().len() == 1).await;
    assert_eq!(
        relay.games()[0].code,
        live_code,
        "the live host connected first"
    );
    reading.abort();
    relay.stop().await;
}

#[tokio::test]
async fn codes_have_the_configured_length() {
    let relay = TestRelay::start(local().code_len(8)).await;
    let host = JsonHost::register(&relay).await;
    assert_eq!(host.code.len(), 8);
    let native = NativeHost::link(&relay).await;
    assert_eq!(native.code.len(), 8);
    relay.stop().await;
}

#[tokio::test]
async fn a_python_game_gets_the_relays_shutdown() {
    let relay = TestRelay::start(local()).await;
    let mut host = JsonHost::register(&relay).await;
    let mut player = connect(&relay.url(&format!("/join/{}", host.code))).await;
    host.expect("__client_connect__").await;
    let handle = relay.handle.clone();
    let stopping = tokio::spawn(relay.stop());
    handle.shutdown();
    let shutdown = Some((4103, "relay shutting down".into()));
    assert_eq!(closed(&mut player, "the shutdown").await, shutdown);
    assert_eq!(closed(&mut host.socket, "the shutdown").await, shutdown);
    within("the relay to stop", stopping).await.unwrap();
}

#[tokio::test]
async fn shutdown_aborts_connections_still_closing_after_its_timeout() {
    // A player that stopped reading, its socket full: its close frame cannot go out,
    // and the close timeout would hold its task far past the test's deadline.
    let config = local()
        .socket_send_buffer(Some(4096))
        .close_timeout(Duration::from_secs(60))
        .shutdown_timeout(Duration::from_millis(300));
    let relay = TestRelay::start(config).await;
    let mut host = JsonHost::register(&relay).await;
    let path = format!("/join/{}", host.code);
    let (_stalled, _) = upgrade_from(relay.addr, "127.0.0.1", &path, true)
        .await
        .expect("joins");
    let stalled = host.expect("__client_connect__").await["cid"].clone();
    let mut reader = connect(&relay.url(&path)).await;
    let reader_cid = host.expect("__client_connect__").await["cid"].clone();
    // Within its queue (256 messages, 1 MiB), far beyond its socket's buffers.
    let chunk = "x".repeat(8 * 1024);
    for _ in 0..64 {
        let payload = json!({ "event": "chunk", "data": chunk });
        host.send("__send__", json!({ "cid": stalled, "payload": payload }))
            .await;
    }
    // The host link handles its messages in order: once this one arrives, the
    // stalled player's queue holds the rest.
    host.send(
        "__send__",
        json!({ "cid": reader_cid, "payload": { "event": "after" } }),
    )
    .await;
    assert_eq!(
        next_json(&mut reader, "the last message").await["event"],
        "after"
    );
    // `stop` returns within the deadline: the stuck task was aborted.
    relay.stop().await;
}
