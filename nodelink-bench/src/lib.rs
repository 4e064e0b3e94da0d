//! Shared parts of the load generator and the baseline servers: nodelink's wire
//! and the bench game's world written by hand for the "limit" and "floor"
//! servers, and process measurements from `/proc`.

use std::path::PathBuf;
use std::time::Instant;

pub mod hand_world;

/// Reading `/proc/<pid>/stat` and `/proc/<pid>/statm` (Linux).
pub mod process {
    use std::time::Instant;

    /// Clock ticks per second for `utime`/`stime` (`USER_HZ`, 100 on Linux).
    const TICKS_PER_SECOND: f64 = 100.0;

    /// CPU time used so far by process `pid` (`"self"` for this one), in seconds.
    #[must_use]
    pub fn cpu_seconds(pid: &str) -> Option<f64> {
        cpu_times(pid).map(|(user, system)| user + system)
    }

    /// CPU time used so far by process `pid` in user space and in the kernel on
    /// its behalf (system calls, and on loopback much of the receiver's TCP work
    /// too), in seconds.
    #[must_use]
    pub fn cpu_times(pid: &str) -> Option<(f64, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces: fields are counted after its ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime / TICKS_PER_SECOND, stime / TICKS_PER_SECOND))
    }

    /// CPU time used so far by the live threads of process `pid`, in seconds, to
    /// the nanosecond (the sum of `/proc/<pid>/task/*/schedstat`): for costs of a
    /// few microseconds, which `/proc/<pid>/stat`'s hundredths of a second cannot
    /// tell apart. A thread that has exited is no longer counted, so compare
    /// readings of a process whose threads live on (a Tokio runtime's workers).
    #[must_use]
    pub fn thread_cpu_seconds(pid: &str) -> Option<f64> {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
        let nanos: u64 = tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        Some(nanos as f64 / 1e9)
    }

    /// Resident memory of process `pid`, in bytes.
    #[must_use]
    pub fn rss_bytes(pid: &str) -> Option<u64> {
        let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096)
    }

    /// This process's limit on open files (the soft `ulimit -n`), which the
    /// servers it starts inherit.
    #[must_use]
    pub fn open_files_limit() -> Option<u64> {
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse().ok()
    }

    /// CPU time used so far by the whole machine, every core, process and the
    /// kernel, in seconds (the first line of `/proc/stat`: all but idle and
    /// I/O wait).
    #[must_use]
    pub fn machine_cpu_seconds() -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?.strip_prefix("cpu ")?;
        let ticks: Vec<f64> = line
            .split_whitespace()
            .map(|field| field.parse().unwrap_or(0.0))
            .collect();
        // user nice system idle iowait irq softirq steal (guest is in user).
        let busy: f64 = [0, 1, 2, 5, 6, 7]
            .iter()
            .filter_map(|&index| ticks.get(index))
            .sum();
        Some(busy / TICKS_PER_SECOND)
    }

    /// The CPU used over a window by everything on the machine but the given
    /// processes (other programs, and the kernel's work not charged to a
    /// process, which on loopback includes some of the measured processes' own
    /// network work), as a percentage of one core: how loaded the machine was
    /// besides the measurement.
    #[derive(Debug, Clone)]
    pub struct OthersMeter {
        pids: Vec<String>,
        machine: f64,
        ours: f64,
        start: Instant,
    }

    impl OthersMeter {
        /// Starts measuring everything but `pids` (`"self"` for this process).
        #[must_use]
        pub fn start(pids: &[&str]) -> Self {
            let pids: Vec<String> = pids.iter().map(|pid| (*pid).to_owned()).collect();
            Self {
                machine: machine_cpu_seconds().unwrap_or(0.0),
                ours: pids.iter().filter_map(|pid| cpu_seconds(pid)).sum(),
                pids,
                start: Instant::now(),
            }
        }

        /// The others' percentage of one core since [`start`](Self::start).
        #[must_use]
        pub fn percent(&self) -> f64 {
            let Some(machine) = machine_cpu_seconds() else {
                return f64::NAN;
            };
            let ours: f64 = self.pids.iter().filter_map(|pid| cpu_seconds(pid)).sum();
            let others = (machine - self.machine) - (ours - self.ours);
            100.0 * others.max(0.0) / self.start.elapsed().as_secs_f64().max(1e-9)
        }
    }

    /// CPU use of a process over a window, as a percentage of one core.
    #[derive(Debug, Clone, Copy)]
    pub struct CpuMeter {
        start_cpu: f64,
        start_system: f64,
        start: Instant,
    }

    impl CpuMeter {
        /// Starts measuring `pid`.
        #[must_use]
        pub fn start(pid: &str) -> Self {
            let (user, system) = cpu_times(pid).unwrap_or((0.0, 0.0));
            Self {
                start_cpu: user + system,
                start_system: system,
                start: Instant::now(),
            }
        }

        /// The share of the CPU time used since [`start`](Self::start) that was
        /// the kernel's (0 to 1).
        #[must_use]
        pub fn system_share(&self, pid: &str) -> f64 {
            let Some((user, system)) = cpu_times(pid) else {
                return f64::NAN;
            };
            let used = user + system - self.start_cpu;
            (system - self.start_system) / used.max(1e-9)
        }

        /// The percentage of one core used since [`start`](Self::start).
        #[must_use]
        pub fn percent(&self, pid: &str) -> f64 {
            let used = cpu_seconds(pid).unwrap_or(self.start_cpu) - self.start_cpu;
            100.0 * used / self.start.elapsed().as_secs_f64().max(1e-9)
        }
    }
}

