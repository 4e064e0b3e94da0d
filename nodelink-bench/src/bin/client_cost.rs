//! What a Rust client costs to mirror an all-to-all world: a
//! [`PollClient`](nodelink::client::PollClient) in a 60 Hz game loop, connected to the nodelink bench server while `loadgen` moves
//! N−1 bots on it (the `sync` scenario), then the same frames decoded offline, by
//! nodelink and by plain `rmp-serde`.
//!
//! `cargo run -p nodelink-bench --release --bin client-cost -- --players 1000`
//! (build `loadgen` and `bench-server-nodelink` first: `cargo build --release -p
//! nodelink-bench`). `--help` has the options.
//!
//! Reported, as one JSON line:
//! - live: the client process's CPU (both of its threads: the connection's and the
//!   game loop's) as a percentage of one core and per frame, its heap allocations
//!   and reallocations per frame (every one in the process, the WebSocket layer's
//!   included),
//!   frames per second and players mirrored;
//! - offline, on frames recorded from a second connection to the same game: the
//!   time and allocations per frame of nodelink's decode, of its decode and apply
//!   to the mirror, of plain `rmp_serde::from_slice` into tuples, and of that plus
//!   applying to a `HashMap` (the least a hand-written mirror can do), as medians
//!   of interleaved rounds.

use std::alloc::System;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use nodelink::client::{Client, ClientEvent, World};
use nodelink::wire::{decode_server_frame, handshake, ServerFrame};
use nodelink::Protocol;
use nodelink_bench::process;
use nodelink_examples::Game;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const HELP: &str = "\
client-cost: what a Rust PollClient costs to mirror an all-to-all world

  --players N       players in the world, the measured client included      [1000]
  --rate R          moves per second per bot                                  [20]
  --warmup S        seconds after the client's mirror is complete              [3]
  --duration S      seconds measured                                          [10]
  --frames K        sync frames recorded for the offline decode               [100]
  --server-cpus L   start the server under `taskset -c L`, and the load
                    generator under the other cores given by --loadgen-cpus
  --loadgen-cpus L  start loadgen under `taskset -c L`
  --json FILE       also write the result line to FILE
  --help            this text";

struct Args {
    players: usize,
    rate: f64,
    warmup: f64,
    duration: f64,
    frames: usize,
    server_cpus: Option<String>,
    loadgen_cpus: Option<String>,
    json: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        players: 1000,
        rate: 20.0,
        warmup: 3.0,
        duration: 10.0,
        frames: 100,
        server_cpus: None,
        loadgen_cpus: None,
        json: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        let mut value = || given.next().ok_or(format!("{arg} needs a value"));
        let number = |text: String| text.parse::<f64>().map_err(|e| format!("{arg}: {e}"));
        match arg.as_str() {
            "--help" | "-h" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            "--players" => args.players = number(value()?)? as usize,
            "--rate" => args.rate = number(value()?)?,
            "--warmup" => args.warmup = number(value()?)?,
            "--duration" => args.duration = number(value()?)?,
            "--frames" => args.frames = number(value()?)? as usize,
            "--server-cpus" => args.server_cpus = Some(value()?),
            "--loadgen-cpus" => args.loadgen_cpus = Some(value()?),
            "--json" => args.json = Some(value()?),
            other => return Err(format!("unknown option `{other}`; see --help")),
        }
    }
    if args.players < 2 {
        return Err("--players must be at least 2 (the client and one bot)".into());
    }
    if args.frames == 0 || args.duration <= 0.0 {
        return Err("--frames and --duration must be positive".into());
    }
    Ok(args)
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sibling(binary: &str, cpus: Option<&str>) -> Result<Command, String> {
    let path = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .with_file_name(binary);
    if !path.exists() {
        return Err(format!(
            "no {} (build it: cargo build --release -p nodelink-bench)",
            path.display()
        ));
    }
    Ok(match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus]).arg(path);
            command
        }
        None => Command::new(path),
    })
}

