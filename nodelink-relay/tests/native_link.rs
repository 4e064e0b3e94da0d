//! The native host link, driven by a small host written on plain tokio-tungstenite:
//! held joins shown to the host, refusals and accepts, splices that carry binary
//! and text both ways with their close frames, abrupt ends, the grace period, and
//! the match codes a host claims and releases.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{
    close_with, closed, connect, eventually, local, next_binary, next_json, next_message, refused,
    send_binary, send_text, spliced_player, start_join, within, NativeHost, TestRelay,
};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn a_held_player_is_shown_to_its_host_and_gets_its_refusal() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    assert_eq!(host.code.len(), 6);
    assert_eq!(host.token.len(), 32);
    assert_eq!(host.grace_seconds, 30);
    assert!(relay.game(&host.code).unwrap().host_connected);

    // A lower-case code names the same game; the host sees the target as sent.
    let target = format!("/join/{}?name=ann", host.code.to_lowercase());
    let joining = start_join(
        relay.url(&target),
        vec![
            ("origin", "https://game.example"),
            ("sec-websocket-protocol", "nodelink.2.0123456789abcdef"),
        ],
    );
    let player = host.player().await;
    assert_eq!(player["target"], target.as_str());
    let peer = player["peer"].as_str().unwrap();
    assert!(peer.starts_with("127.0.0.1:"), "{peer}");
    let headers = player["headers"].as_array().unwrap();
    for expected in [
        json!(["origin", "https://game.example"]),
        json!(["sec-websocket-protocol", "nodelink.2.0123456789abcdef"]),
        json!(["upgrade", "websocket"]),
        json!(["sec-websocket-version", "13"]),
    ] {
        assert!(headers.contains(&expected), "{expected} in {headers:?}");
    }
    assert_eq!(relay.game(&host.code).unwrap().waiting, 1);

    let cid = player["cid"].as_str().unwrap();
    let fingerprint = json!([["x-nodelink-fingerprint", "4874c71316f5ad11"]]);
    let reason = "protocol mismatch: server fingerprint 4874c71316f5ad11, client fingerprint 0123456789abcdef";
    host.refuse(cid, 400, reason, fingerprint).await;
    let answer = within("the refusal", joining)
        .await
        .unwrap()
        .expect_err("refused");
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body, reason);
    assert_eq!(
        answer.header("x-nodelink-fingerprint"),
        Some("4874c71316f5ad11")
    );
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(relay.game(&host.code).unwrap().waiting, 0);

    // Refused: accepting it now finds nobody waiting.
    let late = refused(&relay.url(&format!("/link/accept/{cid}?token={}", host.token))).await;
    assert_eq!(
        (late.status, late.body.as_str()),
        (404, "no player is waiting with this id")
    );
    relay.stop().await;
}