/// The kernel's TCP counters (Linux), machine-wide.
pub mod tcp {
    /// The `TcpExt` counter `name` of `/proc/net/netstat` (`ListenOverflows`: a
    /// connection that completed its handshake found the listener's accept queue
    /// full, and the kernel dropped it; `TCPSynRetrans`: SYNs sent again, a
    /// second later the first time).
    #[must_use]
    pub fn ext_counter(name: &str) -> Option<u64> {
        let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
        let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
        let (names, values) = (lines.next()?, lines.next()?);
        let index = names.split_whitespace().position(|n| n == name)?;
        values.split_whitespace().nth(index)?.parse().ok()
    }
}

/// nodelink's native wire (PROTOCOL.md) for the bench game, written by hand with
/// `rmp`: the hand-written limit server sends, byte for byte, the frames nodelink
/// sends for the same game, so that comparing the two servers compares their
/// work, not their wires. Only what the bench game uses is here: the `Game`
/// protocol's `Avatar` state (`x`, `y`, `name`: mask bits 0, 1, 2), its `Match`
/// server state, its `move` and `chat` events, pings' answers.
pub mod limit_wire {
    /// The wire version the welcome announces.
    pub const WIRE_VERSION: u8 = 3;
    /// Mask bits of the `Avatar` fields the limit server changes.
    pub const X: u64 = 1;
    /// See [`X`].
    pub const Y: u64 = 2;
    /// Every `Avatar` field: `x`, `y`, `name`.
    pub const EVERY_FIELD: u64 = 7;
    /// Snapshot flags: this frame begins a snapshot.
    pub const FULL: u8 = 1;

    const KIND_WELCOME: u8 = 0;
    const KIND_EVENT: u8 = 1;
    const KIND_SYNC: u8 = 2;
    const KIND_PONG: u8 = 4;

    /// The welcome's settings as the bench's nodelink server announces them (the
    /// default configuration, but no rate limit and no sessions), in nodelink's
    /// order, so that both servers' welcomes are the same bytes. The limit server
    /// announces them; it enforces none.
    const SETTINGS: [(&str, u64); 7] = [
        ("ping_interval_ms", 5_000),
        ("idle_timeout_ms", 20_000),
        ("max_frame_len", 64 * 1024),
        ("max_invalid_frames", 16),
        ("slow_consumer_timeout_ms", 5_000),
        ("resume_grace_ms", 0),
        ("resume_buffer_len", 0),
    ];

    /// The code the limit server gives its one match, as nodelink's server gives
    /// its default match one (nodelink's is random: `tests/same_frames.rs` compares
    /// welcomes without it).
    pub const MATCH_CODE: &str = "L1M1TS";