fn start_server(cpus: Option<&str>) -> Result<(Running, String), String> {
    let mut child = sibling("bench-server-nodelink", cpus)?
        .arg("0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?;
    Ok((running, format!("ws://{addr}/")))
}

/// The live part: the client's CPU and allocations while it mirrors the world.
struct Live {
    cpu_percent: f64,
    frames_per_second: f64,
    cpu_us_per_frame: f64,
    allocations_per_frame: f64,
    allocated_bytes_per_frame: f64,
    changes_per_frame: f64,
    mirrored: usize,
}

fn measure_live(url: &str, args: &Args) -> Result<Live, String> {
    let mut client = Client::<Game>::from_url(url)
        .spawn()
        .map_err(|e| e.to_string())?;
    let frame = Duration::from_secs_f64(1.0 / 60.0);
    // The bots join at loadgen's pace; the mirror is ready once it holds them all.
    let deadline = Instant::now() + Duration::from_secs(120);
    while client.world().len() < args.players || !client.world().is_complete() {
        if Instant::now() > deadline {
            return Err(format!(
                "the mirror holds {} of {} players after 120 s",
                client.world().len(),
                args.players
            ));
        }
        for event in client.wait(frame) {
            if let ClientEvent::Disconnected(reason) = event {
                return Err(format!("the client was disconnected: {reason}"));
            }
        }
    }
    let mut window = |seconds: f64, count: bool| {
        let region = Region::new(ALLOCATOR);
        let cpu = own_cpu_seconds();
        let start = Instant::now();
        let (mut frames, mut changes) = (0u64, 0u64);
        let mut next = start;
        while start.elapsed().as_secs_f64() < seconds {
            next += frame;
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            for event in client.poll() {
                if let ClientEvent::StateSync(sync) = event {
                    frames += 1;
                    changes += sync.changes.len() as u64;
                }
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let used = own_cpu_seconds() - cpu;
        let stats = region.change();
        count.then_some((elapsed, used, frames, changes, stats))
    };
    window(args.warmup, false);
    let (elapsed, used, frames, changes, stats) = window(args.duration, true).ok_or("no window")?;
    let frames_f = (frames as f64).max(1.0);
    Ok(Live {
        cpu_percent: 100.0 * used / elapsed,
        frames_per_second: frames as f64 / elapsed,
        cpu_us_per_frame: used * 1e6 / frames_f,
        allocations_per_frame: allocator_calls(&stats) as f64 / frames_f,
        allocated_bytes_per_frame: stats.bytes_allocated as f64 / frames_f,
        changes_per_frame: changes as f64 / frames_f,
        mirrored: client.world().len(),
    })
}

/// CPU time used so far by this process's threads, in seconds, to the nanosecond
/// (`/proc/self/task/*/schedstat`; `/proc/self/stat` counts in hundredths, too
/// coarse for a client that uses a few milliseconds a second).
fn own_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return process::cpu_seconds("self").unwrap_or(0.0);
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// Records the snapshot and then `count` sync frames from a second connection.
async fn record(url: &str, count: usize) -> Result<(Vec<Vec<u8>>, Vec<Vec<u8>>), String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let offer = handshake::subprotocol(Game::FINGERPRINT);
    request.headers_mut().insert(
        "sec-websocket-protocol",
        offer.parse().map_err(|_| "bad header")?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    let (mut snapshot, mut frames) = (Vec::new(), Vec::new());
    let mut in_snapshot = true;
    while frames.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .map_err(|_| "no frame for 10 s")?
            .ok_or("the server closed the recording connection")?
            .map_err(|e| e.to_string())?;
        let Message::Binary(bytes) = message else {
            continue;
        };
        if let Ok(ServerFrame::Sync(frame)) = decode_server_frame::<Game>(&bytes, usize::MAX) {
            if in_snapshot {
                snapshot.push(bytes.to_vec());
                in_snapshot = frame.header.more;
            } else if frame.joined.is_empty() && frame.left.is_empty() {
                // Steady state only: no arrival (this connection's own included).
                frames.push(bytes.to_vec());
            }
        }
    }
    let _ = socket.close(None).await;
    Ok((snapshot, frames))
}

/// A player entry as plain serde reads it: `[net id, mask, value…]`, up to two
/// `f32` values (the bots change `x`, and `y` on their first move).
struct Entry {
    net: u32,
    mask: u64,
    values: [f32; 2],
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Entry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("[net id, mask, f32…]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
                let missing = || serde::de::Error::custom("short player entry");
                let net = seq.next_element()?.ok_or_else(missing)?;
                let mask = seq.next_element()?.ok_or_else(missing)?;
                let mut values = [0.0; 2];
                for value in &mut values {
                    match seq.next_element()? {
                        Some(v) => *value = v,
                        None => break,
                    }
                }
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::custom("more than two values"));
                }
                Ok(Entry { net, mask, values })
            }
        }
        deserializer.deserialize_seq(Fields)
    }
}

/// A sync frame as plain serde reads it (PROTOCOL.md: kind, tick, online, flags,
/// left, joined, players, server state).
type PlainFrame = (
    u8,
    u64,
    u32,
    u8,
    Vec<u32>,
    Vec<(u32, u32)>,
    Vec<Entry>,
    Option<serde::de::IgnoredAny>,
);

/// Time and allocations per frame of one way to read the recorded frames.
#[derive(Default, Clone)]
struct Offline {
    ns_per_frame: Vec<f64>,
    allocations_per_frame: f64,
}

