//! The load generator against a nodelink server for a couple of seconds: bots
//! connect, frames arrive at the tick rate, and the result line parses.

use std::process::Command;

/// The number after `"key":` in a flat JSON line.
fn number(json: &str, key: &str) -> Option<f64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[test]
fn loadgen_measures_a_short_sync_run() {
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "--target",
            "nodelink",
            "--players",
            "20",
            "--observers",
            "3",
        ])
        .args(["--warmup", "1", "--duration", "2"])
        .output()
        .expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "loadgen failed:\n{stderr}");
    let result = stdout.lines().last().expect("a result line");
    assert!(
        stderr.contains("frames/s per client"),
        "a progress line: {stderr}"
    );
    assert_eq!(number(result, "connected"), Some(20.0), "{result}");
    let frames = number(result, "frames_per_s_per_client").expect("frames/s");
    assert!(
        (10.0..=30.0).contains(&frames),
        "{frames} frames/s at tick rate 20: {result}"
    );
    assert!(
        number(result, "samples").expect("latency samples") > 0.0,
        "{result}"
    );
    assert!(number(result, "server_cpu_percent").is_some(), "{result}");
    assert!(
        number(result, "server_rss_kib").expect("rss") > 0.0,
        "{result}"
    );
}