    /// Writes the welcome: `[0, 3, fingerprint, player_id, net_id, tick_rate,
    /// settings]`, the settings ending with the match's code and kind.
    pub fn write_welcome(
        out: &mut Vec<u8>,
        fingerprint: u64,
        player: u32,
        net: u32,
        rate: u8,
        kind: &str,
    ) {
        out.clear();
        let _ = rmp::encode::write_array_len(out, 7);
        let _ = rmp::encode::write_uint(out, KIND_WELCOME.into());
        let _ = rmp::encode::write_uint(out, WIRE_VERSION.into());
        let _ = rmp::encode::write_uint(out, fingerprint);
        let _ = rmp::encode::write_uint(out, player.into());
        let _ = rmp::encode::write_uint(out, net.into());
        let _ = rmp::encode::write_uint(out, rate.into());
        let _ = rmp::encode::write_map_len(out, SETTINGS.len() as u32 + 2);
        for (key, value) in SETTINGS {
            let _ = rmp::encode::write_str(out, key);
            let _ = rmp::encode::write_uint(out, value);
        }
        let _ = rmp::encode::write_str(out, "match_code");
        let _ = rmp::encode::write_str(out, MATCH_CODE);
        let _ = rmp::encode::write_str(out, "match_kind");
        let _ = rmp::encode::write_str(out, kind);
    }

    /// One player's entry in a sync frame: its net id, the fields listed (a
    /// mask of [`X`], [`Y`] or [`EVERY_FIELD`]) and its position; the name is
    /// always empty in the bench game.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Entry {
        /// The player's net id.
        pub net: u32,
        /// Which fields follow.
        pub mask: u64,
        /// `x`.
        pub x: f32,
        /// `y`.
        pub y: f32,
    }

    /// A sync frame's first elements after its kind.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Header {
        /// The server's tick.
        pub tick: u64,
        /// Players connected.
        pub online: u32,
        /// [`FULL`] for a snapshot, else 0.
        pub flags: u8,
    }

    /// Writes a sync frame, `[2, tick, online, flags, left, joined, players,
    /// server]`, into `out` (cleared first, so one buffer serves every frame).
    /// `server_whole`: the `Match` server state with every field, at its default
    /// (round 0, 0 s left, no leader), as a snapshot carries it; else `nil`.
    pub fn write_sync(
        out: &mut Vec<u8>,
        header: Header,
        left: &[u32],
        joined: &[(u32, u32)],
        players: &[Entry],
        server_whole: bool,
    ) {
        out.clear();
        let _ = rmp::encode::write_array_len(out, 8);
        let _ = rmp::encode::write_uint(out, KIND_SYNC.into());
        let _ = rmp::encode::write_uint(out, header.tick);
        let _ = rmp::encode::write_uint(out, header.online.into());
        let _ = rmp::encode::write_uint(out, header.flags.into());
        let _ = rmp::encode::write_array_len(out, left.len() as u32);
        for net in left {
            let _ = rmp::encode::write_uint(out, (*net).into());
        }
        let _ = rmp::encode::write_array_len(out, joined.len() as u32);
        for (net, player) in joined {
            let _ = rmp::encode::write_array_len(out, 2);
            let _ = rmp::encode::write_uint(out, (*net).into());
            let _ = rmp::encode::write_uint(out, (*player).into());
        }
        let _ = rmp::encode::write_array_len(out, players.len() as u32);
        for entry in players {
            let _ = rmp::encode::write_array_len(out, 2 + entry.mask.count_ones());
            let _ = rmp::encode::write_uint(out, entry.net.into());
            let _ = rmp::encode::write_uint(out, entry.mask);
            if entry.mask & X != 0 {
                let _ = rmp::encode::write_f32(out, entry.x);
            }
            if entry.mask & Y != 0 {
                let _ = rmp::encode::write_f32(out, entry.y);
            }
            if entry.mask & 4 != 0 {
                let _ = rmp::encode::write_str(out, "");
            }
        }
        if server_whole {
            let _ = rmp::encode::write_array_len(out, 4);
            let _ = rmp::encode::write_uint(out, 7);
            let _ = rmp::encode::write_uint(out, 0);
            let _ = rmp::encode::write_f32(out, 0.0);
            let _ = rmp::encode::write_nil(out);
        } else {
            let _ = rmp::encode::write_nil(out);
        }
    }

    /// Writes the `chat` event as the server sends it: `[1, "chat", from, msg]`.
    pub fn write_chat(out: &mut Vec<u8>, from: u32, msg: &str) {
        out.clear();
        let _ = rmp::encode::write_array_len(out, 4);
        let _ = rmp::encode::write_uint(out, KIND_EVENT.into());
        let _ = rmp::encode::write_str(out, "chat");
        let _ = rmp::encode::write_uint(out, from.into());
        let _ = rmp::encode::write_str(out, msg);
    }

    /// What a bench client sends.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum FromClient<'a> {
        /// `[1, "move", x, y]`.
        Move(f32, f32),
        /// `[1, "chat", msg]`.
        Chat(&'a str),
        /// Anything else the protocol allows (`ready`, a pong): nothing to do.
        Other,
    }

    /// Reads a client frame; `None` for one the bench game does not know.
    #[must_use]
    pub fn read_client(mut bytes: &[u8]) -> Option<FromClient<'_>> {
        let len = rmp::decode::read_array_len(&mut bytes).ok()?;
        let kind: u8 = rmp::decode::read_int(&mut bytes).ok()?;
        if kind == KIND_PONG {
            return Some(FromClient::Other);
        }
        if kind != KIND_EVENT {
            return None;
        }
        let (name, rest) = rmp::decode::read_str_from_slice(bytes).ok()?;
        bytes = rest;
        match (name, len) {
            ("move", 4) => {
                let x = rmp::decode::read_f32(&mut bytes).ok()?;
                let y = rmp::decode::read_f32(&mut bytes).ok()?;
                Some(FromClient::Move(x, y))
            }
            ("chat", 3) => rmp::decode::read_str_from_slice(bytes)
                .ok()
                .map(|(msg, _)| FromClient::Chat(msg)),
            ("ready", 2) => Some(FromClient::Other),
            _ => None,
        }
    }
}

