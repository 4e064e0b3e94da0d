//! Load generator: N bot clients over loopback against a server it starts (or one
//! given by URL), measured over a fixed window after a warm-up, or, for `connect`,
//! over the whole ramp of joins.
//!
//! `cargo run -p nodelink-bench --release --bin loadgen -- --help`

#[path = "loadgen/matchmaking.rs"]
mod matchmaking;
#[path = "loadgen/service.rs"]
mod service;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use nodelink::wire::{decode_server_frame, encode_event, encode_pong, handshake, ServerFrame};
use nodelink::Protocol;
use nodelink_bench::process::{cpu_seconds, open_files_limit, rss_bytes, CpuMeter, OthersMeter};
use nodelink_bench::since;
use nodelink_examples::{Game, ToClient, ToServer};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

use matchmaking::{find_url, run_find, run_lifecycle};
use nodelink_bench::{PROCESS_BROADCAST, SERVICE_BROADCAST};
use service::{run_find_through_gateway, Service, ServiceMeters};

const HELP: &str = "\
loadgen: bots over loopback against a game server, measured after a warm-up

USAGE: loadgen [OPTIONS]

OPTIONS:
  --target T        nodelink | nodelink-json | limit | floor | floor-tasks |
                    python | ws://HOST:PORT/ (a running nodelink server)        [nodelink]
                    floor: the limit server's game with nothing but socket
                    writes after the handshake (no WebSocket library, no queue)
                    floor-tasks: the floor with a queue per connection, which
                    the connection's task drains into its socket
                    nodelink-json: the nodelink server, the bots speaking its JSON
                    wire (Python nodelink's protocol) instead of the native one
                    python: Python nodelink 0.6.0 (nodelink-bench/python/setup.sh
                    installs it), spoken to in its JSON protocol
  --scenario S      sync: every bot moves --rate times a second, every client receives
                          every change (tick rate 20)
                    idle: bots connect and do nothing (memory per player)
                    broadcast: one sender bot sends --rate chat lines a second, the
                          server relays each to everyone; observers time each line
                          from send to receipt
                    connect: bots join at --rate a second up to --players (each a full
                          game client: handshake, welcome, snapshot) and stay; times
                          each join from TCP connect to its first state frame, counts
                          joins that fail (or take over 5 s) and that take over 1 s,
                          and the bytes already-connected clients receive per join
                    rooms: like sync, with the server putting players in rooms of
                          --room-size in join order and syncing each room only to its
                          members; the bots' first moves are spread over one move
                          period, so a room changes on every tick even at a low
                          --rate (not for python: Python nodelink 0.6.0 has rooms for
                          broadcasts only, not for state sync; with a ws:// target
                          the server must scope sync to rooms itself)
                    matches: like rooms, with matches instead of rooms: the
                          nodelink server hosts the kind `match` (max_players
                          --match-size) and each bot connects with
                          ?match=find&kind=match, so the bots fill matches of
                          --match-size in join order, each match its own task
                    find: --players bots ask to find a match at the same moment
                          (a storm); times each from its TCP connect to its
                          welcome, counts the matches they were put in (by the
                          welcomes' match codes, and by a listing afterwards)
                    lifecycle: the cost of a match's life: --rounds rounds of
                          --players create-then-end loops (create a match, its
                          welcome, `ready`, which ends it, the close 4011), each
                          beside as many joins of the default match (welcome,
                          close) as the baseline, timed by the server's CPU; then
                          --rounds cycles of --players matches created and held,
                          then ended, with the server's RSS at each step
                    fanout: bots find matches as in `matches` and do not move;
                          the last one sends --rate chat lines a second that the
                          process it plays on broadcasts to every match of the
                          service (--fanout service) or of the process (--fanout
                          process); observers time each line from its send to
                          its receipt                                        [sync]
  --players N       bots to connect                                                   [100]
  --observers K     bots that decode every frame and time their own moves (sync,
                    rooms: spread over the rooms) or every chat line (broadcast)      [5]
  --rate R          sync, rooms: moves per second per bot                              [20]
                    broadcast: chat lines per second from the sender                   [20]
                    connect: joins per second                                         [500]
                    sync, rooms, matches: 0 for bots that never move
  --room-size N     players per room (rooms)                                           [50]
  --match-size N    the match kind's max_players (matches, find, lifecycle)            [10]
  --rounds R        lifecycle: rounds of loops, and cycles of held matches              [3]
  --resume-grace S  the nodelink server's grace period for lost connections, in
                    seconds; 0: no sessions (the server's default: 30)
  --ping-interval S how often the nodelink server pings each player, in seconds;
                    0: never (the server's default: 5)
  --scrape-metrics S
                    how often the nodelink server renders its Prometheus
                    metrics, as a scrape would, in seconds (default: never)
  --tick-work US    matches: each match spends US microseconds of CPU in every
                    tick, and the server prints how many ticks its matches ran
                    a second, every 5 s, on standard error (default: none)
  --warmup S        seconds before measuring (not connect)                             [3]
  --duration S      seconds measured (not connect: it lasts until every join
                    has succeeded or failed)                                           [10]
  --tls             over wss:// (targets nodelink, nodelink-json): the server is
                    given a certificate made for the run, which the bots trust
  --relay           the nodelink server hosts through a nodelink-relay started for
                    the run (on the server's cores), and bots join by its code;
                    the result adds the relay's CPU (build it: cargo build
                    --release -p nodelink-relay)
  --server-cpus L   start the server under `taskset -c L` (e.g. 0), off the cores
                    the generator runs on (start it under taskset as well)
  --trace-slow MS   sync, rooms, matches: print each timed move slower than MS
                    milliseconds to stderr, with when it arrived (seconds since the
                    run began; a line tells when the window opened)
  --gateway N       a service for the run: a redis-server, N bench servers joined
                    to it (--redis) and one gateway (nodelink-relay --redis) in
                    front of them, each on a free port, all under --server-cpus
                    and stopped after; bots connect through the gateway. The
                    result adds the gateway's, each process's and Redis's CPU and
                    the commands Redis ran (INFO commandstats). With N > 1 and
                    matches or fanout, each process takes at most its share of
                    --players (--max-players), so that finds, refused by a full
                    process, fill the processes one after the other. find: the
                    storm through the gateway, then straight to the first process,
                    then --trickle finds alternating between them (needs
                    redis-server, and nodelink-relay beside loadgen: cargo build
                    --release -p nodelink-relay)
  --direct          with --gateway: bots connect straight to the processes (the
                    first share of them to the first process, and so on), not
                    through the gateway (which runs, idle)
  --fanout F        fanout: service | process                                   [service]
  --trickle N       find with --gateway: finds one at a time at --rate a second,
                    alternating gateway and direct                             [200]
  --json FILE       also write the result line to FILE
  --help            this text

Prints a progress line each second to stderr and one JSON result line to stdout:
server CPU (% of one core, from /proc/PID/stat), server RSS, the generator's own
CPU, frames and bytes per second per client (the state and chat frames' payloads,
and every byte read from the sockets: framing, pings and TLS included), and the
latency (p50, p99, max, from
an HDR histogram) from a bot's move to the frame that carries it (sync, rooms), from
a chat line's send to its receipt (broadcast, with chat lines per second per
client), or from a join's TCP connect to its first state frame (connect, with the
failed and slow joins and the bytes per join sent to the clients already there),
or from a find's TCP connect to its welcome (find), or from a fanout line's send
to its receipt (fanout). sync, rooms and matches also
give the server's RSS right after the ramp, and per room or match above the
empty server's. lifecycle gives µs of server CPU per loop of each kind (from
/proc/PID/task/*/schedstat) and the RSS of each step of its cycles.
";

/// How long a `connect` join may take before it counts as failed.
const JOIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A join slower than this is reported, though it succeeded.
const SLOW_JOIN: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Nodelink,
    /// The nodelink server, its bots speaking the JSON wire (as Python clients do).
    NodelinkJson,
    Limit,
    /// The limit server's game with nothing but socket writes on the write path.
    Floor,
    /// The floor with a queue and a writing task per connection.
    FloorTasks,
    Python,
    Url(String),
}

impl Target {
    fn name(&self) -> &'static str {
        match self {
            Self::Nodelink => "nodelink",
            Self::NodelinkJson => "nodelink-json",
            Self::Limit => "limit",
            Self::Floor => "floor",
            Self::FloorTasks => "floor-tasks",
            Self::Python => "python",
            Self::Url(_) => "url",
        }
    }
}

/// How a server speaks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire {
    /// nodelink's MessagePack frames (the limit server's too).
    Native,
    /// Python nodelink's `{"event", "data"}` JSON text frames.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scenario {
    Sync,
    Idle,
    Broadcast,
    Connect,
    Rooms,
    Matches,
    Find,
    Lifecycle,
    Fanout,
}

impl Scenario {
    const ALL: [Self; 9] = [
        Self::Sync,
        Self::Idle,
        Self::Broadcast,
        Self::Connect,
        Self::Rooms,
        Self::Matches,
        Self::Find,
        Self::Lifecycle,
        Self::Fanout,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Idle => "idle",
            Self::Broadcast => "broadcast",
            Self::Connect => "connect",
            Self::Rooms => "rooms",
            Self::Matches => "matches",
            Self::Find => "find",
            Self::Lifecycle => "lifecycle",
            Self::Fanout => "fanout",
        }
    }

    /// Whether the bots play in matches of the server's `match` kind.
    fn uses_matches(self) -> bool {
        matches!(
            self,
            Self::Matches | Self::Find | Self::Lifecycle | Self::Fanout
        )
    }

    /// Whether bots may be told not to move at all (`--rate 0`).
    fn moves(self) -> bool {
        matches!(self, Self::Sync | Self::Rooms | Self::Matches)
    }

    /// `--rate` when none is given: moves per second per bot, chat lines per
    /// second, or joins per second.
    fn default_rate(self) -> f64 {
        match self {
            Self::Connect => 500.0,
            _ => 20.0,
        }
    }
}

#[derive(Debug, Clone)]
struct Args {
    target: Target,
    scenario: Scenario,
    players: usize,
    observers: usize,
    rate: f64,
    room_size: usize,
    match_size: usize,
    rounds: usize,
    resume_grace: Option<String>,
    ping_interval: Option<f64>,
    scrape_metrics: Option<f64>,
    tick_work: Option<u64>,
    warmup: f64,
    duration: f64,
    tls: bool,
    relay: bool,
    server_cpus: Option<String>,
    json: Option<String>,
    trace_slow: Option<Duration>,
    gateway: Option<usize>,
    direct: bool,
    fanout: Fanout,
    trickle: usize,
}

/// Where a `fanout` line goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fanout {
    /// Every match of the service, through Redis (`ClusterHandle::broadcast`).
    Service,
    /// Every match of the sender's process.
    Process,
}

impl Fanout {
    fn name(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Process => "process",
        }
    }

    /// What a line begins with to be broadcast so.
    fn prefix(self) -> &'static str {
        match self {
            Self::Service => SERVICE_BROADCAST,
            Self::Process => PROCESS_BROADCAST,
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        target: Target::Nodelink,
        scenario: Scenario::Sync,
        players: 100,
        observers: 5,
        rate: f64::NAN,
        room_size: 50,
        match_size: 10,
        rounds: 3,
        resume_grace: None,
        ping_interval: None,
        scrape_metrics: None,
        tick_work: None,
        warmup: 3.0,
        duration: 10.0,
        tls: false,
        relay: false,
        server_cpus: None,
        json: None,
        trace_slow: None,
        gateway: None,
        direct: false,
        fanout: Fanout::Service,
        trickle: 200,
    };
    let mut rate = None;
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
                    "nodelink-json" => Target::NodelinkJson,
                    "limit" => Target::Limit,
                    "floor" => Target::Floor,
                    "floor-tasks" => Target::FloorTasks,
                    "python" => Target::Python,
                    url if url.starts_with("ws://") => Target::Url(url.to_owned()),
                    other => return Err(format!("unknown target `{other}`")),
                }
            }
            "--scenario" => {
                let name = value()?;
                args.scenario = Scenario::ALL
                    .into_iter()
                    .find(|scenario| scenario.name() == name)
                    .ok_or_else(|| {
                        let names: Vec<_> = Scenario::ALL.iter().map(|s| s.name()).collect();
                        format!("unknown scenario `{name}` ({})", names.join(", "))
                    })?;
            }
            "--players" => {
                args.players = value()?.parse().map_err(|e| format!("--players: {e}"))?
            }
            "--observers" => {
                args.observers = value()?.parse().map_err(|e| format!("--observers: {e}"))?
            }
            "--rate" => rate = Some(value()?.parse().map_err(|e| format!("--rate: {e}"))?),
            "--room-size" => {
                args.room_size = value()?.parse().map_err(|e| format!("--room-size: {e}"))?
            }
            "--match-size" => {
                args.match_size = value()?.parse().map_err(|e| format!("--match-size: {e}"))?
            }
            "--rounds" => args.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--resume-grace" => args.resume_grace = Some(value()?),
            "--ping-interval" => {
                let every = value()?
                    .parse()
                    .map_err(|e| format!("--ping-interval: {e}"))?;
                args.ping_interval = Some(every);
            }
            "--scrape-metrics" => {
                let every = value()?
                    .parse()
                    .map_err(|e| format!("--scrape-metrics: {e}"))?;
                args.scrape_metrics = Some(every);
            }
            "--tick-work" => {
                let micros = value()?.parse().map_err(|e| format!("--tick-work: {e}"))?;
                args.tick_work = Some(micros);
            }
            "--warmup" => args.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--duration" => {
                args.duration = value()?.parse().map_err(|e| format!("--duration: {e}"))?
            }
            "--tls" => args.tls = true,
            "--relay" => args.relay = true,
            "--gateway" => {
                let processes = value()?.parse().map_err(|e| format!("--gateway: {e}"))?;
                if processes == 0 {
                    return Err("--gateway: at least one process".into());
                }
                args.gateway = Some(processes);
            }
            "--direct" => args.direct = true,
            "--fanout" => {
                args.fanout = match value()?.as_str() {
                    "service" => Fanout::Service,
                    "process" => Fanout::Process,
                    other => return Err(format!("--fanout: service or process, not `{other}`")),
                }
            }
            "--trickle" => {
                args.trickle = value()?.parse().map_err(|e| format!("--trickle: {e}"))?
            }
            "--server-cpus" => args.server_cpus = Some(value()?),
            "--json" => args.json = Some(value()?),
            "--trace-slow" => {
                let ms: f64 = value()?.parse().map_err(|e| format!("--trace-slow: {e}"))?;
                args.trace_slow = Some(
                    Duration::try_from_secs_f64(ms / 1000.0)
                        .map_err(|e| format!("--trace-slow: {e}"))?,
                );
            }
            other => return Err(format!("unknown option `{other}`; see --help")),
        }
    }
    args.rate = rate.unwrap_or(args.scenario.default_rate());
    let least = if args.scenario.moves() {
        0.0
    } else {
        f64::MIN_POSITIVE
    };
    if !(args.rate >= least && args.rate.is_finite()) {
        return Err(format!(
            "--rate must be a positive number{}, not {}",
            if args.scenario.moves() { " or 0" } else { "" },
            args.rate
        ));
    }
    if args.room_size == 0 || args.match_size == 0 {
        return Err("--room-size and --match-size must be at least 1".into());
    }
    if args.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    if args.tick_work.is_some()
        && !(args.scenario.uses_matches() && args.target == Target::Nodelink)
    {
        return Err(
            "--tick-work: the work of the nodelink server's matches (target nodelink, \
                    scenario matches)"
                .into(),
        );
    }
    if args.scenario.uses_matches() && !matches!(args.target, Target::Nodelink | Target::Url(_)) {
        return Err(format!(
            "{}: matches are hosted by the nodelink server, on its native wire (targets \
             nodelink, ws://)",
            args.scenario.name()
        ));
    }
    if args.tls && !matches!(args.target, Target::Nodelink | Target::NodelinkJson) {
        return Err(
            "--tls: only the nodelink server serves wss:// (targets nodelink, \
                    nodelink-json)"
                .into(),
        );
    }
    if args.gateway.is_some() && (args.target != Target::Nodelink || args.tls || args.relay) {
        return Err(
            "--gateway: a service of nodelink servers (target nodelink), over ws://".into(),
        );
    }
    if args.direct && args.gateway.is_none() {
        return Err("--direct: straight to the processes of --gateway".into());
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
    fn start(binary: &str, args: &[String], cpus: Option<&str>) -> Result<Self, String> {
        let path = std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name(binary);
        let mut child = pinned(&path, cpus)
            .args(args)
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
        let url = match (
            line.trim().strip_prefix("listening on "),
            line.trim().strip_prefix("joining at "),
        ) {
            (Some(addr), _) => format!("ws://{addr}/"),
            (_, Some(url)) => url.to_owned(),
            _ => return Err(format!("unexpected first line from {binary}: {line:?}")),
        };
        Ok(Self { url, child })
    }

    /// Python nodelink on a free port; waits for its "nodelink ready" line.
    fn start_python(cpus: Option<&str>) -> Result<Self, String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
        let python = format!("{dir}/.venv/bin/python");
        if !std::path::Path::new(&python).exists() {
            return Err(format!("no Python nodelink: run {dir}/setup.sh first"));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let mut child = pinned(Path::new(&python), cpus)
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

/// A command for `program`, under `taskset -c cpus` when given (taskset then
/// becomes the program: the child's pid is the server's).
fn pinned(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpus).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A `nodelink-relay` for the run, on a free loopback port, with limits out of
/// the way of one address's thousands of bots; killed when dropped.
struct RelayProcess {
    child: Child,
    url: String,
}

impl RelayProcess {
    /// `extra`: more of its flags (a gateway's `--redis URL`).
    fn start(cpus: Option<&str>, extra: &[String]) -> Result<Self, String> {
        let path = std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("nodelink-relay");
        // A free port, given back for the relay to take at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let many = "1000000";
        let child = pinned(&path, cpus)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--max-players-per-game", many, "--max-pending-joins", many])
            .args(["--max-connections", many, "--max-connections-per-ip", many])
            .args(["--log", "error"])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (build it: cargo build --release -p nodelink-relay)",
                    path.display()
                )
            })?;
        let url = format!("ws://127.0.0.1:{port}");
        // Ready once it accepts connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("the relay did not start within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self { child, url })
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for 127.0.0.1, in PEM files the server reads at
/// start; removed with this value (the server has loaded them by then).
struct RunCertificate {
    dir: PathBuf,
    cert: String,
}

impl RunCertificate {
    fn make() -> Result<Self, String> {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .map_err(|e| format!("cannot make a certificate: {e}"))?;
        let dir = std::env::temp_dir().join(format!("loadgen-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cert = made.cert.pem();
        for (name, pem) in [
            ("cert.pem", &cert),
            ("key.pem", &made.signing_key.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), pem).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(Self { dir, cert })
    }

    /// The server's `--tls CERT KEY`.
    fn server_args(&self) -> [String; 3] {
        let file = |name: &str| self.dir.join(name).display().to_string();
        ["--tls".to_owned(), file("cert.pem"), file("key.pem")]
    }

    /// The bots' TLS settings: this certificate is their only root. The ring
    /// provider is named, as nodelink's client does.
    fn connector(&self) -> Result<Connector, String> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(self.cert.as_bytes()) {
            roots
                .add(cert.map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Connector::Rustls(Arc::new(config)))
    }
}

impl Drop for RunCertificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server being measured: started for the run, or already running at a URL.
struct UnderTest {
    process: Option<ServerProcess>,
    /// The relay the server hosts through, with `--relay`.
    relay: Option<RelayProcess>,
    /// The service whose gateway the bots reach, with `--gateway`.
    service: Option<Service>,
    url: String,
    wire: Wire,
    /// How bots open their connections: plain, or TLS trusting the run's
    /// certificate.
    connector: Connector,
}

impl UnderTest {
    async fn start(args: &Args) -> Result<Self, String> {
        // The Rust servers scope sync to rooms when given a room size.
        let mut server_args = match args.scenario {
            Scenario::Rooms => vec!["--room-size".to_owned(), args.room_size.to_string()],
            scenario if scenario.uses_matches() => {
                vec!["--match-size".to_owned(), args.match_size.to_string()]
            }
            _ => Vec::new(),
        };
        let certificate = args.tls.then(RunCertificate::make).transpose()?;
        if let Some(certificate) = &certificate {
            server_args.extend(certificate.server_args());
        }
        if let Some(grace) = &args.resume_grace {
            server_args.extend(["--resume-grace".to_owned(), grace.clone()]);
        }
        if let Some(every) = &args.ping_interval {
            server_args.extend(["--ping-interval".to_owned(), every.to_string()]);
        }
        if let Some(every) = &args.scrape_metrics {
            server_args.extend(["--scrape-metrics".to_owned(), every.to_string()]);
        }
        if let Some(micros) = &args.tick_work {
            server_args.extend(["--tick-work".to_owned(), micros.to_string()]);
        }
        let cpus = args.server_cpus.as_deref();
        if let Some(processes) = args.gateway {
            if processes > 1 && matches!(args.scenario, Scenario::Matches | Scenario::Fanout) {
                // Each process takes its share, in whole matches: finds fill one
                // process, are refused by it once it is full, and go to the next.
                let share = args.players.div_ceil(processes);
                let share = share.div_ceil(args.match_size) * args.match_size;
                server_args.extend(["--max-players".to_owned(), share.to_string()]);
            }
            let service = Service::start(processes, &server_args, cpus).await?;
            return Ok(Self {
                process: None,
                relay: None,
                url: format!("{}/", service.gateway.url),
                service: Some(service),
                wire: Wire::Native,
                connector: Connector::Plain,
            });
        }
        let relay = match (&args.target, args.relay) {
            (Target::Nodelink | Target::NodelinkJson, true) => {
                let relay = RelayProcess::start(cpus, &[])?;
                server_args.extend(["--relay".to_owned(), relay.url.clone()]);
                Some(relay)
            }
            (_, true) => return Err("--relay: for the nodelink targets only".into()),
            _ => None,
        };
        let (mut process, wire) = match &args.target {
            Target::Nodelink => (
                ServerProcess::start("bench-server-nodelink", &server_args, cpus)?,
                Wire::Native,
            ),
            Target::NodelinkJson => (
                ServerProcess::start("bench-server-nodelink", &server_args, cpus)?,
                Wire::Json,
            ),
            // The limit server speaks nodelink's native wire, byte for byte.
            Target::Limit => (
                ServerProcess::start("bench-server-limit", &server_args, cpus)?,
                Wire::Native,
            ),
            // The floor too: the limit server's game, its frames written by hand.
            Target::Floor => (
                ServerProcess::start("bench-server-floor", &server_args, cpus)?,
                Wire::Native,
            ),
            Target::FloorTasks => {
                let mut with_tasks = server_args.clone();
                with_tasks.push("--writer-tasks".to_owned());
                (
                    ServerProcess::start("bench-server-floor", &with_tasks, cpus)?,
                    Wire::Native,
                )
            }
            Target::Python if args.scenario == Scenario::Rooms => {
                return Err(
                    "no rooms scenario for python: Python nodelink 0.6.0 has rooms \
                            for broadcasts only, not for state sync"
                        .into(),
                )
            }
            Target::Python => (ServerProcess::start_python(cpus)?, Wire::Json),
            Target::Url(url) => {
                return Ok(Self {
                    process: None,
                    relay: None,
                    service: None,
                    url: url.clone(),
                    wire: Wire::Native,
                    connector: Connector::Plain,
                })
            }
        };
        let connector = match &certificate {
            Some(certificate) => {
                process.url = process.url.replacen("ws://", "wss://", 1);
                certificate.connector()?
            }
            None => Connector::Plain,
        };
        Ok(Self {
            url: process.url.clone(),
            process: Some(process),
            relay,
            service: None,
            wire,
            connector,
        })
    }

    fn relay_pid(&self) -> Option<String> {
        self.relay
            .as_ref()
            .map(|relay| relay.child.id().to_string())
    }

    /// The server's pid: the one started for the run, or a service's only
    /// process.
    fn pid(&self) -> Option<String> {
        match &self.service {
            Some(service) if service.processes.len() == 1 => Some(service.processes[0].pid()),
            Some(_) => None,
            None => self.process.as_ref().map(ServerProcess::pid),
        }
    }

    /// Where listings are read: the server, or a service's first process (a
    /// gateway answers from the directory, which learns of new matches at the
    /// processes' next renewal).
    fn listing_url(&self) -> &str {
        match &self.service {
            Some(service) => &service.processes[0].url,
            None => &self.url,
        }
    }

    /// Where bot `index` of `players` connects: the server (or its gateway), or,
    /// with `--direct`, its share's process.
    fn url_for(&self, args: &Args, index: usize) -> String {
        match &self.service {
            Some(service) if args.direct => {
                let processes = service.processes.len();
                service.processes[index * processes / args.players.max(1)]
                    .url
                    .clone()
            }
            _ => self.url.clone(),
        }
    }

    fn cpu_percent(&self, meter: Option<&CpuMeter>) -> f64 {
        match (meter, self.pid()) {
            (Some(meter), Some(pid)) => meter.percent(&pid),
            _ => f64::NAN,
        }
    }

    fn rss(&self) -> u64 {
        self.pid().as_deref().and_then(rss_bytes).unwrap_or(0)
    }

    /// Measures what the rest of the machine uses: all but this generator, the
    /// server and its relay.
    fn others_meter(&self) -> OthersMeter {
        if let Some(service) = &self.service {
            return service.others_meter();
        }
        let (server, relay) = (self.pid(), self.relay_pid());
        let mut ours = vec!["self"];
        ours.extend(server.as_deref());
        ours.extend(relay.as_deref());
        OthersMeter::start(&ours)
    }
}

/// What every bot adds to.
#[derive(Default)]
struct Counters {
    /// State frames and chat lines received (not pings).
    frames: AtomicU64,
    bytes: AtomicU64,
    chats: AtomicU64,
    connected: AtomicU64,
    /// Moves the bots sent.
    moves: AtomicU64,
}

impl Counters {
    fn count(&self, bytes: usize, chat: bool) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        if chat {
            self.chats.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    fn chats(&self) -> u64 {
        self.chats.load(Ordering::Relaxed)
    }

    fn connected(&self) -> u64 {
        self.connected.load(Ordering::Relaxed)
    }

    fn moves(&self) -> u64 {
        self.moves.load(Ordering::Relaxed)
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<CountedTcp>>;

/// Every byte the bots have read from their sockets: what the server sent, with
/// WebSocket framing, pings and (over wss://) TLS records.
static SOCKET_BYTES_READ: AtomicU64 = AtomicU64::new(0);

/// A bot's TCP stream, adding what it reads to [`SOCKET_BYTES_READ`].
struct CountedTcp(tokio::net::TcpStream);

impl tokio::io::AsyncRead for CountedTcp {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.0).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        SOCKET_BYTES_READ.fetch_add(read as u64, Ordering::Relaxed);
        poll
    }
}

impl tokio::io::AsyncWrite for CountedTcp {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

type SharedHistogram = Arc<Mutex<Histogram<u64>>>;

/// Microseconds from 1 µs to a minute, three significant digits.
fn new_histogram() -> Result<SharedHistogram, String> {
    let histogram = Histogram::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())?;
    Ok(Arc::new(Mutex::new(histogram)))
}

fn record(histogram: &SharedHistogram, micros: u64) {
    if let Ok(mut histogram) = histogram.lock() {
        let _ = histogram.record(micros.max(1));
    }
}

/// Connects one bot; returns the socket and its id on the wire (its net id;
/// Python nodelink tells a client nothing, so 0).
async fn connect(url: &str, wire: Wire, connector: &Connector) -> Result<(Socket, u32), String> {
    let (socket, id, _) = connect_welcomed(url, wire, connector).await?;
    Ok((socket, id))
}

/// [`connect`], also returning the code of the match the welcome names (none
/// from Python nodelink).
async fn connect_welcomed(
    url: &str,
    wire: Wire,
    connector: &Connector,
) -> Result<(Socket, u32, Option<String>), String> {
    let mut socket = open_socket(url, wire, connector).await?;
    if wire == Wire::Json {
        return Ok((socket, 0, None));
    }
    let first = match socket.next().await {
        Some(Ok(Message::Binary(first))) => first,
        Some(Ok(Message::Close(Some(close)))) => {
            return Err(format!(
                "no welcome: closed with {} {}",
                u16::from(close.code),
                close.reason
            ))
        }
        _ => return Err("no welcome".into()),
    };
    match decode_server_frame::<Game>(&first, usize::MAX) {
        Ok(ServerFrame::Welcome(welcome)) => {
            Ok((socket, welcome.net_id.0, welcome.settings.match_code))
        }
        _ => Err("the first frame was not a welcome".into()),
    }
}

/// Opens a TCP connection to `url` and upgrades it, offering the bench game's
/// protocol on the native wire.
async fn open_socket(url: &str, wire: Wire, connector: &Connector) -> Result<Socket, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let host = request.uri().host().ok_or("no host in the url")?;
    let port = request.uri().port_u16().ok_or("no port in the url")?;
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let stream = CountedTcp(stream);
    if wire == Wire::Native {
        let offer = handshake::subprotocol(Game::FINGERPRINT);
        request.headers_mut().insert(
            "sec-websocket-protocol",
            offer.parse().map_err(|_| "bad header")?,
        );
    }
    let (socket, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        stream,
        None,
        Some(connector.clone()),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(socket)
}

/// Connects one bot and waits for its first state frame (the snapshot of the world
/// it joins): from then on the player can play. Anything before it is skipped.
async fn join(
    url: &str,
    wire: Wire,
    connector: &Connector,
) -> Result<(Socket, u32, Option<u64>), String> {
    let (mut socket, id) = connect(url, wire, connector).await?;
    while let Some(message) = socket.next().await {
        let message = message.map_err(|e| e.to_string())?;
        if let Receipt::Sync(_) = receive(&message, wire, None) {
            let tick = (wire == Wire::Native)
                .then(|| native_sync_tick(&message))
                .flatten();
            return Ok((socket, id, tick));
        }
    }
    Err("closed before the first state frame".into())
}

/// The tick of a native sync frame.
fn native_sync_tick(message: &Message) -> Option<u64> {
    let Message::Binary(bytes) = message else {
        return None;
    };
    match decode_server_frame::<Game>(bytes, usize::MAX).ok()? {
        ServerFrame::Sync(frame) => Some(frame.header.tick.0),
        _ => None,
    }
}

/// Reads the rest of a native snapshot (nodelink sends a large one in several
/// frames of the same tick, one after the other), so that it is not counted as
/// traffic to an existing client; returns the first frame after it.
async fn rest_of_snapshot(socket: &mut Socket, tick: u64) -> Result<Option<Message>, String> {
    while let Some(message) = socket.next().await {
        let message = message.map_err(|e| e.to_string())?;
        if native_sync_tick(&message) != Some(tick) {
            return Ok(Some(message));
        }
    }
    Ok(None)
}

/// What a bot makes of one message from the server.
#[derive(Debug)]
enum Receipt {
    /// A latency probe, to be answered with this pong.
    Ping(Message),
    /// State changes; for an observer, the `x` of its own latest move if they
    /// carry it.
    Sync(Option<f32>),
    /// A chat line; for an observer, when it was sent (µs since the run began).
    Chat(Option<u64>),
    /// Anything else: a welcome, a WebSocket control frame.
    Other,
}

/// What an observer needs to find its own moves in state frames.
struct Me {
    /// Its id on the wire (its net id).
    id: u32,
    /// Python nodelink never tells a client its id: an observer's first move
    /// carries a position no other bot uses (`marker`), and the id that shows it is
    /// its own.
    python_id: Option<String>,
    marker: f32,
}

fn receive(message: &Message, wire: Wire, me: Option<&mut Me>) -> Receipt {
    match (message, wire) {
        (Message::Binary(bytes), Wire::Native) => receive_native(bytes, me.as_deref()),
        (Message::Text(text), Wire::Json) => receive_json(text, me),
        _ => Receipt::Other,
    }
}

/// nodelink frame kinds (PROTOCOL.md). Every frame the bench server sends is an
/// array short enough for a one-byte header, so the kind is the second byte.
const KIND_EVENT: u8 = 1;
const KIND_SYNC: u8 = 2;
const KIND_PING: u8 = 3;

/// Counting bots read only the kind; observers decode. The bench server's only
/// event to clients is a chat line.
fn receive_native(bytes: &[u8], me: Option<&Me>) -> Receipt {
    let decode = || decode_server_frame::<Game>(bytes, usize::MAX).ok();
    match bytes.get(1).copied() {
        Some(KIND_PING) => match decode() {
            Some(ServerFrame::Ping { seq, .. }) => Receipt::Ping(Message::Binary(encode_pong(seq))),
            _ => Receipt::Other,
        },
        Some(KIND_EVENT) => Receipt::Chat(me.and_then(|_| match decode()? {
            ServerFrame::Event(ToClient::Chat { msg, .. }) => chat_sent_at(&msg),
            _ => None,
        })),
        Some(KIND_SYNC) => Receipt::Sync(me.and_then(|me| {
            match decode()? {
                ServerFrame::Sync(frame) => frame
                    .players
                    .iter()
                    .find(|(net, _)| net.0 == me.id)
                    .and_then(|(_, delta)| delta.x),
                _ => None,
            }
        })),
        _ => Receipt::Other,
    }
}

/// Counting bots only peek at the event name (Python nodelink writes it first);
/// pings are parsed to be answered, and everything is parsed for observers.
fn receive_json(text: &str, me: Option<&mut Me>) -> Receipt {
    let head = &text.as_bytes()[..text.len().min(48)];
    let named = |name: &[u8]| head.windows(name.len()).any(|w| w == name);
    let (sync, chat) = (named(b"\"__state_sync__\""), named(b"\"chat\""));
    if !sync && !chat && !named(b"\"__ping__\"") {
        return Receipt::Other;
    }
    if me.is_none() && sync {
        return Receipt::Sync(None);
    }
    if me.is_none() && chat {
        return Receipt::Chat(None);
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Receipt::Other;
    };
    if sync {
        Receipt::Sync(me.and_then(|me| python_own_x(&value, me)))
    } else if chat {
        Receipt::Chat(value["data"]["msg"].as_str().and_then(chat_sent_at))
    } else {
        let pong = serde_json::json!({"event": "__pong__", "data": value["data"]});
        Receipt::Ping(Message::Text(pong.to_string().into()))
    }
}

/// The observer's own `x` in a Python nodelink state frame, once it has found
/// its id by its marker.
fn python_own_x(value: &serde_json::Value, me: &mut Me) -> Option<f32> {
    let players = value["data"]["players"].as_object()?;
    if me.python_id.is_none() {
        me.python_id = players
            .iter()
            .find(|(_, delta)| delta["x"].as_f64() == Some(f64::from(me.marker)))
            .map(|(id, _)| id.clone());
    }
    let x = players.get(me.python_id.as_ref()?)?["x"].as_f64()?;
    Some(x as f32)
}

/// A chat line is the time it was sent, in µs since the run began, as 16 digits:
/// every bot shares the clock, and every line has the same length.
fn chat_line(epoch: Instant) -> String {
    format!("{:016}", epoch.elapsed().as_micros())
}

fn chat_sent_at(line: &str) -> Option<u64> {
    line.parse().ok()
}

fn move_frame(wire: Wire, x: f32, y: f32) -> Option<Message> {
    Some(match wire {
        Wire::Native => Message::Binary(encode_event(&ToServer::Move { x, y }).ok()?),
        Wire::Json => {
            Message::Text(format!(r#"{{"event":"move","data":{{"x":{x:?},"y":{y:?}}}}}"#).into())
        }
    })
}

fn chat_frame(wire: Wire, msg: String) -> Option<Message> {
    Some(match wire {
        Wire::Native => Message::Binary(encode_event(&ToServer::Chat { msg }).ok()?),
        Wire::Json => {
            Message::Text(format!(r#"{{"event":"chat","data":{{"msg":"{msg}"}}}}"#).into())
        }
    })
}

/// What a bot sends, and how many a second.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sends {
    Nothing,
    Moves(f64),
    Chats(f64),
}

/// What one bot does.
struct Plan {
    /// Its id on the wire (its net id).
    id: u32,
    /// Its y coordinate, to tell bots apart.
    index: usize,
    /// How the server speaks.
    wire: Wire,
    sends: Sends,
    /// How long after connecting it first sends.
    first_send: Duration,
    /// Where an observer records latencies.
    latency: Option<SharedHistogram>,
    /// An observer's moves slower than this are printed.
    trace_slow: Option<Duration>,
    /// What its chat lines begin with (a `fanout` broadcast's prefix).
    chat_prefix: &'static str,
    counters: Arc<Counters>,
    /// When the run began: chat lines carry the time since.
    epoch: Instant,
    stop: Instant,
}

/// One bot: sends moves or chat lines at its rate, counts what it receives,
/// answers pings; an observer also times its own moves to the frames that carry
/// them, or every chat line from its send.
async fn bot(socket: Socket, plan: Plan) {
    let Plan {
        id,
        index,
        wire,
        sends,
        first_send,
        latency,
        trace_slow,
        chat_prefix,
        counters,
        epoch,
        stop,
    } = plan;
    let marker = -1000.0 - index as f32;
    let (mut sink, mut stream) = socket.split();
    let sent: Arc<Mutex<HashMap<u32, Instant>>> = Arc::default();
    let observing = latency.is_some();
    let (pongs, mut pong_queue) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let writer_sent = sent.clone();
    let writer_counters = counters.clone();
    let writer = async move {
        let rate = match sends {
            Sends::Nothing => None,
            Sends::Moves(rate) | Sends::Chats(rate) => Some(rate),
        };
        let mut ticker = rate.map(|r| {
            let first = tokio::time::Instant::now() + first_send;
            tokio::time::interval_at(first, Duration::from_secs_f64(1.0 / r))
        });
        let mut seq = 0u32;
        loop {
            tokio::select! {
                Some(pong) = pong_queue.recv() => {
                    if sink.send(pong).await.is_err() { return; }
                }
                _ = async { ticker.as_mut().expect("a sending bot").tick().await }, if ticker.is_some() => {
                    let frame = if let Sends::Chats(_) = sends {
                        chat_frame(wire, format!("{chat_prefix}{}", chat_line(epoch)))
                    } else {
                        writer_counters.moves.fetch_add(1, Ordering::Relaxed);
                        let x = if seq == 0 && wire == Wire::Json && observing { marker } else { seq.wrapping_add(1) as f32 };
                        seq = seq.wrapping_add(1);
                        if observing {
                            if let Ok(mut sent) = writer_sent.lock() {
                                sent.insert(seq, Instant::now());
                                sent.retain(|s, _| seq.wrapping_sub(*s) < 1024);
                            }
                        }
                        move_frame(wire, x, index as f32)
                    };
                    let Some(frame) = frame else { return };
                    if sink.send(frame).await.is_err() { return; }
                }
            }
            if Instant::now() >= stop {
                return;
            }
        }
    };
    let reader = async move {
        let mut me = observing.then_some(Me {
            id,
            python_id: None,
            marker,
        });
        while let Some(Ok(message)) = stream.next().await {
            match receive(&message, wire, me.as_mut()) {
                Receipt::Ping(pong) => {
                    let _ = pongs.send(pong);
                    continue;
                }
                Receipt::Other => continue,
                Receipt::Sync(mine) => {
                    counters.count(message.len(), false);
                    // Negative: the marker, not a timed move.
                    if let (Some(x), Some(histogram)) = (mine.filter(|x| *x >= 0.0), &latency) {
                        let sent_at = sent.lock().ok().and_then(|mut s| s.remove(&(x as u32)));
                        if let Some(at) = sent_at {
                            let took = at.elapsed();
                            if trace_slow.is_some_and(|slow| took > slow) {
                                eprintln!(
                                    "loadgen: slow move of bot {index}: {:.1} ms, arrived at {:.3} s",
                                    took.as_secs_f64() * 1000.0,
                                    since(epoch)
                                );
                            }
                            record(histogram, took.as_micros() as u64);
                        }
                    }
                }
                Receipt::Chat(sent_at) => {
                    counters.count(message.len(), true);
                    if let (Some(at), Some(histogram)) = (sent_at, &latency) {
                        let now = epoch.elapsed().as_micros() as u64;
                        record(histogram, now.saturating_sub(at));
                    }
                }
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

/// A JSON object written field by field, in order; numbers with two decimals.
#[derive(Default)]
struct JsonLine(Vec<String>);

impl JsonLine {
    fn field(mut self, key: &str, json: impl std::fmt::Display) -> Self {
        self.0.push(format!("\"{key}\":{json}"));
        self
    }

    fn number(self, key: &str, value: f64) -> Self {
        self.field(key, json_number(value))
    }

    fn text(self, key: &str, value: &str) -> Self {
        self.field(key, serde_json::Value::from(value))
    }

    fn finish(self) -> String {
        format!("{{{}}}", self.0.join(","))
    }
}

/// `{"p50", "p99", "max" (ms), "samples"}`, nulls when nothing was recorded.
fn latency_json(histogram: &SharedHistogram) -> String {
    let (p50, p99, max, samples) = match histogram.lock() {
        Ok(h) if !h.is_empty() => (
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            h.len(),
        ),
        _ => (f64::NAN, f64::NAN, f64::NAN, 0),
    };
    JsonLine::default()
        .number("p50", p50)
        .number("p99", p99)
        .number("max", max)
        .field("samples", samples)
        .finish()
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

/// Every bot holds a socket, and so does the server for each: past the limit, a
/// connection would fail in the generator, and `connect` would count it against
/// the server.
fn check_open_files(players: usize) -> Result<(), String> {
    match open_files_limit() {
        Some(limit) if players as u64 + 64 > limit => Err(format!(
            "{players} bots need more open files than `ulimit -n` allows ({limit}): raise it"
        )),
        _ => Ok(()),
    }
}

async fn run(args: Args) -> Result<(), String> {
    check_open_files(args.players)?;
    let server = UnderTest::start(&args).await?;
    let result = match (args.scenario, &server.service) {
        (Scenario::Connect, _) => run_connect(&args, &server).await?,
        (Scenario::Find, Some(service)) => {
            run_find_through_gateway(&args, &server, service).await?
        }
        (Scenario::Find, None) => run_find(&args, &server).await?,
        (Scenario::Lifecycle, _) => run_lifecycle(&args, &server).await?,
        _ => run_steady(&args, &server).await?,
    };
    println!("{result}");
    let _ = std::io::stdout().flush();
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{result}\n")).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// What bot `index` sends in a steady scenario. The broadcast sender is the last
/// bot to connect, so every line goes to the full audience.
fn sends_of(args: &Args, index: usize) -> Sends {
    match args.scenario {
        Scenario::Sync | Scenario::Rooms | Scenario::Matches if args.rate > 0.0 => {
            Sends::Moves(args.rate)
        }
        Scenario::Broadcast | Scenario::Fanout if index + 1 == args.players => {
            Sends::Chats(args.rate)
        }
        _ => Sends::Nothing,
    }
}

/// When bot `index` first sends. In rooms, players may move less often than the
/// tick rate, and the bots of a room connect within milliseconds of each other:
/// starting together, they would all move in the same tick and leave the others
/// empty. So their first moves are spread over one move period, by the golden
/// ratio, which spreads any run of consecutive bots evenly (matches too, which
/// fill in join order as rooms do). Elsewhere bots start at once, as when the
/// sync figures in BENCHMARKS.md were taken.
fn first_send(args: &Args, index: usize) -> Duration {
    const GOLDEN: f64 = 0.618_033_988_749_895;
    match args.scenario {
        Scenario::Rooms | Scenario::Matches if args.rate > 0.0 => {
            Duration::from_secs_f64((index as f64 * GOLDEN).fract() / args.rate)
        }
        _ => Duration::ZERO,
    }
}

/// Observers are the first bots for `sync`, as when its figures in BENCHMARKS.md
/// were taken (a bot's latency depends on its phase against the server's tick, so
/// the choice matters). With rooms (or matches) they are spread evenly, one room
/// each; for
/// `broadcast` too, over the bots in join order: a line reaches the bots one after
/// the other, in the server's order, so the first bots alone would time the start
/// of the fan-out, not the whole of it. The broadcast sender, the last bot, is
/// never one.
fn is_observer(args: &Args, index: usize) -> bool {
    let candidates = match args.scenario {
        Scenario::Broadcast | Scenario::Fanout => args.players.saturating_sub(1),
        _ => args.players,
    };
    let observers = args.observers.min(candidates);
    if observers == 0 || index >= candidates {
        return false;
    }
    let stride = match args.scenario {
        Scenario::Rooms | Scenario::Matches | Scenario::Broadcast | Scenario::Fanout => {
            candidates / observers
        }
        _ => 1,
    };
    index % stride == 0 && index / stride < observers
}

/// sync, idle, broadcast, rooms: connect every bot, warm up, measure a window.
async fn run_steady(args: &Args, server: &UnderTest) -> Result<String, String> {
    let pid = server.pid();
    let rss_empty = server.rss();
    let counters = Arc::new(Counters::default());
    let histogram = new_histogram()?;
    let start = Instant::now();
    // The bots are aborted once the window is measured. A deadline counted from
    // the start would pass during a slow ramp (thousands of joins on a pinned
    // core take over a minute), and every bot would have stopped before the
    // window opened.
    let stop = start + Duration::from_secs(24 * 3600);
    let mut bots = Vec::with_capacity(args.players);
    let in_matches = matches!(args.scenario, Scenario::Matches | Scenario::Fanout);
    // Players per match, by the codes the welcomes name.
    let mut matches: HashMap<String, usize> = HashMap::new();
    for index in 0..args.players {
        let url = match in_matches {
            true => find_url(&server.url_for(args, index))?,
            false => server.url.clone(),
        };
        let (socket, id, code) = connect_welcomed(&url, server.wire, &server.connector)
            .await
            .map_err(|e| format!("bot {index}: {e}"))?;
        if in_matches {
            *matches.entry(code.unwrap_or_default()).or_default() += 1;
        }
        counters.connected.fetch_add(1, Ordering::Relaxed);
        let plan = Plan {
            id,
            index,
            wire: server.wire,
            sends: sends_of(args, index),
            first_send: first_send(args, index),
            latency: is_observer(args, index).then(|| histogram.clone()),
            trace_slow: args.trace_slow,
            chat_prefix: match args.scenario {
                Scenario::Fanout => args.fanout.prefix(),
                _ => "",
            },
            counters: counters.clone(),
            epoch: start,
            stop,
        };
        bots.push(tokio::spawn(bot(socket, plan)));
    }
    eprintln!(
        "loadgen: {} bots connected in {:.1} s",
        args.players,
        since(start)
    );
    let rss_after_ramp = server.rss();
    // What holds the players apart: rooms in one match, or matches.
    let groups = match args.scenario {
        Scenario::Rooms => args.players.div_ceil(args.room_size),
        Scenario::Matches | Scenario::Fanout => matches.len(),
        _ => 1,
    };

    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let server_cpu = pid.as_deref().map(CpuMeter::start);
    let relay_pid = server.relay_pid();
    let relay_cpu = relay_pid.as_deref().map(CpuMeter::start);
    let own_cpu = CpuMeter::start("self");
    let others = server.others_meter();
    let service_meters = server
        .service
        .as_ref()
        .map(ServiceMeters::start)
        .transpose()?;
    let (frames0, bytes0, chats0) = (counters.frames(), counters.bytes(), counters.chats());
    let moves0 = counters.moves();
    let read0 = SOCKET_BYTES_READ.load(Ordering::Relaxed);
    if let Ok(mut h) = histogram.lock() {
        h.reset();
    }
    let window = Instant::now();
    if args.trace_slow.is_some() {
        eprintln!("loadgen: the window opens at {:.3} s", since(start));
    }
    let players = args.players as f64;
    while since(window) < args.duration {
        tokio::time::sleep(Duration::from_secs(1).min(Duration::from_secs_f64(args.duration)))
            .await;
        let service_cpu = match &service_meters {
            Some(meters) => format!(
                "  processes {:?}%  gateway {:.1}%",
                meters
                    .process_percents()
                    .iter()
                    .map(|p| p.round())
                    .collect::<Vec<_>>(),
                meters.gateway_percent()
            ),
            None => String::new(),
        };
        eprintln!(
            "loadgen: {:>5.1} s  {:>7.1} frames/s per client  server cpu {:>5.1}%{service_cpu}",
            since(window),
            (counters.frames() - frames0) as f64 / since(window) / players,
            server.cpu_percent(server_cpu.as_ref()),
        );
    }
    let seconds = since(window);
    let per_client_per_s = |count: u64| count as f64 / seconds / players;
    let server_rss = server.rss();
    let socket_bytes = per_client_per_s(SOCKET_BYTES_READ.load(Ordering::Relaxed) - read0);
    let mut line = JsonLine::default()
        .text("target", args.target.name())
        .text("scenario", args.scenario.name())
        .field("tls", args.tls)
        .field("relay", args.relay)
        .number("ping_interval_s", args.ping_interval.unwrap_or(f64::NAN))
        .field("players", args.players)
        .field("connected", counters.connected())
        .number("seconds", seconds)
        .number(
            "server_cpu_percent",
            server.cpu_percent(server_cpu.as_ref()),
        )
        .number(
            "server_system_share",
            match (&server_cpu, &pid) {
                (Some(meter), Some(pid)) => meter.system_share(pid),
                _ => f64::NAN,
            },
        )
        .number(
            "relay_cpu_percent",
            match (&relay_cpu, &relay_pid) {
                (Some(meter), Some(pid)) => meter.percent(pid),
                _ => f64::NAN,
            },
        )
        .field("server_rss_kib", server_rss / 1024)
        .number(
            "server_rss_per_player_kib",
            server_rss.saturating_sub(rss_empty) as f64 / 1024.0 / players,
        )
        .number("loadgen_cpu_percent", own_cpu.percent("self"))
        .number("others_cpu_percent", others.percent())
        .number(
            "frames_per_s_per_client",
            per_client_per_s(counters.frames() - frames0),
        )
        .number(
            "bytes_per_s_per_client",
            per_client_per_s(counters.bytes() - bytes0),
        )
        .number("socket_bytes_per_s_per_client", socket_bytes)
        .field("latency_ms", latency_json(&histogram))
        .number(
            "loadgen_cpu_seconds",
            cpu_seconds("self").unwrap_or(f64::NAN),
        );
    let per_group = |line: JsonLine| {
        line.field("groups", groups)
            .field("server_rss_empty_kib", rss_empty / 1024)
            .field("server_rss_after_ramp_kib", rss_after_ramp / 1024)
            .number(
                "server_rss_per_group_kib",
                rss_after_ramp.saturating_sub(rss_empty) as f64 / 1024.0 / groups as f64,
            )
    };
    line = match args.scenario {
        Scenario::Sync => line.number("rate", args.rate),
        Scenario::Rooms => per_group(
            line.number("rate", args.rate)
                .field("room_size", args.room_size),
        ),
        Scenario::Matches => per_group(
            line.number("rate", args.rate)
                .field("match_size", args.match_size)
                .field("smallest_match", matches.values().min().unwrap_or(&0))
                .field("largest_match", matches.values().max().unwrap_or(&0)),
        ),
        Scenario::Broadcast => line.number("rate", args.rate).number(
            "chats_per_s_per_client",
            per_client_per_s(counters.chats() - chats0),
        ),
        Scenario::Fanout => per_group(
            line.number("rate", args.rate)
                .text("fanout", args.fanout.name())
                .field("match_size", args.match_size)
                .number(
                    "chats_per_s_per_client",
                    per_client_per_s(counters.chats() - chats0),
                ),
        ),
        Scenario::Idle | Scenario::Connect | Scenario::Find | Scenario::Lifecycle => line,
    };
    if let (Some(service), Some(meters)) = (&server.service, &service_meters) {
        // Every frame a client received came through the gateway, and every
        // move it sent (pings aside).
        line = line
            .field("gateway", service.processes.len())
            .field("direct", args.direct)
            .number(
                "received_frames_per_s",
                (counters.frames() - frames0) as f64 / seconds,
            )
            .number(
                "sent_moves_per_s",
                (counters.moves() - moves0) as f64 / seconds,
            );
        line = meters.fields(service, line)?;
    }
    for bot in bots {
        bot.abort();
    }
    Ok(line.finish())
}

/// How the joins of a `connect` run went.
#[derive(Default)]
struct Joins {
    failed: AtomicU64,
    over_1s: AtomicU64,
    /// The sum, over successful joins, of the players already connected: how many
    /// existing clients had to hear of a join, all joins together.
    audience: AtomicU64,
    /// The first failure: the players connected then, and why.
    first_failure: Mutex<Option<(u64, String)>>,
    /// The first join over 1 s: the players connected then.
    first_over_1s: Mutex<Option<u64>>,
}

/// What every join attempt of a `connect` run shares.
struct Ramp {
    url: String,
    wire: Wire,
    connector: Connector,
    joins: Joins,
    /// What the joined clients receive after their own snapshot.
    counters: Arc<Counters>,
    latency: SharedHistogram,
    epoch: Instant,
    stop: Instant,
}

impl Ramp {
    fn resolved(&self) -> u64 {
        self.counters.connected() + self.joins.failed.load(Ordering::Relaxed)
    }

    fn failed(&self, index: usize, error: String) {
        self.joins.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.joins.first_failure.lock() {
            if first.is_none() {
                let connected = self.counters.connected();
                eprintln!(
                    "loadgen: join {index} failed with {connected} players connected: {error}"
                );
                *first = Some((connected, error));
            }
        }
    }

    fn joined(&self, index: usize, took: Duration) {
        let already = self.counters.connected.fetch_add(1, Ordering::Relaxed);
        self.joins.audience.fetch_add(already, Ordering::Relaxed);
        record(&self.latency, took.as_micros() as u64);
        if took > SLOW_JOIN {
            self.joins.over_1s.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut first) = self.joins.first_over_1s.lock() {
                if first.is_none() {
                    eprintln!(
                        "loadgen: join {index} took {:.0} ms with {already} players connected",
                        took.as_secs_f64() * 1000.0
                    );
                    *first = Some(already);
                }
            }
        }
    }
}

/// One join, timed from the TCP connect to the first state frame; the client then
/// stays, idle, counting what it is sent.
async fn attempt_join(index: usize, ramp: Arc<Ramp>) {
    let began = Instant::now();
    let (mut socket, id, tick) =
        match tokio::time::timeout(JOIN_TIMEOUT, join(&ramp.url, ramp.wire, &ramp.connector)).await
        {
            Ok(Ok(joined)) => joined,
            Ok(Err(error)) => return ramp.failed(index, error),
            Err(_) => {
                let error = format!("no state frame within {} s", JOIN_TIMEOUT.as_secs());
                return ramp.failed(index, error);
            }
        };
    ramp.joined(index, began.elapsed());
    if let Some(tick) = tick {
        match rest_of_snapshot(&mut socket, tick).await {
            // The frame after the snapshot is the next tick's (or a ping, a chat).
            Ok(Some(after)) if native_sync_tick(&after).is_some() => {
                ramp.counters.count(after.len(), false);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
    let plan = Plan {
        id,
        index,
        wire: ramp.wire,
        sends: Sends::Nothing,
        first_send: Duration::ZERO,
        latency: None,
        trace_slow: None,
        chat_prefix: "",
        counters: ramp.counters.clone(),
        epoch: ramp.epoch,
        stop: ramp.stop,
    };
    bot(socket, plan).await;
}

/// Starts a join every `1 / rate` seconds, whether or not earlier ones are done:
/// the offered rate does not bend to a slow server.
async fn open_connections(ramp: Arc<Ramp>, players: usize, rate: f64) -> Vec<JoinHandle<()>> {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut attempts = Vec::with_capacity(players);
    for index in 0..players {
        ticker.tick().await;
        attempts.push(tokio::spawn(attempt_join(index, ramp.clone())));
    }
    attempts
}

/// connect: joins at a fixed rate up to `--players`, measured from the first to
/// the last join's outcome.
async fn run_connect(args: &Args, server: &UnderTest) -> Result<String, String> {
    let pid = server.pid();
    let rss_empty = server.rss();
    let start = Instant::now();
    let ramp_seconds = args.players as f64 / args.rate;
    let deadline = start + Duration::from_secs_f64(ramp_seconds) + JOIN_TIMEOUT * 2;
    let ramp = Arc::new(Ramp {
        url: server.url.clone(),
        wire: server.wire,
        connector: server.connector.clone(),
        joins: Joins::default(),
        counters: Arc::new(Counters::default()),
        latency: new_histogram()?,
        epoch: start,
        stop: deadline + Duration::from_secs(60),
    });
    let server_cpu = pid.as_deref().map(CpuMeter::start);
    let own_cpu = CpuMeter::start("self");
    let others = server.others_meter();
    let opening = tokio::spawn(open_connections(ramp.clone(), args.players, args.rate));
    let mut next_progress = 1.0;
    while ramp.resolved() < args.players as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if since(start) >= next_progress {
            next_progress += 1.0;
            eprintln!(
                "loadgen: {:>5.1} s  {:>6} joined  {:>5} failed  {:>5} over 1 s  server cpu {:>5.1}%",
                since(start),
                ramp.counters.connected(),
                ramp.joins.failed.load(Ordering::Relaxed),
                ramp.joins.over_1s.load(Ordering::Relaxed),
                server.cpu_percent(server_cpu.as_ref()),
            );
        }
    }
    // The clients already there hear of the last joins at the next tick.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let seconds = since(start);
    let server_cpu = server.cpu_percent(server_cpu.as_ref());
    let server_rss = server.rss();
    let joined = ramp.counters.connected();
    let to_existing = ramp.counters.bytes() as f64;
    let joins = &ramp.joins;
    let (first_failure_at, first_failure) = match joins.first_failure.lock() {
        Ok(first) => first.clone().unzip(),
        Err(_) => (None, None),
    };
    let first_over_1s_at = joins.first_over_1s.lock().ok().and_then(|first| *first);
    let or_null = |value: Option<u64>| value.map_or("null".to_owned(), |n| n.to_string());
    let line = JsonLine::default()
        .text("target", args.target.name())
        .text("scenario", args.scenario.name())
        .field("tls", args.tls)
        .field("players", args.players)
        .number("rate", args.rate)
        .field("connected", joined)
        .field("joins_failed", joins.failed.load(Ordering::Relaxed))
        .field("joins_over_1s", joins.over_1s.load(Ordering::Relaxed))
        .field("first_failure_at", or_null(first_failure_at))
        .field(
            "first_failure",
            first_failure.map_or("null".to_owned(), |e| {
                serde_json::Value::from(e).to_string()
            }),
        )
        .field("first_over_1s_at", or_null(first_over_1s_at))
        .number("seconds", seconds)
        .number("server_cpu_percent", server_cpu)
        .field("server_rss_kib", server_rss / 1024)
        .number(
            "server_rss_per_player_kib",
            server_rss.saturating_sub(rss_empty) as f64 / 1024.0 / joined.max(1) as f64,
        )
        .number("loadgen_cpu_percent", own_cpu.percent("self"))
        .number("others_cpu_percent", others.percent())
        .field("latency_ms", latency_json(&ramp.latency))
        .number("bytes_to_existing_per_join", to_existing / joined as f64)
        .number(
            "bytes_per_existing_client_per_join",
            to_existing / joins.audience.load(Ordering::Relaxed) as f64,
        )
        .number(
            "loadgen_cpu_seconds",
            cpu_seconds("self").unwrap_or(f64::NAN),
        );
    opening.abort();
    if let Ok(attempts) = opening.await {
        attempts.iter().for_each(JoinHandle::abort);
    }
    Ok(line.finish())
}
