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