/// The name of the match kind the nodelink bench server hosts with `--match-size`:
/// what clients put in `?match=find&kind=…` and `?match=create&kind=…`.
pub const MATCH_KIND: &str = "match";

/// A chat line from a player of a match of the [`MATCH_KIND`] kind that begins
/// with this has the nodelink bench server broadcast the rest, as a chat line
/// from that player, to every player of every match of the service
/// (`ClusterHandle::broadcast`, through Redis; the server must be a process of a
/// service: `--redis`).
pub const SERVICE_BROADCAST: &str = "!service ";

/// As [`SERVICE_BROADCAST`], to every player of every match of this process only,
/// without Redis: the same matches' `ServerHandle::broadcast`, called in turn.
pub const PROCESS_BROADCAST: &str = "!process ";

/// The command line of both Rust bench servers: `[PORT] [--room-size N]
/// [--match-size N] [--tls CERT KEY] [--relay URL] [--resume-grace SECONDS]
/// [--ping-interval SECONDS] [--max-players N] [--redis URL [--service NAME]]`.
///
/// Without `--room-size`, every client receives every player's changes; with it,
/// players are put in rooms of N in the order they join (the first N in room 0, the
/// next N in room 1…) and each receives only its room's changes. With `--tls`, the
/// server serves `wss://` with the certificate chain and key in those PEM files
/// (the nodelink server only). With `--relay URL`, the nodelink server hosts
/// through that relay instead of listening. `--resume-grace` sets the nodelink server's
/// `ServerConfig::resume_grace` (0: no sessions); the limit server has no sessions
/// and ignores it, as it does `--ping-interval` (the nodelink server's
/// `ServerConfig::ping_interval`; 0: no pings). `--match-size N` makes the nodelink server host matches of the
/// kind [`MATCH_KIND`] with the bench game's rules and at most N players each (the
/// limit server has no matches and refuses it). `--max-players N` caps the
/// nodelink server's players (its `ServerConfig::max_players`; default 100,000):
/// a process of a service that is full refuses finds, and gateways send them to
/// the next process. `--redis URL` makes the nodelink server a process of the
/// service whose directory is that Redis (`nodelink::cluster`), under the name
/// `--service NAME` (default `nodelink-bench`), reached by gateways at its own
/// listener's URL (the limit server refuses it). `--scrape-metrics SECONDS` has
/// the nodelink server render its Prometheus metrics that often, as a scrape
/// would (the limit server has none and ignores it). `--tick-work MICROS` has
/// each match of the [`MATCH_KIND`] kind (`--match-size`) spend that many
/// microseconds of CPU in every tick, a fixed computation standing for a
/// game's simulation, and the server print on standard error how many such
/// ticks its matches ran in each 5 seconds (`match ticks a second: N`): with
/// more matches than the cores can tick, that count is what the cores carry
/// (the nodelink server only).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerArgs {
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
    /// Players per room, when sync is scoped to rooms.
    pub room_size: Option<usize>,
    /// The certificate chain's and the private key's PEM files, to serve `wss://`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How long the nodelink server holds a player whose connection was lost, in
    /// seconds; its default when not given.
    pub resume_grace: Option<f64>,
    /// A relay to host through instead of listening (the nodelink server only).
    pub relay: Option<String>,
    /// Players per match of the [`MATCH_KIND`] kind, when the server hosts it.
    pub match_size: Option<usize>,
    /// How often the nodelink server pings each player, in seconds (0: never);
    /// its default when not given.
    pub ping_interval: Option<f64>,
    /// The most players the nodelink server takes; its bench default when not
    /// given.
    pub max_players: Option<usize>,
    /// The Redis of the service this server joins, if any.
    pub redis: Option<String>,
    /// The service's name in Redis, when one was given.
    pub service: Option<String>,
    /// How often the nodelink server renders its metrics (`metrics_text`), as a
    /// Prometheus scrape would, in seconds; never when not given.
    pub scrape_metrics: Option<f64>,
    /// Microseconds of CPU each match of the [`MATCH_KIND`] kind spends in every
    /// tick, when given.
    pub tick_work: Option<u64>,
}