#[tokio::test]
async fn an_accepted_player_is_spliced_binary_and_text_both_ways() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    let offer = "nodelink.2.4874c71316f5ad11";
    let joining = start_join(
        relay.url(&format!("/join/{}", host.code)),
        vec![("sec-websocket-protocol", offer)],
    );
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    let mut data = host.accept(&cid, Some(offer)).await;
    let (mut player, answer) = within("the upgrade", joining)
        .await
        .unwrap()
        .expect("accepted");
    assert_eq!(answer.status, 101);
    assert_eq!(answer.header("sec-websocket-protocol"), Some(offer));
    let game = relay.game(&host.code).unwrap();
    assert_eq!((game.players, game.waiting), (1, 0));

    // The host's first frames (a welcome) pass untouched, binary as binary.
    let welcome = [0x94, 0x00, 0xce, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x14];
    send_binary(&mut data, &welcome).await;
    assert_eq!(next_binary(&mut player, "the welcome").await, welcome);
    let event = [0x93, 0x01, 0x00, 0x92, 0xca, 0x3f, 0xc0, 0x00, 0x00, 0x00];
    send_binary(&mut player, &event).await;
    assert_eq!(next_binary(&mut data, "the player's event").await, event);
    // Text both ways, as the JSON wire's frames.
    send_text(&mut player, r#"{"event":"chat","data":{"msg":"hi"}}"#).await;
    match next_message(&mut data, "the player's text").await {
        Message::Text(text) => assert_eq!(text.as_str(), r#"{"event":"chat","data":{"msg":"hi"}}"#),
        other => panic!("{other:?}"),
    }
    send_text(&mut data, r#"{"event":"__welcome__"}"#).await;
    assert!(matches!(
        next_message(&mut player, "the host's text").await,
        Message::Text(_)
    ));
    // A large message, in both directions.
    let big: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    send_binary(&mut data, &big).await;
    assert_eq!(next_binary(&mut player, "a large message").await, big);
    send_binary(&mut player, &big).await;
    assert_eq!(next_binary(&mut data, "a large message").await, big);

    // The player's close frame reaches the host with its code and reason.
    close_with(&mut player, 1000, "bye").await;
    assert_eq!(
        closed(&mut data, "the player's close").await,
        Some((1000, "bye".into()))
    );
    eventually("the player gone", || {
        relay.game(&host.code).unwrap().players == 0
    })
    .await;

    // And the host's reaches the player: a kick.
    let (mut player, mut data, _) = spliced_player(&relay, &mut host).await;
    close_with(&mut data, 4000, "kicked by the server").await;
    assert_eq!(
        closed(&mut player, "the kick").await,
        Some((4000, "kicked by the server".into()))
    );
    relay.stop().await;
}

#[tokio::test]
async fn abrupt_ends_are_told_with_their_own_codes() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;

    // The host's data connection vanishes: its player is told.
    let (mut player, data, _) = spliced_player(&relay, &mut host).await;
    drop(data);
    assert_eq!(
        closed(&mut player, "the lost host connection").await,
        Some((4101, "host connection lost".into()))
    );

    // The player vanishes: the host's data connection is told.
    let (player, mut data, _) = spliced_player(&relay, &mut host).await;
    drop(player);
    assert_eq!(
        closed(&mut data, "the lost player").await,
        Some((4102, "player connection lost".into()))
    );

    // Neither affected the control link.
    let (mut player, mut data, _) = spliced_player(&relay, &mut host).await;
    send_binary(&mut player, &[1, 2, 3]).await;
    assert_eq!(next_binary(&mut data, "a frame").await, [1, 2, 3]);
    relay.stop().await;
}

#[tokio::test]
async fn a_host_claims_match_codes_that_join_its_game_until_released() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    assert_eq!(host.registered["max_codes"], 64);
    assert!(
        host.registered.get("codes").is_none(),
        "{}",
        host.registered
    );
    let codes = host.claim_codes(2).await;
    assert_ne!(codes[0], codes[1]);
    for code in &codes {
        assert_eq!(code.len(), 6);
        assert_ne!(*code, host.code);
    }
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(relay.game(&host.code).unwrap().match_codes, sorted);
    assert_eq!(relay.games().len(), 1, "match codes are doors, not games");

    // A player joins with a match code, in lower case: the host sees which.
    let target = format!("/join/{}?name=ann", codes[0].to_lowercase());
    let joining = start_join(relay.url(&target), Vec::new());
    let player = host.player().await;
    assert_eq!(player["target"], target.as_str());
    let mut data = host.accept(player["cid"].as_str().unwrap(), None).await;
    let (mut ann, _) = within("ann's upgrade", joining)
        .await
        .unwrap()
        .expect("accepted");
    send_binary(&mut ann, &[1]).await;
    assert_eq!(next_binary(&mut data, "ann's frame").await, [1]);
    assert_eq!(relay.game(&host.code).unwrap().players, 1);

    // Released, the code joins nothing; the player who joined with it plays on
    // (its match's end is its host's to tell), and the other code still joins.
    host.release(&codes[0].to_lowercase()).await;
    eventually("the code released", || {
        relay.game(&host.code).unwrap().match_codes == [codes[1].clone()]
    })
    .await;
    let answer = refused(&relay.url(&format!("/join/{}", codes[0]))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (404, "unknown game code")
    );
    send_binary(&mut data, &[2]).await;
    assert_eq!(next_binary(&mut ann, "the host's frame").await, [2]);
    // Releasing it again, or a code never held, changes nothing and costs nothing.
    host.release(&codes[0]).await;
    host.release("nope").await;
    let held = start_join(relay.url(&format!("/join/{}", codes[1])), Vec::new());
    host.player().await;

    // The game's end releases every code it holds.
    close_with(&mut host.control, 1000, "game over").await;
    let answer = within("the held refusal", held)
        .await
        .unwrap()
        .expect_err("refused");
    assert_eq!(answer.status, 503);
    assert_eq!(
        closed(&mut ann, "host gone").await,
        Some((4100, "host gone".into()))
    );
    let answer = refused(&relay.url(&format!("/join/{}", codes[1]))).await;
    assert_eq!(answer.status, 404);
    relay.stop().await;
}

