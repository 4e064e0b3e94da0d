//! The load generator against a nodelink server for a couple of seconds: bots
//! connect, frames arrive at the tick rate, joins are timed, and the result lines
//! parse.

use std::process::Command;

/// The number after `"key":` in a flat JSON line.
fn number(json: &str, key: &str) -> Option<f64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Runs loadgen against nodelink; returns its result line and its progress lines.
fn loadgen(args: &[&str]) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--target", "nodelink"])
        .args(args)
        .output()
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "loadgen failed:\n{stderr}");
    let result = stdout.lines().last().expect("a result line").to_owned();
    (result, stderr)
}

#[test]
fn loadgen_measures_a_short_sync_run() {
    let (result, stderr) = loadgen(&[
        "--players",
        "20",
        "--observers",
        "3",
        "--warmup",
        "1",
        "--duration",
        "2",
    ]);
    assert!(
        stderr.contains("frames/s per client"),
        "a progress line: {stderr}"
    );
    assert_eq!(number(&result, "connected"), Some(20.0), "{result}");
    let frames = number(&result, "frames_per_s_per_client").expect("frames/s");
    assert!(
        (10.0..=30.0).contains(&frames),
        "{frames} frames/s at tick rate 20: {result}"
    );
    assert!(
        number(&result, "samples").expect("latency samples") > 0.0,
        "{result}"
    );
    assert!(number(&result, "server_cpu_percent").is_some(), "{result}");
    assert!(
        number(&result, "server_rss_kib").expect("rss") > 0.0,
        "{result}"
    );
}

#[test]
fn loadgen_times_a_short_connect_ramp() {
    let (result, _) = loadgen(&["--scenario", "connect", "--players", "50", "--rate", "100"]);
    assert_eq!(number(&result, "connected"), Some(50.0), "{result}");
    assert_eq!(number(&result, "joins_failed"), Some(0.0), "{result}");
    assert_eq!(
        number(&result, "samples"),
        Some(50.0),
        "a time per join: {result}"
    );
    // nodelink tells the players already there only of the newcomer: a few bytes
    // each, however many players there are.
    let per_client = number(&result, "bytes_per_existing_client_per_join").expect("bytes");
    assert!(
        (1.0..64.0).contains(&per_client),
        "{per_client} bytes per existing client per join: {result}"
    );
}

#[test]
fn loadgen_fills_matches_found_by_the_bots() {
    let (result, _) = loadgen(&[
        "--scenario",
        "matches",
        "--players",
        "30",
        "--match-size",
        "10",
        "--observers",
        "3",
        "--warmup",
        "1",
        "--duration",
        "2",
    ]);
    assert_eq!(number(&result, "connected"), Some(30.0), "{result}");
    // One bot at a time finds the match with a free place, so they fill in order.
    assert_eq!(number(&result, "groups"), Some(3.0), "{result}");
    assert_eq!(number(&result, "smallest_match"), Some(10.0), "{result}");
    assert_eq!(number(&result, "largest_match"), Some(10.0), "{result}");
    let frames = number(&result, "frames_per_s_per_client").expect("frames/s");
    assert!(
        (10.0..=30.0).contains(&frames),
        "{frames} frames/s at tick rate 20: {result}"
    );
    assert!(
        number(&result, "samples").expect("latency samples") > 0.0,
        "{result}"
    );
    assert!(
        number(&result, "server_rss_per_group_kib").expect("rss per match") > 0.0,
        "{result}"
    );
}

#[test]
fn loadgen_storms_find_into_full_matches() {
    let (result, _) = loadgen(&[
        "--scenario",
        "find",
        "--players",
        "50",
        "--match-size",
        "10",
    ]);
    assert_eq!(number(&result, "connected"), Some(50.0), "{result}");
    assert_eq!(number(&result, "failed"), Some(0.0), "{result}");
    assert_eq!(number(&result, "samples"), Some(50.0), "{result}");
    // Fifty clients at once, ten places a match: exactly five matches, full.
    assert_eq!(number(&result, "matches_by_welcome"), Some(5.0), "{result}");
    assert_eq!(number(&result, "smallest_match"), Some(10.0), "{result}");
    assert_eq!(number(&result, "matches_listed"), Some(5.0), "{result}");
    assert_eq!(number(&result, "players_listed"), Some(50.0), "{result}");
}

#[test]
fn loadgen_times_matches_created_and_ended() {
    let (result, stderr) = loadgen(&[
        "--scenario",
        "lifecycle",
        "--players",
        "20",
        "--rounds",
        "2",
    ]);
    assert!(stderr.contains("round 2"), "a line per round: {stderr}");
    assert!(stderr.contains("cycle 2"), "a line per cycle: {stderr}");
    assert!(
        number(&result, "visit_us").expect("visit") > 0.0,
        "{result}"
    );
    assert!(
        number(&result, "create_end_us").expect("create and end") > 0.0,
        "{result}"
    );
    assert!(number(&result, "match_cost_us").is_some(), "{result}");
    assert!(
        result.contains("\"rss_after_kib\":[") && result.contains("\"held_kib_per_match\":["),
        "{result}"
    );
}