fn per_frame(frames: &[Vec<u8>], reps: usize, mut read: impl FnMut(&[u8])) -> (f64, f64) {
    let region = Region::new(ALLOCATOR);
    let start = Instant::now();
    for _ in 0..reps {
        for frame in frames {
            read(frame);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let count = (reps * frames.len()) as f64;
    (
        elapsed * 1e9 / count,
        allocator_calls(&region.change()) as f64 / count,
    )
}

/// Allocations and reallocations: each a call into the allocator, and a growing
/// vector's reallocations are most of what a naive decoder costs.
fn allocator_calls(stats: &stats_alloc::Stats) -> usize {
    stats.allocations + stats.reallocations
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn measure_offline(snapshot: &[Vec<u8>], frames: &[Vec<u8>]) -> Vec<(&'static str, Offline)> {
    let mut world = World::<Game>::default();
    for bytes in snapshot {
        if let Ok(ServerFrame::Sync(frame)) = decode_server_frame::<Game>(bytes, usize::MAX) {
            world.apply(frame);
        }
    }
    let mut plain_mirror: HashMap<u32, [f32; 2]> = HashMap::new();
    let mut changes = 0usize;
    let reps = 20;
    let mut results: Vec<(&'static str, Offline)> = [
        "plain rmp-serde: from_slice into tuples",
        "plain rmp-serde, then applied to a HashMap",
        "nodelink: decode_server_frame",
        "nodelink: decode_server_frame, then World::apply",
    ]
    .into_iter()
    .map(|name| (name, Offline::default()))
    .collect();
    for _ in 0..7 {
        let rounds: [(f64, f64); 4] = [
            per_frame(frames, reps, |bytes| {
                let frame: PlainFrame = rmp_serde::from_slice(bytes).expect("a sync frame");
                changes += frame.6.len();
            }),
            per_frame(frames, reps, |bytes| {
                let frame: PlainFrame = rmp_serde::from_slice(bytes).expect("a sync frame");
                for entry in &frame.6 {
                    let state = plain_mirror.entry(entry.net).or_default();
                    if entry.mask & 1 != 0 {
                        state[0] = entry.values[0];
                    }
                    if entry.mask & 2 != 0 {
                        state[1] = entry.values[usize::from(entry.mask & 1 != 0)];
                    }
                }
            }),
            per_frame(frames, reps, |bytes| {
                let frame = decode_server_frame::<Game>(bytes, usize::MAX);
                changes += matches!(frame, Ok(ServerFrame::Sync(_))) as usize;
            }),
            per_frame(frames, reps, |bytes| {
                if let Ok(ServerFrame::Sync(frame)) = decode_server_frame::<Game>(bytes, usize::MAX)
                {
                    changes += world.apply(frame).changes.len();
                }
            }),
        ];
        for ((_, result), (ns, allocations)) in results.iter_mut().zip(rounds) {
            result.ns_per_frame.push(ns);
            result.allocations_per_frame = allocations;
        }
    }
    std::hint::black_box(changes);
    results
}

fn main() {
    if let Err(error) = run() {
        eprintln!("client-cost: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let (_server, url) = start_server(args.server_cpus.as_deref())?;
    let bots = args.players - 1;
    // Long enough for the ramp, the client's warm-up and window, and the recording.
    let lasts = 120.0 + args.warmup + args.duration;
    let _loadgen = Running(
        sibling("loadgen", args.loadgen_cpus.as_deref())?
            .args(["--target", &url, "--scenario", "sync"])
            .args(["--players", &bots.to_string()])
            .args(["--rate", &args.rate.to_string()])
            .args(["--warmup", "0", "--duration", &lasts.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start loadgen: {e}"))?,
    );
    let live = measure_live(&url, &args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (snapshot, frames) = runtime.block_on(record(&url, args.frames))?;
    drop(runtime);
    let offline = measure_offline(&snapshot, &frames);
    let bytes = frames.iter().map(Vec::len).sum::<usize>() / frames.len();

    let baseline = median(&offline[0].1.ns_per_frame);
    let mut line = format!(
        "{{\"players\":{},\"mirrored\":{},\"frames_per_second\":{:.2},\"changes_per_frame\":{:.1},\
         \"frame_bytes\":{bytes},\"client_cpu_percent\":{:.2},\"client_cpu_us_per_frame\":{:.1},\
         \"client_allocations_per_frame\":{:.2},\"client_allocated_bytes_per_frame\":{:.0},\"offline\":[",
        args.players,
        live.mirrored,
        live.frames_per_second,
        live.changes_per_frame,
        live.cpu_percent,
        live.cpu_us_per_frame,
        live.allocations_per_frame,
        live.allocated_bytes_per_frame,
    );
    for (i, (name, result)) in offline.iter().enumerate() {
        let ns = median(&result.ns_per_frame);
        let _ = write!(
            line,
            "{}{{\"path\":\"{name}\",\"us_per_frame\":{:.2},\"vs_plain\":{:.2},\"allocations_per_frame\":{:.2}}}",
            if i == 0 { "" } else { "," },
            ns / 1e3,
            ns / baseline,
            result.allocations_per_frame,
        );
    }
    line.push_str("]}");
    println!("{line}");
    if let Some(path) = &args.json {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{path}: {e}"))?;
        writeln!(file, "{line}").map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
