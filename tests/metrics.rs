//! The process's metrics as Prometheus reads them: served on an axum route behind
//! the operator's token, scraped over HTTP, and parsed by the Prometheus
//! project's own OpenMetrics parser (Python `prometheus_client`, installed by
//! `tests/python/setup.sh`), with the numbers the server's activity implies.

use std::collections::BTreeMap;
use std::process::Command;

use axum::http::{header, HeaderMap};
use nodelink::server::{listen, metrics, Server};
use nodelink::testing::FaultyProxy;
use nodelink_examples::Game;
use nodelink_tests::{
    eventually, http_request, local_config, poll_until, python, serve, serve_router, upgrade,
    within, JsonClient, Watcher,
};
use serde_json::Value;

/// Parses `text` with `prometheus_client.openmetrics.parser`: every sample as
/// `name{label="value",…}` (labels sorted) to its value.
fn parsed(text: &str) -> BTreeMap<String, f64> {
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
samples = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        samples[f"{s.name}{{{labels}}}"] = s.value
print(json.dumps(samples))
"#;
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the OpenMetrics parser refused the text:\n{}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let samples: BTreeMap<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    samples
        .into_iter()
        .map(|(name, value)| (name, value.as_f64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_are_scraped_behind_a_token_and_parsed_by_prometheus_own_parser() {
    let running = serve(Server::<Game>::new(local_config())).await;
    // The operator's route, behind the operator's own check.
    let app = metrics::router(running.handle.clone(), |headers: &HeaderMap| {
        headers
            .get(header::AUTHORIZATION)
            .is_some_and(|value| value == "Bearer s3cret")
    });
    let (metrics_addr, _http) = serve_router(app, false).await;

    // Two players, one moving; the server kicks the other; a client of another
    // protocol is refused.
    let ada = Watcher::connect(&running.url()).await;
    let mut bob = Watcher::connect(&running.url()).await;
    let bob_id = bob.id.expect("connected");
    running.handle.kick(bob_id).unwrap();
    bob.next_where("the kick", |seen| {
        matches!(seen, nodelink_tests::Seen::Disconnected(_)).then_some(())
    })
    .await;
    let other = nodelink::wire::handshake::subprotocol(0x0123_4567_89ab_cdef);
    let (refused, _) = upgrade(&running.url(), Some(&other), &[]).await;
    assert_eq!(refused.status, 400);
    ada.sender
        .send(nodelink_examples::ToServer::Move { x: 1.0, y: 2.0 })
        .unwrap();
    eventually("ada's move synced, bob gone", || {
        running.handle.process_stats().sync.frames > 0 && running.handle.player_count() == 1
    })
    .await;

    let denied = http_request(metrics_addr, "/metrics", &[]).await;
    assert_eq!(denied.status, 401, "no token, no metrics");
    let answer = http_request(
        metrics_addr,
        "/metrics",
        &[("Authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some(metrics::CONTENT_TYPE));
    let samples = parsed(&answer.body);
    let kind = &running.handle.matches()[0].kind;
    let at = |name: &str| -> f64 {
        *samples
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {samples:#?}"))
    };
    assert_eq!(at(&format!("nodelink_matches{{kind=\"{kind}\"}}")), 1.0);
    assert_eq!(at(&format!("nodelink_players{{kind=\"{kind}\"}}")), 1.0);
    assert_eq!(at("nodelink_matches_started_total{}"), 1.0);
    assert_eq!(
        at("nodelink_connections_ended_total{reason=\"kicked by the server\"}"),
        1.0
    );
    assert_eq!(
        at("nodelink_connections_ended_total{reason=\"too many invalid frames\"}"),
        0.0
    );
    assert_eq!(
        at("nodelink_refusals_total{reason=\"protocol mismatch\"}"),
        1.0
    );
    assert!(at("nodelink_ticks_total{}") >= 1.0);
    assert!(at("nodelink_sync_frames_total{}") >= 1.0);
    assert!(at("nodelink_sent_bytes_total{}") > 0.0);
    let ticks = at("nodelink_tick_duration_seconds_count{}");
    assert!(ticks >= 1.0);
    assert_eq!(
        at("nodelink_tick_duration_seconds_bucket{le=\"+Inf\"}"),
        ticks
    );
    assert!(at("nodelink_tick_duration_seconds_sum{}") >= 0.0);
    assert!(samples.contains_key("nodelink_tick_overruns_total{}"));
    assert!(samples.contains_key("nodelink_handler_errors_total{}"));
    assert_eq!(at("nodelink_handler_panics_total{}"), 0.0);
    assert_eq!(at("nodelink_resumes_total{}"), 0.0);
    assert_eq!(
        at("nodelink_resumes_refused_total{reason=\"session expired\"}"),
        0.0
    );
    // Labels are kinds and reasons, never match codes or player ids.
    let code = &running.handle.matches()[0].code;
    assert!(!answer.body.contains(code.as_str()));
    assert!(!answer.body.contains(&ada.id.unwrap().to_string()));
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stand_alone_server_serves_its_metrics_on_a_port_of_its_own() {
    let running = serve(Server::<Game>::new(local_config())).await;
    let scrapes = listen("127.0.0.1:0").await.unwrap();
    let metrics_addr = scrapes.local_addr().unwrap();
    let endpoint = tokio::spawn(metrics::serve(running.handle.clone(), scrapes, |headers| {
        headers
            .get("authorization")
            .is_some_and(|value| value == "Bearer s3cret")
    }));
    let token = [("Authorization", "Bearer s3cret")];
    assert_eq!(
        http_request(metrics_addr, "/metrics", &[]).await.status,
        401
    );
    assert_eq!(
        http_request(metrics_addr, "/other", &token).await.status,
        404
    );

    // A native player who moves, a JSON player who moves, and a native player
    // whose connection is lost: it is paused, and may still resume.
    let ada = Watcher::connect(&running.url()).await;
    let mut json = JsonClient::connect(&running.url()).await;
    let proxy = FaultyProxy::start(running.addr).await.unwrap();
    let _lost = Watcher::connect(&proxy.url()).await;
    ada.sender
        .send(nodelink_examples::ToServer::Move { x: 1.0, y: 2.0 })
        .unwrap();
    json.send("move", serde_json::json!({"x": 3.0, "y": 4.0}))
        .await;
    proxy.cut();
    // Scraped until the pause is published (at the tick after it) and the JSON
    // move has been read.
    let samples = poll_until("the pause and the JSON move in the metrics", || async {
        let answer = http_request(metrics_addr, "/metrics", &token).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some(metrics::CONTENT_TYPE));
        assert_eq!(answer.header("connection"), Some("close"));
        let samples = parsed(&answer.body);
        let paused = samples
            .iter()
            .any(|(name, n)| name.starts_with("nodelink_paused_players{") && *n == 1.0);
        let json_read = samples.get("nodelink_frames_in_total{wire=\"json\"}") == Some(&1.0);
        (paused && json_read).then_some(samples)
    })
    .await;
    let kind = &running.handle.matches()[0].kind;
    let at = |name: &str| -> f64 {
        *samples
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {samples:#?}"))
    };
    assert_eq!(at(&format!("nodelink_players{{kind=\"{kind}\"}}")), 3.0);
    assert_eq!(
        at(&format!("nodelink_paused_players{{kind=\"{kind}\"}}")),
        1.0
    );
    let queued = at(&format!("nodelink_queued_sends{{kind=\"{kind}\"}}"));
    let deepest = at(&format!("nodelink_deepest_queue_sends{{kind=\"{kind}\"}}"));
    assert!(deepest <= queued, "the deepest queue is one of the queues");
    // Each wire's traffic in its own series: what each client sent arrived, and
    // each was written its welcome and sync frames.
    for wire in ["native", "json"] {
        assert!(at(&format!("nodelink_frames_in_total{{wire=\"{wire}\"}}")) >= 1.0);
        assert!(at(&format!("nodelink_bytes_in_total{{wire=\"{wire}\"}}")) > 0.0);
        assert!(at(&format!("nodelink_frames_out_total{{wire=\"{wire}\"}}")) >= 2.0);
        let bytes_out = at(&format!("nodelink_bytes_out_total{{wire=\"{wire}\"}}"));
        assert!(bytes_out > 0.0);
    }
    // A JSON frame of a move is longer than the native one, and one JSON client
    // sent exactly one.
    assert_eq!(at("nodelink_frames_in_total{wire=\"json\"}"), 1.0);
    let json_move = serde_json::json!({"event": "move", "data": {"x": 3.0, "y": 4.0}});
    assert_eq!(
        at("nodelink_bytes_in_total{wire=\"json\"}"),
        json_move.to_string().len() as f64
    );
    // Frames are encoded once per view and delivered to each recipient.
    let encoded = at("nodelink_sync_frames_total{}") + at("nodelink_snapshot_frames_total{}");
    assert!(
        at("nodelink_sync_deliveries_total{}") >= encoded,
        "{} {} {}",
        at("nodelink_sync_deliveries_total{}"),
        at("nodelink_sync_frames_total{}"),
        at("nodelink_snapshot_frames_total{}")
    );
    endpoint.abort();
    within("stopping", running.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_serves_its_own_metrics() {
    use nodelink_relay::{Relay, RelayConfig};
    let relay = Relay::new(RelayConfig::default().host("127.0.0.1").port(0))
        .bind()
        .await
        .expect("binds");
    let url = format!("ws://{}", relay.local_addr());
    let relay_handle = relay.handle();
    let relay_task = tokio::spawn(relay.run());
    let scrapes = listen("127.0.0.1:0").await.unwrap();
    let metrics_addr = scrapes.local_addr().unwrap();
    let handle = relay_handle.clone();
    let endpoint = tokio::spawn(metrics::serve_with(
        scrapes,
        move || handle.metrics_text(),
        |headers| {
            headers
                .get("authorization")
                .is_some_and(|value| value == "Bearer s3cret")
        },
    ));
    assert_eq!(
        http_request(metrics_addr, "/metrics", &[]).await.status,
        401
    );

    // A server hosts through the relay; a player joins by code and moves; a
    // join with a code no one holds is refused.
    let hosted = within(
        "registering",
        Server::<Game>::new(local_config()).relay(&url),
    )
    .await
    .expect("registers");
    let code = hosted.code().to_owned();
    let serving = tokio::spawn(hosted.run());
    let ann = Watcher::connect(&format!("{url}/join/{code}")).await;
    ann.sender
        .send(nodelink_examples::ToServer::Move { x: 1.0, y: 2.0 })
        .unwrap();
    let (refused, _) = upgrade(&format!("{url}/join/ZZZZZZ"), None, &[]).await;
    assert_eq!(refused.status, 404);

    let token = [("Authorization", "Bearer s3cret")];
    let samples = poll_until("the move relayed, in the metrics", || async {
        let answer = http_request(metrics_addr, "/metrics", &token).await;
        assert_eq!(answer.status, 200);
        let samples = parsed(&answer.body);
        let moved = samples
            .get("nodelink_relay_messages_total{direction=\"to_game\"}")
            .is_some_and(|n| *n >= 1.0);
        moved.then_some(samples)
    })
    .await;
    let at = |name: &str| -> f64 {
        *samples
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {samples:#?}"))
    };
    assert_eq!(at("nodelink_relay_games{}"), 1.0);
    assert_eq!(at("nodelink_relay_players{}"), 1.0);
    assert_eq!(at("nodelink_relay_waiting_players{}"), 0.0);
    // The host's link, its player's join, its answer's splice, the refused join.
    assert!(at("nodelink_relay_connections_total{}") >= 4.0);
    assert_eq!(at("nodelink_relay_refusals_total{status=\"404\"}"), 1.0);
    assert!(at("nodelink_relay_bytes_total{direction=\"to_game\"}") > 0.0);
    // The welcome and the first sync frames went the other way.
    assert!(at("nodelink_relay_messages_total{direction=\"to_players\"}") >= 1.0);
    assert!(at("nodelink_relay_bytes_total{direction=\"to_players\"}") > 0.0);
    // A relay that is no gateway has no gateway series; codes are no labels.
    assert!(!samples
        .keys()
        .any(|name| name.starts_with("nodelink_gateway_")));
    assert!(!samples.keys().any(|name| name.contains(&code)));

    drop(ann);
    endpoint.abort();
    serving.abort();
    relay_handle.shutdown();
    within("the relay to stop", relay_task).await.unwrap();
}