#[tokio::test]
async fn a_reclaimed_game_keeps_its_match_codes() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    let mut codes = host.claim_codes(2).await;
    codes.sort();
    let NativeHost {
        control,
        code,
        token,
        ..
    } = host;
    drop(control);
    eventually("the link seen down", || {
        !relay.game(&code).unwrap().host_connected
    })
    .await;
    // Its match codes wait with it.
    let meanwhile = refused(&relay.url(&format!("/join/{}", codes[0]))).await;
    assert_eq!(
        (meanwhile.status, meanwhile.body.as_str()),
        (503, "the game's host is reconnecting: try again shortly")
    );
    let mut host = NativeHost::reclaim(&relay, &token).await;
    assert_eq!(host.registered["codes"], json!(codes));
    let joining = start_join(relay.url(&format!("/join/{}", codes[1])), Vec::new());
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    let _data = host.accept(&cid, None).await;
    within("the upgrade", joining)
        .await
        .unwrap()
        .expect("accepted");
    relay.stop().await;
}

#[tokio::test]
async fn a_player_that_leaves_while_held_is_gone() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    let joining = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    let cid = host.player().await["cid"].clone();
    joining.abort();
    let gone = host.next("gone").await;
    assert_eq!(gone, json!({ "type": "gone", "cid": cid }));
    let late = refused(&relay.url(&format!(
        "/link/accept/{}?token={}",
        cid.as_str().unwrap(),
        host.token
    )))
    .await;
    assert_eq!(late.status, 404);
    relay.stop().await;
}

#[tokio::test]
async fn an_unanswered_player_times_out_and_its_host_is_told() {
    let relay = TestRelay::start(local().accept_timeout(Duration::from_millis(200))).await;
    let mut host = NativeHost::link(&relay).await;
    let joining = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    let cid = host.player().await["cid"].clone();
    let answer = within("the timeout", joining)
        .await
        .unwrap()
        .expect_err("refused");
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (504, "the game's host did not answer in time")
    );
    assert_eq!(
        host.next("gone").await,
        json!({ "type": "gone", "cid": cid })
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_host_reclaims_its_game_within_the_grace_period() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    let (mut player, mut data, _) = spliced_player(&relay, &mut host).await;
    // A player held when the link drops is refused.
    let held = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    host.player().await;

    let NativeHost {
        control,
        code,
        token,
        ..
    } = host;
    drop(control); // abruptly: no close frame
    let answer = within("the held refusal", held)
        .await
        .unwrap()
        .expect_err("refused");
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (503, "the game's host is reconnecting: try again shortly")
    );
    eventually("the link seen down", || {
        !relay.game(&code).unwrap().host_connected
    })
    .await;
    // New players are refused meanwhile; the spliced one keeps playing.
    let meanwhile = refused(&relay.url(&format!("/join/{code}"))).await;
    assert_eq!(meanwhile.status, 503);
    send_binary(&mut player, &[7]).await;
    assert_eq!(
        next_binary(&mut data, "a frame in the grace period").await,
        [7]
    );

    let mut host = NativeHost::reclaim(&relay, &token).await;
    assert_eq!(
        (host.code.as_str(), host.token.as_str()),
        (code.as_str(), token.as_str())
    );
    assert!(relay.game(&code).unwrap().host_connected);
    let (mut second, mut second_data, _) = spliced_player(&relay, &mut host).await;
    send_binary(&mut second_data, &[8]).await;
    assert_eq!(
        next_binary(&mut second, "a frame after the reclaim").await,
        [8]
    );
    send_binary(&mut data, &[9]).await;
    assert_eq!(
        next_binary(&mut player, "the first player still there").await,
        [9]
    );
    assert_eq!(relay.game(&code).unwrap().players, 2);
    relay.stop().await;
}