/// The service's name when `--service` is not given: the prefix of its keys in
/// Redis, which the gateway is given too.
pub const DEFAULT_SERVICE: &str = "nodelink-bench";

impl ServerArgs {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    /// A message naming the argument that is not understood.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--tick-work" {
                let micros = args.next().ok_or("--tick-work needs microseconds")?;
                parsed.tick_work = match micros.parse() {
                    Ok(micros) if micros > 0 => Some(micros),
                    _ => return Err(format!("--tick-work: `{micros}` is not a positive number")),
                };
            } else if arg == "--room-size" || arg == "--match-size" || arg == "--max-players" {
                let size = args.next().ok_or(format!("{arg} needs a value"))?;
                let size = match size.parse() {
                    Ok(size) if size > 0 => Some(size),
                    _ => return Err(format!("{arg}: `{size}` is not a positive number")),
                };
                match arg.as_str() {
                    "--room-size" => parsed.room_size = size,
                    "--match-size" => parsed.match_size = size,
                    _ => parsed.max_players = size,
                }
            } else if arg == "--tls" {
                let cert = args.next().ok_or("--tls needs a certificate file")?;
                let key = args
                    .next()
                    .ok_or("--tls needs a key file after the certificate")?;
                parsed.tls = Some((cert.into(), key.into()));
            } else if arg == "--redis" {
                parsed.redis = Some(args.next().ok_or("--redis needs the Redis URL")?);
            } else if arg == "--service" {
                parsed.service = Some(args.next().ok_or("--service needs a name")?);
            } else if arg == "--relay" {
                parsed.relay = Some(args.next().ok_or("--relay needs the relay's URL")?);
            } else if arg == "--resume-grace"
                || arg == "--ping-interval"
                || arg == "--scrape-metrics"
            {
                let seconds = args.next().ok_or(format!("{arg} needs a value"))?;
                let seconds = match seconds.parse::<f64>() {
                    Ok(seconds) if seconds >= 0.0 && seconds.is_finite() => Some(seconds),
                    _ => return Err(format!("{arg}: `{seconds}` is not a number of seconds")),
                };
                match arg.as_str() {
                    "--resume-grace" => parsed.resume_grace = seconds,
                    "--ping-interval" => parsed.ping_interval = seconds,
                    _ => parsed.scrape_metrics = seconds.filter(|every| *every > 0.0),
                }
            } else {
                parsed.port = arg
                    .parse()
                    .map_err(|_| format!("unknown argument `{arg}`"))?;
            }
        }
        if parsed.tick_work.is_some() && parsed.match_size.is_none() {
            return Err(
                "--tick-work is the work of the matches of --match-size: give it too".into(),
            );
        }
        if parsed.service.is_some() && parsed.redis.is_none() {
            return Err("--service names the service of --redis: give --redis too".into());
        }
        if parsed.redis.is_some() && parsed.relay.is_some() {
            return Err("--redis and --relay: a process of a service listens itself".into());
        }
        Ok(parsed)
    }
}

