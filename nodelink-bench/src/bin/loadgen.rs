//! Load generator: N bot clients over loopback against a server it starts (or one
//! given by URL), measured over a fixed window after a warm-up.
//!
//! `cargo run -p nodelink-bench --release --bin loadgen -- --help`

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use nodelink::wire::{decode_server_frame, encode_event, encode_pong, handshake, ServerFrame};
use nodelink::Protocol;
use nodelink_bench::process::{cpu_seconds, rss_bytes, CpuMeter};
use nodelink_bench::{limit_wire, since};
use nodelink_examples::{Game, ToServer};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const HELP: &str = "\
loadgen: bots over loopback against a game server, measured after a warm-up

USAGE: loadgen [OPTIONS]

OPTIONS:
  --target T        nodelink | limit | python | ws://HOST:PORT/ (a running nodelink
                    server)                                                     [nodelink]
                    python: Python nodelink 0.6.0 (nodelink-bench/python/setup.sh
                    installs it), spoken to in its JSON protocol
  --scenario S      sync: every bot moves --rate times a second, every client receives
                          every change (tick rate 20)
                    idle: bots connect and do nothing (memory per player)            [sync]
  --players N       bots to connect                                                   [100]
  --observers K     bots that decode every frame and time their own changes            [5]
  --rate HZ         moves per second per bot (sync)                                    [20]
  --warmup S        seconds before measuring                                           [3]
  --duration S      seconds measured                                                   [10]
  --json FILE       also write the result line to FILE
  --help            this text

Prints a progress line each second to stderr and one JSON result line to stdout:
server CPU (% of one core, from /proc/PID/stat), server RSS, the generator's own
CPU, sync frames and bytes per second per client, and the latency from a bot's
move to the frame that carries it (p50, p99, max, from an HDR histogram).
";

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Nodelink,
    Limit,
    Python,
    Url(String),
}

/// How a server speaks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire {
    /// nodelink's MessagePack frames.
    Native,
    /// The hand-written limit server's frames.
    Limit,
    /// Python nodelink's `{"event", "data"}` JSON text frames.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    Sync,
    Idle,
}

#[derive(Debug, Clone)]
struct Args {
    target: Target,
    scenario: Scenario,
    players: usize,
    observers: usize,
    rate: f64,
    warmup: f64,
    duration: f64,
    json: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        target: Target::Nodelink,
        scenario: Scenario::Sync,
        players: 100,
        observers: 5,
        rate: 20.0,
        warmup: 3.0,
        duration: 10.0,
        json: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{word} needs a value"));
        match word.as_str() {
            "--help" | "-h" => {
                print!("{HELP}");
                std::process::exit(0);
            }
            "--target" => {
                args.target = match value()?.as_str() {
                    "nodelink" => Target::Nodelink,
                    "limit" => Target::Limit,
                    "python" => Target::Python,
                    url if url.starts_with("ws://") => Target::Url(url.to_owned()),
                    other => return Err(format!("unknown target `{other}`")),
                }
            }
            "--scenario" => {
                args.scenario = match value()?.as_str() {
                    "sync" => Scenario::Sync,
                    "idle" => Scenario::Idle,
                    other => return Err(format!("unknown scenario `{other}` (sync, idle)")),
                }
            }
            "--players" => {
                args.players = value()?.parse().map_err(|e| format!("--players: {e}"))?
            }
            "--observers" => {
                args.observers = value()?.parse().map_err(|e| format!("--observers: {e}"))?
            }
            "--rate" => args.rate = value()?.parse().map_err(|e| format!("--rate: {e}"))?,
            "--warmup" => args.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--duration" => {
                args.duration = value()?.parse().map_err(|e| format!("--duration: {e}"))?
            }
            "--json" => args.json = Some(value()?),
            other => return Err(format!("unknown option `{other}`; see --help")),
        }
    }
    args.observers = args.observers.min(args.players);
    Ok(args)
}

