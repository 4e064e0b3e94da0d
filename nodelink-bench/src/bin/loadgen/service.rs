//! `--gateway N`: a service started for the run (a `redis-server`, N bench
//! servers joined to it, one `nodelink-relay --redis` in front of them, each on a
//! free loopback port, all stopped after), what it costs (each process's CPU, the
//! gateway's, Redis's, and the commands Redis ran), and the `find` scenario
//! through the gateway against straight to a process.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nodelink::cluster::ServiceDirectory;
use nodelink_bench::process::{thread_cpu_seconds, OthersMeter};
use nodelink_bench::{since, tcp, DEFAULT_SERVICE};

use super::matchmaking::{find_url, storm, Storm};
use super::{
    latency_json, new_histogram, pinned, record, Args, JsonLine, RelayProcess, ServerProcess,
    UnderTest, JOIN_TIMEOUT,
};

/// How long the service may take to start: Redis listening, every process
/// registered and served.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A free port on 127.0.0.1, given back for a child to take at once.
pub(super) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A `redis-server` for the run, saving nothing; killed when dropped.
pub(super) struct RedisProcess {
    child: Child,
    port: u16,
}

impl RedisProcess {
    fn start(cpus: Option<&str>) -> Result<Self, String> {
        // The port is free when picked but another program may take it before
        // Redis does: then Redis exits, and another port is tried.
        for _ in 0..5 {
            let port = free_port()?;
            let mut child = pinned(std::path::Path::new("redis-server"), cpus)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| {
                    format!("cannot start redis-server: {e} (apt-get install redis-server)")
                })?;
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Self { child, port });
                }
                if child.try_wait().map_err(|e| e.to_string())?.is_some() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    return Err("redis-server did not listen within 20 s".into());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err("redis-server could not take a free port in 5 tries".into())
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// How many times Redis has run each command since it started
    /// (`INFO commandstats`), the `INFO` commands that read them left out.
    pub(super) fn command_counts(&self) -> Result<BTreeMap<String, u64>, String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|e| format!("redis: {e}"))?;
        stream
            .set_read_timeout(Some(JOIN_TIMEOUT))
            .map_err(|e| e.to_string())?;
        stream
            .write_all(b"INFO commandstats\r\n")
            .map_err(|e| format!("redis: {e}"))?;
        let mut reader = BufReader::new(stream);
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| format!("redis: {e}"))?;
        let len: usize = header
            .trim()
            .strip_prefix('$')
            .and_then(|len| len.parse().ok())
            .ok_or_else(|| format!("redis answered INFO with {header:?}"))?;
        let mut body = vec![0; len];
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("redis: {e}"))?;
        // Lines `cmdstat_get:calls=12,usec=40,…`.
        let counts = String::from_utf8_lossy(&body)
            .lines()
            .filter_map(|line| {
                let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = stats.strip_prefix("calls=")?.split(',').next()?;
                Some((name.to_owned(), calls.parse().ok()?))
            })
            .filter(|(name, _)| name != "info")
            .collect();
        Ok(counts)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Redis, the game processes and the gateway of a run. Dropped in that order
/// reversed: the gateway and the processes stop before Redis.
pub(super) struct Service {
    pub(super) gateway: RelayProcess,
    pub(super) processes: Vec<ServerProcess>,
    pub(super) redis: RedisProcess,
}

impl Service {
    /// Starts Redis, `processes` bench servers given `server_args` and joined
    /// to it, and a gateway, all under `cpus` when given; returns once every
    /// process is in the directory and served.
    pub(super) async fn start(
        processes: usize,
        server_args: &[String],
        cpus: Option<&str>,
    ) -> Result<Self, String> {
        let redis = RedisProcess::start(cpus)?;
        let mut args = server_args.to_vec();
        args.extend(["--redis".to_owned(), redis.url()]);
        args.extend(["--service".to_owned(), DEFAULT_SERVICE.to_owned()]);
        let started = (0..processes)
            .map(|_| ServerProcess::start("bench-server-nodelink", &args, cpus))
            .collect::<Result<Vec<_>, _>>()?;
        let gateway_args = [
            "--redis".to_owned(),
            redis.url(),
            "--service".to_owned(),
            DEFAULT_SERVICE.to_owned(),
        ];
        let gateway = RelayProcess::start(cpus, &gateway_args)?;
        let service = Self {
            gateway,
            processes: started,
            redis,
        };
        service.until_served(processes).await?;
        Ok(service)
    }

