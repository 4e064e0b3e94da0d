//! The operator's monitor page (`nodelink::server::monitor`) as an operator sees
//! it: in headless Chromium, with the operator's cookie, driven by
//! `clients/typescript/test/browser/monitor.ts`. It lists the matches with their
//! players and rates, and its Kick button disconnects a player; without the
//! cookie every route answers 401.
//!
//! Needs Chromium (`/usr/bin/chromium`, or the path in `NODELINK_CHROMIUM`); when
//! it is missing the test is skipped with a notice, unless `CI` is set. Saves a
//! screenshot as `target/monitor.png`, and as `docs/monitor.png` when that file is
//! missing or `NODELINK_UPDATE_SCREENSHOT=1`.

use axum::http::header;
use nodelink::server::monitor;
use nodelink::wire::CloseReason;
use nodelink_examples::ToServer;
use nodelink_tests::{
    browser_tools, http_request, local_config, repo_root, reporting_game, serve, serve_router,
    within, ChildReports, Seen, Watcher,
};
use serde_json::{json, Value};
use tokio::process::Command;

/// Runs `command` and returns its `shown` report, if it makes one.
async fn run(browser: &mut ChildReports, command: Value) -> Option<Value> {
    browser.command(&command).await;
    let mut shown = None;
    loop {
        let report = browser.next("the monitor page").await;
        match report["kind"].as_str() {
            Some("shown") => shown = Some(report),
            Some("done") => return shown,
            Some("page_error" | "failed") => panic!("the monitor page failed: {report}"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_lists_matches_and_players_and_kicks_one_behind_the_operator_s_cookie() {
    // The example game (moves set positions), with pings the page shows soon.
    let config = local_config().ping_interval(std::time::Duration::from_millis(200));
    let (server, _errors) = reporting_game(config);
    let running = serve(server).await;
    let admin = axum::Router::new().nest(
        "/monitor",
        monitor::router(running.handle.clone(), |headers| {
            headers
                .get(header::COOKIE)
                .and_then(|cookie| cookie.to_str().ok())
                .is_some_and(|cookie| cookie.split("; ").any(|c| c == "monitor=s3cret"))
        }),
    );
    let (admin_addr, _http) = serve_router(admin, false).await;

    // Without the cookie, nothing: the page, its state, its buttons.
    for path in ["/monitor", "/monitor/state"] {
        assert_eq!(
            http_request(admin_addr, path, &[]).await.status,
            401,
            "{path}"
        );
    }
    let ada = Watcher::connect(&running.url()).await;
    let mut bob = Watcher::connect(&running.url()).await;
    ada.sender.send(ToServer::Move { x: 3.0, y: 4.0 }).unwrap();
    bob.sender.send(ToServer::Move { x: 7.5, y: 1.0 }).unwrap();
    let (ada_id, bob_id) = (ada.id.unwrap(), bob.id.unwrap());
    let state = http_request(
        admin_addr,
        "/monitor/state",
        &[("Cookie", "monitor=s3cret")],
    )
    .await;
    assert_eq!(state.status, 200);
    let state: Value = serde_json::from_str(&state.body).unwrap();
    assert_eq!(state["players"], 2, "{state}");

    let Some((chromium, script)) = browser_tools("monitor", "the monitor page test") else {
        within("stopping", running.stop()).await;
        return;
    };
    let url = format!("http://{admin_addr}/monitor");
    let mut page = Command::new("node");
    page.arg(&script)
        .arg(&chromium)
        .arg(&url)
        .arg("monitor=s3cret");
    let mut browser = ChildReports::spawn("the monitor page", &mut page, true);
    let shown = run(&mut browser, json!({ "cmd": "wait_players", "count": 2 }))
        .await
        .expect("what the page shows");
    let code = running.handle.matches()[0].code.clone();
    assert_eq!(shown["matches"], json!([code]), "{shown}");
    let mut listed: Vec<String> = serde_json::from_value(shown["players"].clone()).unwrap();
    listed.sort();
    let mut expected = vec![ada_id.to_string(), bob_id.to_string()];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(
        shown["process"]
            .as_str()
            .unwrap()
            .starts_with("1 match, 2 players"),
        "{shown}"
    );
    let rates = shown["rates"][0].as_str().unwrap();
    assert!(rates.contains("ticks/s") && !rates.contains('…'), "{rates}");

    let path = repo_root().join("target/monitor.png");
    run(
        &mut browser,
        json!({ "cmd": "screenshot", "path": path.display().to_string() }),
    )
    .await;
    let bytes = std::fs::read(&path).expect("the screenshot");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    let docs = repo_root().join("docs/monitor.png");
    if !docs.exists() || std::env::var("NODELINK_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        std::fs::write(&docs, &bytes).expect("the screenshot in docs/");
    }

    // The page's Kick button: bob is closed as kicked, and leaves the page.
    let after = run(
        &mut browser,
        json!({ "cmd": "kick", "player": bob_id.to_string() }),
    )
    .await
    .expect("what the page shows after the kick");
    assert_eq!(after["players"], json!([ada_id.to_string()]), "{after}");
    let gone = bob
        .next_where("bob kicked", |seen| match seen {
            Seen::Disconnected(info) => Some(info.clone()),
            _ => None,
        })
        .await;
    assert_eq!(gone.close_reason(), Some(CloseReason::Kicked), "{gone:?}");
    browser.command(&json!({ "cmd": "exit" })).await;
    browser.exited().await;
    within("stopping", running.stop()).await;
}