/// Seconds since `start`, for progress lines.
#[must_use]
pub fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::{limit_wire, ServerArgs};

    #[test]
    fn the_limit_wire_writes_what_nodelink_writes() {
        use nodelink::wire::{decode_server_frame, encode_event, ServerFrame};
        use nodelink_examples::{Game, ToServer};

        let mut frame = Vec::new();
        limit_wire::write_sync(
            &mut frame,
            limit_wire::Header {
                tick: 43,
                online: 2,
                flags: 0,
            },
            &[],
            &[],
            &[limit_wire::Entry {
                net: 0,
                mask: limit_wire::X,
                x: 2.0,
                y: 0.0,
            }],
            false,
        );
        // PROTOCOL.md's tick 43: only ada's x changed.
        assert_eq!(
            frame,
            [0x98, 2, 0x2b, 2, 0, 0x90, 0x90, 0x91, 0x93, 0, 1, 0xca, 0x40, 0, 0, 0, 0xc0]
        );
        assert!(matches!(
            decode_server_frame::<Game>(&frame, usize::MAX),
            Ok(ServerFrame::Sync(_))
        ));
        let sent = encode_event(&ToServer::Move { x: 1.5, y: -2.0 }).unwrap();
        assert_eq!(
            limit_wire::read_client(&sent),
            Some(limit_wire::FromClient::Move(1.5, -2.0))
        );
        let chat = encode_event(&ToServer::Chat { msg: "hi".into() }).unwrap();
        assert_eq!(
            limit_wire::read_client(&chat),
            Some(limit_wire::FromClient::Chat("hi"))
        );
        assert_eq!(limit_wire::read_client(&[0x91, 0x09]), None);
    }

    #[test]
    fn the_servers_read_a_port_a_room_size_and_tls_files() {
        let parse = |args: &[&str]| ServerArgs::parse(args.iter().map(|a| (*a).to_owned()));
        assert_eq!(parse(&[]), Ok(ServerArgs::default()));
        assert_eq!(
            parse(&["9000", "--room-size", "50"]),
            Ok(ServerArgs {
                port: 9000,
                room_size: Some(50),
                tls: None,
                resume_grace: None,
                relay: None,
                match_size: None,
                ping_interval: None,
                max_players: None,
                redis: None,
                service: None,
                scrape_metrics: None,
                tick_work: None,
            })
        );
        assert_eq!(
            parse(&[
                "--redis",
                "redis://127.0.0.1:7000",
                "--service",
                "s",
                "--max-players",
                "30"
            ])
            .map(|args| (args.redis, args.service, args.max_players)),
            Ok((
                Some("redis://127.0.0.1:7000".into()),
                Some("s".into()),
                Some(30)
            ))
        );
        assert!(parse(&["--service", "s"]).is_err());
        assert!(parse(&["--redis", "redis://x", "--relay", "ws://y"]).is_err());
        assert!(parse(&["--max-players", "0"]).is_err());
        assert_eq!(
            parse(&["--ping-interval", "0"]).map(|args| args.ping_interval),
            Ok(Some(0.0))
        );
        assert_eq!(
            parse(&["--scrape-metrics", "0.5"]).map(|args| args.scrape_metrics),
            Ok(Some(0.5))
        );
        assert_eq!(
            parse(&["--match-size", "2", "--tick-work", "2000"]).map(|args| args.tick_work),
            Ok(Some(2000))
        );
        assert!(parse(&["--tick-work", "2000"]).is_err());
        assert!(parse(&["--match-size", "2", "--tick-work", "0"]).is_err());
        assert_eq!(
            parse(&["--match-size", "10"]).map(|args| args.match_size),
            Ok(Some(10))
        );
        assert!(parse(&["--match-size", "0"]).is_err());
        assert_eq!(
            parse(&["--tls", "cert.pem", "key.pem"]).map(|args| args.tls),
            Ok(Some(("cert.pem".into(), "key.pem".into())))
        );
        assert_eq!(
            parse(&["--resume-grace", "0"]).map(|args| args.resume_grace),
            Ok(Some(0.0))
        );
        assert!(parse(&["--resume-grace", "-1"]).is_err());
        assert!(parse(&["--room-size", "0"]).is_err());
        assert!(parse(&["--rooms"]).is_err());
        assert!(parse(&["--tls", "cert.pem"]).is_err());
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(super::process::cpu_seconds("self").is_some());
        assert!(super::process::thread_cpu_seconds("self").unwrap() > 0.0);
        assert!(super::process::machine_cpu_seconds().unwrap() > 0.0);
        assert!(super::tcp::ext_counter("ListenOverflows").is_some());
        assert!(super::process::OthersMeter::start(&["self"]).percent() >= 0.0);
        assert!(super::process::rss_bytes("self").unwrap() > 0);
        assert!(super::process::open_files_limit().unwrap() > 0);
    }
}