/// A server process started for the run; killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(binary: &str) -> Result<Self, String> {
        let path = std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name(binary);
        let mut child = Command::new(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (build it: cargo build -p nodelink-bench --release)",
                    path.display()
                )
            })?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from {binary}: {line:?}"))?;
        Ok(Self {
            url: format!("ws://{addr}/"),
            child,
        })
    }

    /// Python nodelink on a free port; waits for its "nodelink ready" line.
    fn start_python() -> Result<Self, String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
        let python = format!("{dir}/.venv/bin/python");
        if !std::path::Path::new(&python).exists() {
            return Err(format!("no Python nodelink: run {dir}/setup.sh first"));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let mut child = Command::new(&python)
            .args(["-u", &format!("{dir}/server.py"), &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {python}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("nodelink ready") => break,
                Some(Ok(_)) => {}
                _ => return Err("Python nodelink did not start".into()),
            }
        }
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self {
            url: format!("ws://127.0.0.1:{port}/"),
            child,
        })
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every bot adds to.
#[derive(Default)]
struct Counters {
    frames: AtomicU64,
    bytes: AtomicU64,
    connected: AtomicU64,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects one bot; returns the socket and its id on the wire (net id or limit
/// id; Python nodelink tells a client nothing, so 0).
async fn connect(url: &str, wire: Wire) -> Result<(Socket, u32), String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    if wire == Wire::Json {
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| e.to_string())?;
        return Ok((socket, 0));
    }
    let limit = wire == Wire::Limit;
    if !limit {
        let offer = handshake::subprotocol(Game::FINGERPRINT);
        request.headers_mut().insert(
            "sec-websocket-protocol",
            offer.parse().map_err(|_| "bad header")?,
        );
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    let Some(Ok(Message::Binary(first))) = socket.next().await else {
        return Err("no welcome".into());
    };
    let id = if limit {
        let mut bytes = &first[..];
        rmp::decode::read_array_len(&mut bytes).map_err(|e| e.to_string())?;
        rmp::decode::read_int(&mut bytes).map_err(|e| e.to_string())?
    } else {
        match decode_server_frame::<Game>(&first, usize::MAX) {
            Ok(ServerFrame::Welcome(welcome)) => welcome.net_id.0,
            _ => return Err("the first frame was not a welcome".into()),
        }
    };
    Ok((socket, id))
}

/// What one bot does.
struct Plan {
    /// Its id on the wire (net id, or the limit server's id).
    id: u32,
    /// Its y coordinate, to tell bots apart.
    index: usize,
    /// How the server speaks.
    wire: Wire,
    /// Moves per second, or none (idle).
    rate: Option<f64>,
    /// Where an observer records latencies.
    latency: Option<Arc<Mutex<Histogram<u64>>>>,
    counters: Arc<Counters>,
    stop: Instant,
}

/// One bot: moves at `rate` (sync), counts what it receives, answers pings; an
/// observer also finds its own moves in the frames and records their latency.
async fn bot(socket: Socket, plan: Plan) {
    let Plan {
        id,
        index,
        wire,
        rate,
        latency,
        counters,
        stop,
    } = plan;
    let limit = wire == Wire::Limit;
    // Python nodelink never tells a client its id: an observer's first move carries
    // a position no other bot uses, and the id that shows it is its own.
    let marker = -1000.0 - index as f32;
    let (mut sink, mut stream) = socket.split();
    let sent: Arc<Mutex<HashMap<u32, Instant>>> = Arc::default();
    let observing = latency.is_some();
    let (pongs, mut pong_queue) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let writer_sent = sent.clone();
    let writer = async move {
        let mut ticker = rate.map(|r| tokio::time::interval(Duration::from_secs_f64(1.0 / r)));
        let mut seq = 0u32;
        loop {
            tokio::select! {
                Some(pong) = pong_queue.recv() => {
                    if sink.send(pong).await.is_err() { return; }
                }
                _ = async { ticker.as_mut().expect("moving bot").tick().await }, if ticker.is_some() => {
                    let x = if seq == 0 && wire == Wire::Json && observing { marker } else { seq.wrapping_add(1) as f32 };
                    seq = seq.wrapping_add(1);
                    let y = index as f32;
                    let frame = match wire {
                        Wire::Limit => Message::Binary(limit_wire::encode_move(x, y).into()),
                        Wire::Native => match encode_event(&ToServer::Move { x, y }) {
                            Ok(frame) => Message::Binary(frame),
                            Err(_) => return,
                        },
                        Wire::Json => Message::Text(format!(r#"{{"event":"move","data":{{"x":{x:?},"y":{y:?}}}}}"#).into()),
                    };
                    if observing {
                        if let Ok(mut sent) = writer_sent.lock() {
                            sent.insert(seq, Instant::now());
                            sent.retain(|s, _| seq.wrapping_sub(*s) < 1024);
                        }
                    }
                    if sink.send(frame).await.is_err() { return; }
                }
            }
            if Instant::now() >= stop {
                return;
            }
        }
    };
    let reader = async move {
        let mut python_id: Option<String> = None;
        while let Some(Ok(message)) = stream.next().await {
            let mine = match message {
                Message::Text(text) if wire == Wire::Json => {
                    // Counting bots only peek at the event name (Python nodelink writes
                    // it first); parsing is for pings and observers.
                    let head = &text.as_bytes()[..text.len().min(48)];
                    let is_sync = head.windows(14).any(|w| w == b"__state_sync__");
                    let is_ping = !is_sync && head.windows(8).any(|w| w == b"__ping__");
                    if is_sync && latency.is_none() {
                        counters.frames.fetch_add(1, Ordering::Relaxed);
                        counters
                            .bytes
                            .fetch_add(text.len() as u64, Ordering::Relaxed);
                        continue;
                    }
                    if !is_sync && !is_ping {
                        continue;
                    }
                    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
                        continue;
                    };
                    match value["event"].as_str() {
                        Some("__ping__") => {
                            let pong =
                                serde_json::json!({"event": "__pong__", "data": value["data"]});
                            let _ = pongs.send(Message::Text(pong.to_string().into()));
                            continue;
                        }
                        Some("__state_sync__") => {}
                        _ => continue,
                    }
                    counters.frames.fetch_add(1, Ordering::Relaxed);
                    counters
                        .bytes
                        .fetch_add(text.len() as u64, Ordering::Relaxed);
                    if latency.is_none() {
                        continue;
                    }
                    let Some(players) = value["data"]["players"].as_object() else {
                        continue;
                    };
                    if python_id.is_none() {
                        python_id = players
                            .iter()
                            .find(|(_, delta)| delta["x"].as_f64() == Some(f64::from(marker)))
                            .map(|(id, _)| id.clone());
                    }
                    python_id
                        .as_ref()
                        .and_then(|id| players.get(id))
                        .and_then(|delta| delta["x"].as_f64())
                        .map(|x| x as f32)
                }
                Message::Binary(bytes) => {
                    if !limit && bytes.len() < 16 && bytes.get(1) == Some(&3) {
                        if let Ok(ServerFrame::Ping { seq, .. }) =
                            decode_server_frame::<Game>(&bytes, usize::MAX)
                        {
                            let _ = pongs.send(Message::Binary(encode_pong(seq)));
                            continue;
                        }
                    }
                    counters.frames.fetch_add(1, Ordering::Relaxed);
                    counters
                        .bytes
                        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    if latency.is_none() {
                        continue;
                    }
                    if limit {
                        limit_wire::decode_tick(&bytes).and_then(|entries| {
                            entries.into_iter().find(|e| e.0 == id).map(|e| e.1)
                        })
                    } else {
                        match decode_server_frame::<Game>(&bytes, usize::MAX) {
                            Ok(ServerFrame::Sync(frame)) => frame
                                .players
                                .iter()
                                .find(|(net, _)| net.0 == id)
                                .and_then(|(_, d)| d.x),
                            _ => None,
                        }
                    }
                }
                _ => continue,
            };
            let (Some(x), Some(histogram)) = (mine, &latency) else {
                continue;
            };
            if x < 0.0 {
                continue;
            }
            let sent_at = sent
                .lock()
                .ok()
                .and_then(|mut sent| sent.remove(&(x as u32)));
            if let (Some(at), Ok(mut histogram)) = (sent_at, histogram.lock()) {
                let _ = histogram.record(at.elapsed().as_micros() as u64);
            }
            if Instant::now() >= stop {
                return;
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
}

fn json_number(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}")
    } else {
        "null".to_owned()
    }
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("loadgen: {error}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(args).await {
        eprintln!("loadgen: {error}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (server, url, wire) = match &args.target {
        Target::Nodelink => {
            let server = ServerProcess::start("bench-server-nodelink")?;
            let url = server.url.clone();
            (Some(server), url, Wire::Native)
        }
        Target::Limit => {
            let server = ServerProcess::start("bench-server-limit")?;
            let url = server.url.clone();
            (Some(server), url, Wire::Limit)
        }
        Target::Python => {
            let server = ServerProcess::start_python()?;
            let url = server.url.clone();
            (Some(server), url, Wire::Json)
        }
        Target::Url(url) => (None, url.clone(), Wire::Native),
    };
    let target_name = match &args.target {
        Target::Nodelink => "nodelink",
        Target::Limit => "limit",
        Target::Python => "python",
        Target::Url(_) => "url",
    };
    let pid = server.as_ref().map(ServerProcess::pid);
    let rss_empty = pid.as_deref().and_then(rss_bytes).unwrap_or(0);

    let counters = Arc::new(Counters::default());
    let histogram = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())?,
    ));
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(args.warmup + args.duration + 60.0);
    let rate = (args.scenario == Scenario::Sync).then_some(args.rate);
    let mut bots = Vec::with_capacity(args.players);
    for index in 0..args.players {
        let (socket, id) = connect(&url, wire)
            .await
            .map_err(|e| format!("bot {index}: {e}"))?;
        counters.connected.fetch_add(1, Ordering::Relaxed);
        let latency = (index < args.observers).then(|| histogram.clone());
        let plan = Plan {
            id,
            index,
            wire,
            rate,
            latency,
            counters: counters.clone(),
            stop,
        };
        bots.push(tokio::spawn(bot(socket, plan)));
    }
    eprintln!(
        "loadgen: {} bots connected in {:.1} s",
        args.players,
        since(start)
    );

    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let server_cpu = pid.as_deref().map(CpuMeter::start);
    let own_cpu = CpuMeter::start("self");
    let (frames0, bytes0) = (
        counters.frames.load(Ordering::Relaxed),
        counters.bytes.load(Ordering::Relaxed),
    );
    if let Ok(mut h) = histogram.lock() {
        h.reset();
    }
    let window = Instant::now();
    while since(window) < args.duration {
        tokio::time::sleep(Duration::from_secs(1).min(Duration::from_secs_f64(args.duration)))
            .await;
        let frames = counters.frames.load(Ordering::Relaxed) - frames0;
        eprintln!(
            "loadgen: {:>5.1} s  {:>7.1} frames/s per client  server cpu {:>5.1}%",
            since(window),
            frames as f64 / since(window) / args.players as f64,
            match (&server_cpu, pid.as_deref()) {
                (Some(meter), Some(pid)) => meter.percent(pid),
                _ => f64::NAN,
            }
        );
    }
    let seconds = since(window);
    let frames = (counters.frames.load(Ordering::Relaxed) - frames0) as f64;
    let bytes = (counters.bytes.load(Ordering::Relaxed) - bytes0) as f64;
    let server_cpu = match (&server_cpu, pid.as_deref()) {
        (Some(meter), Some(pid)) => meter.percent(pid),
        _ => f64::NAN,
    };
    let server_rss = pid.as_deref().and_then(rss_bytes).unwrap_or(0);
    let own = own_cpu.percent("self");
    let (p50, p99, max, samples) = match histogram.lock() {
        Ok(h) if !h.is_empty() => (
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            h.len(),
        ),
        _ => (f64::NAN, f64::NAN, f64::NAN, 0),
    };
    let players = args.players as f64;
    let result = format!(
        concat!(
            "{{\"target\":\"{}\",\"scenario\":\"{}\",\"players\":{},\"connected\":{},\"seconds\":{},",
            "\"server_cpu_percent\":{},\"server_rss_kib\":{},\"server_rss_per_player_kib\":{},",
            "\"loadgen_cpu_percent\":{},\"frames_per_s_per_client\":{},\"bytes_per_s_per_client\":{},",
            "\"latency_ms\":{{\"p50\":{},\"p99\":{},\"max\":{},\"samples\":{}}},\"loadgen_cpu_seconds\":{}}}"
        ),
        target_name,
        if args.scenario == Scenario::Sync { "sync" } else { "idle" },
        args.players,
        counters.connected.load(Ordering::Relaxed),
        json_number(seconds),
        json_number(server_cpu),
        server_rss / 1024,
        json_number((server_rss.saturating_sub(rss_empty)) as f64 / 1024.0 / players),
        json_number(own),
        json_number(frames / seconds / players),
        json_number(bytes / seconds / players),
        json_number(p50),
        json_number(p99),
        json_number(max),
        samples,
        json_number(cpu_seconds("self").unwrap_or(f64::NAN)),
    );
    println!("{result}");
    let _ = std::io::stdout().flush();
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{result}\n")).map_err(|e| format!("{path}: {e}"))?;
    }
    for bot in bots {
        bot.abort();
    }
    drop(server);
    Ok(())
}
