//! What a page learns when the server refuses it, in headless Chromium: a client
//! of another build of the protocol, a page from an origin the server does not
//! allow, credentials the authentication hook refuses and a full server each
//! reach the page as a typed error (`ProtocolMismatchError` with both
//! fingerprints, `RefusedError` with its kind), where a browser used to see only
//! "WebSocket error" and code 1006. Refusals that retrying cannot change are not
//! retried; a full server is, within the reconnection policy. The server's
//! `on_refusal` hook sees each refused connection, so the test counts the
//! attempts on both sides.
//!
//! The pages are driven by `clients/typescript/test/browser/refusals.ts` through
//! playwright-core, with the client bundled and minified as a site ships it.
//! Needs Chromium (`/usr/bin/chromium`, or the path in `NODELINK_CHROMIUM`); when
//! it is missing the test is skipped with a notice, unless `CI` is set.

use nodelink::server::Rejection;
use nodelink::wire::RefusalKind;
use nodelink::Protocol;
use nodelink_examples::Game;
use nodelink_tests::{
    browser_tools, local_config, reporting_game, serve, within, ChildReports, Watcher,
};
use serde_json::{json, Value};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Reports until the page's outcome: the reconnection attempts and errors seen on
/// the way, then the outcome.
async fn connect(browser: &mut ChildReports, command: Value) -> (Vec<u64>, Vec<Value>, Value) {
    browser.command(&command).await;
    within("the page's outcome", async {
        let (mut attempts, mut errors) = (Vec::new(), Vec::new());
        loop {
            let report = browser.next("the page's outcome").await;
            match report["kind"].as_str() {
                Some("outcome") => return (attempts, errors, report),
                Some("reconnecting") => attempts.push(report["attempt"].as_u64().unwrap()),
                Some("error") => errors.push(report),
                Some("page_error" | "failed") => panic!("the page failed: {report}"),
                _ => {}
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_reaches_the_page_as_a_typed_error() {
    let Some((chromium, driver)) = browser_tools("refusals", "the browser refusals test") else {
        return;
    };
    let mut command_line = Command::new("node");
    command_line.arg(&driver).arg(&chromium);
    let mut browser = ChildReports::spawn("the browser driver", &mut command_line, true);
    let site = browser.expect("ready").await["port"].as_u64().unwrap();

    // One server behind every gate: an allow-list with the site's origin as
    // `127.0.0.1` (as `localhost`, the same site is another origin), an
    // authentication hook that knows one bad ticket, room for one player.
    let config = local_config()
        .allow_origins([format!("http://127.0.0.1:{site}")])
        .max_players(1);
    let (mut server, _errors) = reporting_game(config);
    server.authenticate(|request| async move {
        match request.query_param("ticket").as_deref() {
            Some("bad") => Err(Rejection::unauthorized("no such ticket")),
            _ => Ok(()),
        }
    });
    let (refusals_tx, mut refusals) = mpsc::unbounded_channel();
    server.on_refusal(move |refusal| {
        let _ = refusals_tx.send((refusal.kind(), refusal.reason().to_owned()));
    });
    let running = serve(server).await;
    let url = running.url();
    let schema: Value = serde_json::from_str(&Game::schema().to_json()).unwrap();
    let fingerprint = format!("{:016x}", Game::FINGERPRINT);
    let reconnect = json!({ "initialDelayMs": 20, "maxAttempts": 2 });
    let command = |host: &str, url: &str, other: bool| {
        json!({ "cmd": "connect", "host": host, "url": url, "schema": schema,
                "other_protocol": other, "reconnect": reconnect })
    };

    // A page built from another protocol: both fingerprints, and no retry.
    let (attempts, errors, outcome) = connect(&mut browser, command("127.0.0.1", &url, true)).await;
    assert_eq!(outcome["outcome"], "failed", "{outcome}");
    assert_eq!(
        (&outcome["class"], &outcome["name"], &outcome["error"]),
        (
            &json!("ProtocolMismatchError"),
            &json!("ProtocolMismatchError"),
            &json!("protocol_mismatch")
        )
    );
    assert_eq!(outcome["server"], fingerprint.as_str());
    let client = outcome["client"].as_str().unwrap();
    assert_ne!(client, fingerprint);
    let message = outcome["message"].as_str().unwrap();
    assert!(
        message.contains(client) && message.contains(&fingerprint),
        "{message}"
    );
    assert_eq!((attempts.len(), errors.len()), (0, 1), "{errors:?}");
    assert_eq!(outcome["client_status"], "disconnected");
    let (kind, _) = within("the refusal", refusals.recv()).await.unwrap();
    assert_eq!(kind, RefusalKind::ProtocolMismatch);

    // A page from another origin.
    let (attempts, _, outcome) = connect(&mut browser, command("localhost", &url, false)).await;
    assert_eq!(
        (&outcome["class"], &outcome["refusal"], &outcome["status"]),
        (
            &json!("RefusedError"),
            &json!("OriginNotAllowed"),
            &json!(403)
        )
    );
    assert_eq!(
        outcome["reason"],
        format!("origin http://localhost:{site} is not allowed")
    );
    assert!(attempts.is_empty());
    assert_eq!(outcome["client_status"], "disconnected");
    let (kind, _) = within("the refusal", refusals.recv()).await.unwrap();
    assert_eq!(kind, RefusalKind::OriginNotAllowed);

    // Credentials the authentication hook refuses.
    let (attempts, _, outcome) = connect(
        &mut browser,
        command("127.0.0.1", &format!("{url}?ticket=bad"), false),
    )
    .await;
    assert_eq!(
        (
            &outcome["class"],
            &outcome["refusal"],
            &outcome["status"],
            &outcome["reason"]
        ),
        (
            &json!("RefusedError"),
            &json!("Unauthorized"),
            &json!(401),
            &json!("no such ticket")
        )
    );
    assert_eq!(
        outcome["message"],
        "refused by the server (Unauthorized): no such ticket"
    );
    assert!(attempts.is_empty());
    let (kind, _) = within("the refusal", refusals.recv()).await.unwrap();
    assert_eq!(kind, RefusalKind::Unauthorized);

    // A player fills the server.
    let _player = Watcher::connect(&url).await;
    assert_eq!(running.handle.player_count(), 1);

    // The server is full now: worth retrying, so retried (twice, the policy's
    // limit), then reported with its reason.
    let (attempts, errors, outcome) =
        connect(&mut browser, command("127.0.0.1", &url, false)).await;
    assert_eq!(
        (
            &outcome["class"],
            &outcome["refusal"],
            &outcome["status"],
            &outcome["reason"]
        ),
        (
            &json!("RefusedError"),
            &json!("ServerFull"),
            &json!(503),
            &json!("server full")
        )
    );
    assert_eq!(attempts, [1, 2]);
    assert_eq!(errors.len(), 3);
    for _ in 0..3 {
        let (kind, _) = within("a refusal", refusals.recv()).await.unwrap();
        assert_eq!(kind, RefusalKind::ServerFull);
    }
    // Every refusal of this test reached the hook, and no other.
    assert!(refusals.try_recv().is_err());

    browser.command(&json!({ "cmd": "exit" })).await;
    browser.exited().await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_is_admitted_connects_as_ever() {
    let Some((chromium, driver)) = browser_tools("refusals", "the browser refusals test") else {
        return;
    };
    let (server, _errors) = reporting_game(local_config());
    let running = serve(server).await;
    let schema: Value = serde_json::from_str(&Game::schema().to_json()).unwrap();
    let mut command_line = Command::new("node");
    command_line.arg(&driver).arg(&chromium);
    let mut browser = ChildReports::spawn("the browser driver", &mut command_line, true);
    browser.expect("ready").await;
    let command = json!({ "cmd": "connect", "host": "127.0.0.1", "url": running.url(),
                          "schema": schema, "other_protocol": false, "reconnect": true });
    let (attempts, errors, outcome) = connect(&mut browser, command).await;
    assert_eq!(outcome["outcome"], "connected", "{outcome}");
    assert_eq!(outcome["client_status"], "open");
    assert!(attempts.is_empty() && errors.is_empty(), "{errors:?}");
    browser.command(&json!({ "cmd": "exit" })).await;
    browser.exited().await;
    running.stop().await;
}
