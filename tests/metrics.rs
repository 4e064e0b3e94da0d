//! The process's metrics as Prometheus reads them: served on an axum route behind
//! the operator's token, scraped over HTTP, and parsed by the Prometheus
//! project's own OpenMetrics parser (Python `prometheus_client`, installed by
//! `tests/python/setup.sh`), with the numbers the server's activity implies.

use std::collections::BTreeMap;
use std::process::Command;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use nodelink::server::{metrics, Server};
use nodelink_examples::Game;
use nodelink_tests::{
    eventually, http_request, local_config, python, serve, serve_router, upgrade, within, Watcher,
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
    let handle = running.handle.clone();
    // The operator's route: its own path, its own authentication.
    let app = axum::Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let handle = handle.clone();
            async move {
                let authorized = headers
                    .get(header::AUTHORIZATION)
                    .is_some_and(|value| value == "Bearer s3cret");
                if !authorized {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                let text = handle.metrics_text();
                ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
            }
        }),
    );
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