#[tokio::test]
async fn after_the_grace_period_the_code_is_released_and_players_closed() {
    let relay = TestRelay::start(local().host_grace(Duration::from_millis(300))).await;
    let mut host = NativeHost::link(&relay).await;
    assert_eq!(host.grace_seconds, 0.3);
    let match_code = host.claim_codes(1).await.remove(0);
    let (mut player, mut data, _) = spliced_player(&relay, &mut host).await;
    let NativeHost {
        control,
        code,
        token,
        ..
    } = host;
    drop(control);
    assert_eq!(
        closed(&mut player, "host gone").await,
        Some((4100, "host gone".into()))
    );
    assert_eq!(
        closed(&mut data, "host gone").await,
        Some((4100, "host gone".into()))
    );
    assert!(relay.game(&code).is_none());
    for code in [&code, &match_code] {
        assert_eq!(
            refused(&relay.url(&format!("/join/{code}"))).await.status,
            404
        );
    }
    let expired = refused(&relay.url(&format!("/link?token={token}"))).await;
    assert_eq!(expired.status, 410);
    relay.stop().await;
}

#[tokio::test]
async fn a_host_that_closes_its_link_normally_ends_its_game_at_once() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    let (mut player, _data, _) = spliced_player(&relay, &mut host).await;
    close_with(&mut host.control, 1000, "game over").await;
    assert_eq!(
        closed(&mut player, "host gone").await,
        Some((4100, "host gone".into()))
    );
    assert!(relay.game(&host.code).is_none());
    relay.stop().await;
}

#[tokio::test]
async fn a_newer_link_replaces_the_old_one() {
    let relay = TestRelay::start(local()).await;
    let mut old = NativeHost::link(&relay).await;
    let mut new = NativeHost::reclaim(&relay, &old.token).await;
    assert_eq!(new.code, old.code);
    assert_eq!(
        closed(&mut old.control, "the replaced link").await,
        Some((4104, "replaced by a new link".into()))
    );
    // The old link's end did not start a grace period: the new link serves.
    let (mut player, mut data, _) = spliced_player(&relay, &mut new).await;
    send_binary(&mut player, &[1]).await;
    assert_eq!(next_binary(&mut data, "a frame").await, [1]);
    assert!(relay.game(&new.code).unwrap().host_connected);
    relay.stop().await;
}

#[tokio::test]
async fn wrong_tokens_and_bad_control_messages_are_refused() {
    let relay = TestRelay::start(local().max_invalid_frames(2)).await;
    let mut host = NativeHost::link(&relay).await;
    let answer = refused(&relay.url("/link?token=0123")).await;
    assert_eq!(answer.status, 410);
    let answer = refused(&relay.url("/link/accept/c1?token=0123")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (403, "unknown token")
    );

    // A refusal with a status that is not one: the player gets 502.
    let joining = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    host.refuse(&cid, 200, "fine", json!([])).await;
    let answer = within("the refusal", joining)
        .await
        .unwrap()
        .expect_err("refused");
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (502, "the host sent an invalid refusal")
    );
    // A refusal for a player no longer held is the normal race: not counted.
    host.refuse("c999", 403, "no", json!([])).await;
    // Two more bad messages pass the limit of two.
    send_text(&mut host.control, "not json").await;
    send_text(&mut host.control, r#"{"type":"launch"}"#).await;
    assert_eq!(
        closed(&mut host.control, "the invalid frames").await,
        Some((4003, "too many invalid frames".into()))
    );
    relay.stop().await;
}

#[tokio::test]
async fn players_and_data_connections_get_the_relays_shutdown() {
    let relay = TestRelay::start(local()).await;
    let mut host = NativeHost::link(&relay).await;
    let (mut player, mut data, _) = spliced_player(&relay, &mut host).await;
    let held = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    host.player().await;
    let mut control = connect(&relay.url("/link")).await;
    next_json(&mut control, "a second host's registration").await;
    relay.handle.shutdown();
    let shutdown = Some((4103, "relay shutting down".into()));
    assert_eq!(closed(&mut player, "the shutdown").await, shutdown);
    assert_eq!(closed(&mut data, "the shutdown").await, shutdown);
    assert_eq!(closed(&mut control, "the shutdown").await, shutdown);
    let answer = within("the held refusal", held)
        .await
        .unwrap()
        .expect_err("refused");
    assert_eq!(answer.status, 503);
    relay.stop().await;
}