    /// Waits until `count` processes are in the directory, serving their kinds.
    async fn until_served(&self, count: usize) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let directory =
            ServiceDirectory::connect(&self.redis.url(), DEFAULT_SERVICE, Duration::from_secs(2))
                .await
                .map_err(|e| e.to_string())?;
        loop {
            let processes = directory.processes().await.map_err(|e| e.to_string())?;
            let served = processes
                .iter()
                .filter(|p| !p.kinds.is_empty() && !p.draining);
            if served.count() == count {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} of {count} processes served within {} s",
                    processes.len(),
                    START_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The URLs of the processes, to reach them without the gateway.
    pub(super) fn process_urls(&self) -> Vec<String> {
        self.processes.iter().map(|p| p.url.clone()).collect()
    }

    /// Every pid of the service: processes, gateway, Redis.
    pub(super) fn pids(&self) -> Vec<String> {
        let mut pids: Vec<String> = self.processes.iter().map(ServerProcess::pid).collect();
        pids.push(self.gateway.child.id().to_string());
        pids.push(self.redis.pid());
        pids
    }

    /// Measures what the rest of the machine uses: all but this generator and
    /// the service.
    pub(super) fn others_meter(&self) -> OthersMeter {
        let pids = self.pids();
        let mut ours: Vec<&str> = pids.iter().map(String::as_str).collect();
        ours.push("self");
        OthersMeter::start(&ours)
    }
}

/// A process's CPU over a window, to the nanosecond (its threads' schedstat):
/// windows of a few seconds, where `/proc/PID/stat`'s hundredths of a second
/// would be a few per cent of a core.
struct ThreadCpu {
    pid: String,
    start_seconds: f64,
    start: Instant,
}

impl ThreadCpu {
    fn start(pid: String) -> Self {
        Self {
            start_seconds: thread_cpu_seconds(&pid).unwrap_or(f64::NAN),
            pid,
            start: Instant::now(),
        }
    }

    /// The percentage of one core used since the start.
    fn percent(&self) -> f64 {
        let used = thread_cpu_seconds(&self.pid).unwrap_or(f64::NAN) - self.start_seconds;
        100.0 * used / since(self.start).max(1e-9)
    }
}

/// What the service uses over a window: each process's CPU, the gateway's,
/// Redis's, and the commands Redis ran.
pub(super) struct ServiceMeters {
    processes: Vec<ThreadCpu>,
    gateway: ThreadCpu,
    redis: ThreadCpu,
    commands: BTreeMap<String, u64>,
    start: Instant,
}

impl ServiceMeters {
    pub(super) fn start(service: &Service) -> Result<Self, String> {
        Ok(Self {
            processes: service
                .processes
                .iter()
                .map(|p| ThreadCpu::start(p.pid()))
                .collect(),
            gateway: ThreadCpu::start(service.gateway.child.id().to_string()),
            redis: ThreadCpu::start(service.redis.pid()),
            commands: service.redis.command_counts()?,
            start: Instant::now(),
        })
    }

    /// The processes' CPU, each as a percentage of one core.
    pub(super) fn process_percents(&self) -> Vec<f64> {
        self.processes.iter().map(ThreadCpu::percent).collect()
    }

    pub(super) fn gateway_percent(&self) -> f64 {
        self.gateway.percent()
    }

