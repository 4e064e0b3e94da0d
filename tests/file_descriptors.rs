//! A server out of file descriptors keeps its players and waits before accepting
//! again, rather than spinning on a failing `accept`; once descriptors are free,
//! it accepts again. The server runs as its own process under `ulimit -n 32`.

use std::process::Stdio;
use std::time::Duration;

use nodelink_tests::{within, Watcher};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStderr, Command};

/// The descriptors the server may hold: a few for itself, the rest for sockets.
const FD_LIMIT: u32 = 32;

/// The CPU time (user and system, in clock ticks) the process `pid` used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the server's stat");
    // Fields after the command name (which is in parentheses): utime is the 14th
    // field of the line, stime the 15th.
    let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

async fn start_server() -> (Child, String, Lines<BufReader<ChildStderr>>) {
    let binary = env!("CARGO_BIN_EXE_fd_limited_server");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {FD_LIMIT} && exec \"$0\""))
        .arg(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = within("the server's address", stdout.next_line())
        .await
        .expect("reads")
        .expect("a line");
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected output: {line}"));
    let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    (child, format!("ws://{addr}/"), stderr)
}

/// Reads the server's log until a line containing `needle`.
async fn log_line(log: &mut Lines<BufReader<ChildStderr>>, needle: &str) -> String {
    within(needle, async {
        loop {
            let line = log
                .next_line()
                .await
                .expect("reads")
                .expect("the log goes on");
            if line.contains(needle) {
                return line;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_the_server_backs_off_keeps_its_players_and_recovers() {
    let (mut child, url, mut log) = start_server().await;
    let pid = child.id().expect("running");
    let mut ada = Watcher::connect(&url).await;
    let ada_id = ada.id.expect("connected");

    // Connections that never upgrade: each holds a descriptor of the server's
    // until its handshake timeout; more than it has make `accept` fail.
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_owned();
    let mut hogs = Vec::new();
    for _ in 0..FD_LIMIT * 2 {
        hogs.push(
            TcpStream::connect(&addr)
                .await
                .expect("the kernel queues it"),
        );
    }
    let warning = log_line(&mut log, "accept failed").await;
    assert!(
        warning.contains("waiting before accepting again"),
        "{warning}"
    );

    // While accept keeps failing, the server waits between attempts: over a
    // second, it uses a small part of a core (a loop retrying at once uses all
    // of one). Measured in the same run, against the second's length.
    let before = cpu_ticks(pid);
    let window = Duration::from_secs(1);
    tokio::time::sleep(window).await;
    let used = cpu_ticks(pid) - before;
    let ticks_per_second = 100; // USER_HZ on Linux
    assert!(
        used * 4 < ticks_per_second,
        "the server used {used} ticks of CPU in {window:?} out of file descriptors"
    );

    // The player already in keeps playing.
    ada.sender
        .send(nodelink_examples::ToServer::Move { x: 5.0, y: 6.0 })
        .unwrap();
    ada.world_where("ada's move while out of descriptors", |world| {
        world.get(&ada_id).is_some_and(|a| (a.x, a.y) == (5.0, 6.0))
    })
    .await;

    // Descriptors freed, the server accepts again.
    drop(hogs);
    log_line(&mut log, "accepting again").await;
    let mut bob = Watcher::connect(&url).await;
    let bob_id = bob.id.expect("connected");
    bob.world_where("both players", |world| {
        world.contains_key(&ada_id) && world.contains_key(&bob_id)
    })
    .await;

    drop(child.stdin.take());
    let status = within("the server to stop", child.wait())
        .await
        .expect("waits");
    assert!(status.success(), "{status}");
}
