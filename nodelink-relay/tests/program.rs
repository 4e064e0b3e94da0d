//! The `nodelink-relay` program as an operator runs it: its metrics endpoint,
//! found from its own log line, scraped over HTTP behind its token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(15);

/// The relay program, killed when dropped.
struct Program(Child);

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the program with `flags` and returns it with the address its log line
/// names after `prefix`.
fn start(flags: &[&str], prefix: &str) -> (Program, String) {
    spawn(
        Command::new(env!("CARGO_BIN_EXE_nodelink-relay")).args(flags),
        prefix,
    )
}

/// [`start`] with a variable set in the program's environment; waits for its
/// metrics' log line.
fn start_with_env(flags: &[&str], (name, value): (&str, &str)) -> (Program, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nodelink-relay"));
    command.args(flags).env(name, value);
    spawn(&mut command, "metrics on http://")
}

fn spawn(command: &mut Command, prefix: &str) -> (Program, String) {
    let mut child = command
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the program starts");
    let stderr = child.stderr.take().expect("its log");
    let program = Program(child);
    let (lines, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = seen
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("no log line with {prefix:?} within {DEADLINE:?}"));
        if let Some(rest) = line.split(prefix).nth(1) {
            let addr = rest
                .split(['/', ' '])
                .next()
                .expect("an address")
                .to_owned();
            return (program, addr);
        }
    }
}

/// `GET path` with `headers`: the status and the whole answer.
fn get(addr: &str, path: &str, headers: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .expect("a status");
    (status, answer)
}

#[test]
fn the_relay_serves_its_metrics_behind_its_token() {
    let flags = [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--metrics",
        "127.0.0.1:0",
        "--metrics-token",
        "s3cret",
    ];
    let (_relay, addr) = start(&flags, "metrics on http://");
    assert_eq!(get(&addr, "/metrics", "").0, 401);
    assert_eq!(
        get(&addr, "/metrics", "Authorization: Bearer wrong\r\n").0,
        401
    );
    let (status, answer) = get(&addr, "/metrics", "Authorization: Bearer s3cret\r\n");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("content-type: application/openmetrics-text"));
    assert!(answer.contains("\r\n\r\n# HELP nodelink_relay_games"));
    assert!(answer.contains("\nnodelink_relay_games 0\n"));
    assert!(answer.ends_with("# EOF\n"));
}

#[test]
fn metrics_are_never_served_without_a_token() {
    let output = Command::new(env!("CARGO_BIN_EXE_nodelink-relay"))
        .args(["--port", "0", "--metrics", "127.0.0.1:0"])
        .output()
        .expect("the program runs");
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("--metrics ADDR needs --metrics-token TOKEN"),
        "{said}"
    );
}

#[test]
fn the_token_may_come_from_the_environment() {
    let flags = [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--metrics",
        "127.0.0.1:0",
    ];
    let (_relay, addr) = start_with_env(&flags, ("NODELINK_RELAY_METRICS_TOKEN", "from-env"));
    assert_eq!(
        get(&addr, "/metrics", "Authorization: Bearer s3cret\r\n").0,
        401
    );
    let (status, answer) = get(&addr, "/metrics", "Authorization: Bearer from-env\r\n");
    assert_eq!(status, 200, "{answer}");
}