    /// The service's fields of a result line: CPU (% of one core) of the
    /// gateway, of each process and all together, of Redis; the commands Redis
    /// ran (each, and all a second).
    pub(super) fn fields(&self, service: &Service, line: JsonLine) -> Result<JsonLine, String> {
        let seconds = since(self.start);
        let after = service.redis.command_counts()?;
        let commands: BTreeMap<&str, u64> = after
            .iter()
            .map(|(name, calls)| {
                let before = self.commands.get(name).copied().unwrap_or(0);
                (name.as_str(), calls - before)
            })
            .filter(|(_, calls)| *calls > 0)
            .collect();
        let total: u64 = commands.values().sum();
        let processes = self.process_percents();
        let list: Vec<String> = processes.iter().map(|p| super::json_number(*p)).collect();
        Ok(line
            .number("gateway_cpu_percent", self.gateway_percent())
            .field("process_cpu_percent", format!("[{}]", list.join(",")))
            .number("processes_cpu_percent", processes.iter().sum())
            .number("redis_cpu_percent", self.redis.percent())
            .number("redis_commands_per_s", total as f64 / seconds)
            .field("redis_commands", json_counts(&commands)))
    }
}

/// `{"name": count, …}`.
pub(super) fn json_counts(counts: &BTreeMap<&str, u64>) -> String {
    let fields: Vec<String> = counts
        .iter()
        .map(|(name, count)| format!("{}:{count}", serde_json::Value::from(*name)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// The commands Redis ran between two readings, all together.
pub(super) fn commands_between(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> u64 {
    after
        .iter()
        .map(|(name, calls)| calls - before.get(name).copied().unwrap_or(0))
        .sum()
}

/// The kernel's TCP counters a storm may move (machine-wide): connections
/// dropped on a full accept queue, and SYNs sent again (a second later).
const KERNEL_COUNTERS: [&str; 2] = ["ListenOverflows", "TCPSynRetrans"];

/// How much each of [`KERNEL_COUNTERS`] moved since `before`, as JSON numbers.
fn kernel_between(before: [Option<u64>; 2]) -> Vec<String> {
    KERNEL_COUNTERS
        .iter()
        .zip(before)
        .map(|(name, before)| match (before, tcp::ext_counter(name)) {
            (Some(before), Some(after)) => (after - before).to_string(),
            _ => "null".to_owned(),
        })
        .collect()
}

/// find through a gateway (`--gateway N`): the same storm of `--players` finds
/// through the gateway and then straight to the first process, every client
/// closed after each (a find refused with 503 asks again 50 ms later, as
/// clients do: a process that runs out of match codes claimed ahead refuses
/// so); then `--trickle` finds one after the other at `--rate` a
/// second, each held open, alternating between the gateway and the process, so
/// that both meet the same load. Each find is timed from its TCP connect to its
/// welcome.
pub(super) async fn run_find_through_gateway(
    args: &Args,
    server: &UnderTest,
    service: &Service,
) -> Result<String, String> {
    let through = find_url(&server.url)?;
    let direct = find_url(&service.process_urls()[0])?;
    let others = service.others_meter();
    let meters = ServiceMeters::start(service)?;
    let gateway_pid = service.gateway.child.id().to_string();
    let process_pid = service.processes[0].pid();
    let cpu = |pid: &str| thread_cpu_seconds(pid).unwrap_or(f64::NAN);
    let mut storms = Vec::new();
    for (path, url) in [("gateway", &through), ("direct", &direct)] {
        let commands_before = service.redis.command_counts()?;
        let (gateway_before, process_before) = (cpu(&gateway_pid), cpu(&process_pid));
        let kernel_before = KERNEL_COUNTERS.map(tcp::ext_counter);
        let result: Storm = storm(url, args.players, &server.connector, true).await?;
        let kernel = kernel_between(kernel_before);
        let commands = commands_between(&commands_before, &service.redis.command_counts()?);
        let per_find =
            |before: f64, pid: &str| (cpu(pid) - before) * 1e6 / result.sockets.len().max(1) as f64;
        let gateway_us = per_find(gateway_before, &gateway_pid);
        let process_us = per_find(process_before, &process_pid);
        eprintln!(
            "loadgen: a storm of {} finds {path}: {} found a match in {:.2} s",
            args.players,
            result.sockets.len(),
            result.seconds
        );
        let line = JsonLine::default()
            .field("found", result.sockets.len())
            .field("failed", result.failed)
            .field(
                "first_failure",
                result.first_failure.map_or("null".to_owned(), |e| {
                    serde_json::Value::from(e).to_string()
                }),
            )
            .field("retried", result.retried)
            .field(
                "first_retry",
                result.first_retry.map_or("null".to_owned(), |e| {
                    serde_json::Value::from(e).to_string()
                }),
            )
            .field("listen_overflows", &kernel[0])
            .field("syn_retransmits", &kernel[1])
            .number("seconds", result.seconds)
            .field("latency_ms", latency_json(&result.latency))
            .field("matches", result.players_in.len())
            .field(
                "largest_match",
                result.players_in.values().max().unwrap_or(&0),
            )
            .number("gateway_cpu_us_per_find", gateway_us)
            .number("process_cpu_us_per_find", process_us)
            .number(
                "redis_commands_per_find",
                commands as f64 / result.sockets.len().max(1) as f64,
            );
        storms.push(format!("\"{path}\":{}", line.finish()));
        drop(result.sockets);
        // The matches just left end before the next storm begins.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let (through_latency, direct_latency) = (new_histogram()?, new_histogram()?);
    let mut held = Vec::with_capacity(args.trickle);
    let mut failed: HashMap<&str, usize> = HashMap::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    for index in 0..args.trickle {
        ticker.tick().await;
        let (path, url, latency) = if index % 2 == 0 {
            ("gateway", &through, &through_latency)
        } else {
            ("direct", &direct, &direct_latency)
        };
        let began = Instant::now();
        let welcomed = tokio::time::timeout(
            JOIN_TIMEOUT,
            super::connect_welcomed(url, super::Wire::Native, &server.connector),
        )
        .await;
        match welcomed {
            Ok(Ok((socket, _, _))) => {
                record(latency, began.elapsed().as_micros() as u64);
                held.push(socket);
            }
            _ => *failed.entry(path).or_default() += 1,
        }
    }
    let trickle = JsonLine::default()
        .field("finds", args.trickle)
        .number("rate", args.rate)
        .field("gateway", latency_json(&through_latency))
        .field("direct", latency_json(&direct_latency))
        .field("gateway_failed", failed.get("gateway").unwrap_or(&0))
        .field("direct_failed", failed.get("direct").unwrap_or(&0));
    let line = JsonLine::default()
        .text("target", args.target.name())
        .text("scenario", "find")
        .field("gateway", service.processes.len())
        .field("players", args.players)
        .field("match_size", args.match_size)
        .field("storm", format!("{{{}}}", storms.join(",")))
        .field("trickle", trickle.finish())
        .number("others_cpu_percent", others.percent());
    let line = meters.fields(service, line)?;
    drop(held);
    Ok(line.finish())
}
