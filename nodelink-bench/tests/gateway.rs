//! The load generator's `--gateway` mode for a couple of seconds: a Redis, game
//! processes and a gateway started for the run, bots through the gateway into
//! matches spread over the processes, a broadcast that crosses processes, and
//! finds timed through the gateway and straight to a process.
//!
//! Without `redis-server` each test is skipped with a notice (it fails under
//! `CI`).

use std::path::PathBuf;
use std::process::Command;

/// The number after the first `"key":` in a JSON line.
fn number(json: &str, key: &str) -> Option<f64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[start..];
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    rest[..end].trim_start_matches('[').parse().ok()
}

/// Whether `redis-server` is here; without it, a notice (and a failure under CI).
fn redis_installed() -> bool {
    let installed = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is needed under CI (apt-get install redis-server)"
        );
        eprintln!("skipped: redis-server is not installed (apt-get install redis-server)");
    }
    installed
}

/// The gateway is `nodelink-relay`, which loadgen runs from beside itself: built
/// there (with loadgen's profile) unless it already is.
fn relay_beside_loadgen() {
    let loadgen = PathBuf::from(env!("CARGO_BIN_EXE_loadgen"));
    let release = loadgen
        .parent()
        .and_then(|dir| dir.file_name())
        .is_some_and(|name| name == "release");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", "nodelink-relay"]);
    if release {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cargo build -p nodelink-relay: {status}");
}

/// Runs loadgen with a service of its own; `None` when the test is skipped.
fn loadgen(args: &[&str]) -> Option<String> {
    if !redis_installed() {
        return None;
    }
    relay_beside_loadgen();
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .output()
        .expect("loadgen runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "loadgen failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    Some(stdout.lines().last().expect("a result line").to_owned())
}

#[test]
fn bots_play_matches_on_two_processes_through_a_gateway() {
    let Some(result) = loadgen(&[
        "--scenario",
        "matches",
        "--gateway",
        "2",
        "--players",
        "40",
        "--match-size",
        "10",
        "--rate",
        "5",
        "--observers",
        "4",
        "--warmup",
        "1",
        "--duration",
        "2",
    ]) else {
        return;
    };
    assert_eq!(number(&result, "connected"), Some(40.0), "{result}");
    assert_eq!(number(&result, "largest_match"), Some(10.0), "{result}");
    assert_eq!(number(&result, "groups"), Some(4.0), "{result}");
    let frames = number(&result, "frames_per_s_per_client").expect("frames/s");
    assert!(
        (10.0..=30.0).contains(&frames),
        "{frames} frames/s at tick rate 20: {result}"
    );
    assert!(
        number(&result, "samples").expect("latency") > 0.0,
        "{result}"
    );
    assert!(
        number(&result, "sent_moves_per_s").expect("moves") > 0.0,
        "{result}"
    );
    assert!(
        number(&result, "gateway_cpu_percent").expect("gateway") > 0.0,
        "{result}"
    );
    // Each process took its share, 20 players: both work.
    let processes = result
        .split("\"process_cpu_percent\":[")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("each process's CPU");
    let each: Vec<f64> = processes.split(',').map(|p| p.parse().unwrap()).collect();
    assert_eq!(each.len(), 2, "{result}");
    assert!(each.iter().all(|cpu| *cpu > 0.0), "{result}");
    // The processes renew their leases and matches in Redis while they play.
    assert!(
        number(&result, "redis_commands_per_s").expect("redis") > 0.0,
        "{result}"
    );
    assert!(result.contains("\"pexpire\":"), "{result}");
}

#[test]
fn a_service_broadcast_reaches_the_players_of_every_process() {
    let Some(result) = loadgen(&[
        "--scenario",
        "fanout",
        "--fanout",
        "service",
        "--gateway",
        "2",
        "--players",
        "20",
        "--match-size",
        "5",
        "--rate",
        "10",
        "--observers",
        "4",
        "--warmup",
        "1",
        "--duration",
        "2",
    ]) else {
        return;
    };
    assert_eq!(number(&result, "connected"), Some(20.0), "{result}");
    // Every client hears every line, on the sender's process and on the other.
    let heard = number(&result, "chats_per_s_per_client").expect("chat lines/s");
    assert!(
        (7.0..=13.0).contains(&heard),
        "{heard} lines/s of 10: {result}"
    );
    assert!(
        number(&result, "samples").expect("latency") > 0.0,
        "{result}"
    );
    assert!(result.contains("\"publish\":"), "through Redis: {result}");
}

#[test]
fn finds_are_timed_through_the_gateway_and_straight_to_a_process() {
    let Some(result) = loadgen(&[
        "--scenario",
        "find",
        "--gateway",
        "1",
        "--players",
        "20",
        "--match-size",
        "10",
        "--trickle",
        "6",
        "--rate",
        "50",
    ]) else {
        return;
    };
    let storms: Vec<&str> = result.split("\"found\":").skip(1).collect();
    assert_eq!(storms.len(), 2, "a storm each way: {result}");
    for storm in storms {
        assert!(storm.starts_with("20,"), "every find found: {result}");
    }
    let trickle = result.split("\"trickle\":").nth(1).expect("the trickle");
    assert_eq!(number(trickle, "samples"), Some(3.0), "{result}");
    assert_eq!(number(trickle, "gateway_failed"), Some(0.0), "{result}");
}
