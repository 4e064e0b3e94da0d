//! Shared parts of the load generator and the baseline servers: the hand-written
//! "limit" protocol and process measurements from `/proc`.

use std::time::Instant;

/// Reading `/proc/<pid>/stat` and `/proc/<pid>/statm` (Linux).
pub mod process {
    use std::time::Instant;

    /// Clock ticks per second for `utime`/`stime` (`USER_HZ`, 100 on Linux).
    const TICKS_PER_SECOND: f64 = 100.0;

    /// CPU time used so far by process `pid` (`"self"` for this one), in seconds.
    #[must_use]
    pub fn cpu_seconds(pid: &str) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces: fields are counted after its ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / TICKS_PER_SECOND)
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

    /// CPU use of a process over a window, as a percentage of one core.
    #[derive(Debug, Clone, Copy)]
    pub struct CpuMeter {
        start_cpu: f64,
        start: Instant,
    }

    impl CpuMeter {
        /// Starts measuring `pid`.
        #[must_use]
        pub fn start(pid: &str) -> Self {
            Self {
                start_cpu: cpu_seconds(pid).unwrap_or(0.0),
                start: Instant::now(),
            }
        }

        /// The percentage of one core used since [`start`](Self::start).
        #[must_use]
        pub fn percent(&self, pid: &str) -> f64 {
            let used = cpu_seconds(pid).unwrap_or(self.start_cpu) - self.start_cpu;
            100.0 * used / self.start.elapsed().as_secs_f64().max(1e-9)
        }
    }
}

/// The hand-written baseline's wire: MessagePack, no framework.
///
/// - server → client welcome: `[id]`
/// - client → server move: `[x, y]` (two `f32`)
/// - client → server chat: `[msg]`
/// - server → client tick: `[tick, [[id, x, y]…]]`, changed players only; the same
///   layout with every player the client sees is the snapshot sent after the welcome
/// - server → client chat: `[from, msg]` (told from a tick by its second element, a
///   string rather than an array)
pub mod limit_wire {
    /// Encodes a move.
    #[must_use]
    pub fn encode_move(x: f32, y: f32) -> Vec<u8> {
        let mut out = Vec::with_capacity(11);
        out.push(0x92);
        out.push(0xca);
        out.extend_from_slice(&x.to_be_bytes());
        out.push(0xca);
        out.extend_from_slice(&y.to_be_bytes());
        out
    }

    /// Decodes a move.
    #[must_use]
    pub fn decode_move(mut bytes: &[u8]) -> Option<(f32, f32)> {
        if rmp::decode::read_array_len(&mut bytes).ok()? != 2 {
            return None;
        }
        let x = rmp::decode::read_f32(&mut bytes).ok()?;
        let y = rmp::decode::read_f32(&mut bytes).ok()?;
        Some((x, y))
    }

    /// Encodes a chat line sent to the server.
    #[must_use]
    pub fn encode_chat(msg: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(msg.len() + 6);
        let _ = rmp::encode::write_array_len(&mut out, 1);
        let _ = rmp::encode::write_str(&mut out, msg);
        out
    }

    /// Decodes a chat line sent to the server.
    #[must_use]
    pub fn decode_chat(mut bytes: &[u8]) -> Option<&str> {
        if rmp::decode::read_array_len(&mut bytes).ok()? != 1 {
            return None;
        }
        rmp::decode::read_str_from_slice(bytes)
            .ok()
            .map(|(msg, _)| msg)
    }

    /// Encodes a chat line as the server relays it to every client.
    #[must_use]
    pub fn encode_chat_from(from: u32, msg: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(msg.len() + 12);
        let _ = rmp::encode::write_array_len(&mut out, 2);
        let _ = rmp::encode::write_uint(&mut out, from.into());
        let _ = rmp::encode::write_str(&mut out, msg);
        out
    }

    /// Decodes a relayed chat line into the sender's id and the line; `None` for
    /// anything else (a tick's second element is an array, not a string).
    #[must_use]
    pub fn decode_chat_from(mut bytes: &[u8]) -> Option<(u32, &str)> {
        if rmp::decode::read_array_len(&mut bytes).ok()? != 2 {
            return None;
        }
        let from: u32 = rmp::decode::read_int(&mut bytes).ok()?;
        let (msg, _) = rmp::decode::read_str_from_slice(bytes).ok()?;
        Some((from, msg))
    }

    /// Writes a tick frame (or a snapshot) with these `(id, x, y)` entries into
    /// `out`, which is cleared first so the server can reuse one buffer.
    pub fn write_tick(
        out: &mut Vec<u8>,
        tick: u64,
        entries: impl ExactSizeIterator<Item = (u32, f32, f32)>,
    ) {
        out.clear();
        let _ = rmp::encode::write_array_len(out, 2);
        let _ = rmp::encode::write_uint(out, tick);
        let _ = rmp::encode::write_array_len(out, entries.len() as u32);
        for (id, x, y) in entries {
            let _ = rmp::encode::write_array_len(out, 3);
            let _ = rmp::encode::write_uint(out, id.into());
            let _ = rmp::encode::write_f32(out, x);
            let _ = rmp::encode::write_f32(out, y);
        }
    }

    /// Decodes a tick frame into `(id, x, y)` entries.
    #[must_use]
    pub fn decode_tick(mut bytes: &[u8]) -> Option<Vec<(u32, f32, f32)>> {
        if rmp::decode::read_array_len(&mut bytes).ok()? != 2 {
            return None;
        }
        let _tick: u64 = rmp::decode::read_int(&mut bytes).ok()?;
        let count = rmp::decode::read_array_len(&mut bytes).ok()?;
        let mut entries = Vec::with_capacity(count.min(4096) as usize);
        for _ in 0..count {
            if rmp::decode::read_array_len(&mut bytes).ok()? != 3 {
                return None;
            }
            let id: u32 = rmp::decode::read_int(&mut bytes).ok()?;
            let x = rmp::decode::read_f32(&mut bytes).ok()?;
            let y = rmp::decode::read_f32(&mut bytes).ok()?;
            entries.push((id, x, y));
        }
        Some(entries)
    }
}

/// The command line of both Rust bench servers: `[PORT] [--room-size N]
/// [--resume-grace SECONDS]`.
///
/// Without `--room-size`, every client receives every player's changes; with it,
/// players are put in rooms of N in the order they join (the first N in room 0, the
/// next N in room 1…) and each receives only its room's changes. `--resume-grace`
/// sets the nodelink server's `ServerConfig::resume_grace` (0: no sessions); the
/// limit server has no sessions and ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ServerArgs {
    /// The port to listen on; 0 picks a free one.
    pub port: u16,
    /// Players per room, when sync is scoped to rooms.
    pub room_size: Option<usize>,
    /// How long the nodelink server holds a player whose connection was lost, in
    /// seconds; its default when not given.
    pub resume_grace: Option<f64>,
}

impl ServerArgs {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    /// A message naming the argument that is not understood.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--room-size" {
                let size = args.next().ok_or("--room-size needs a value")?;
                match size.parse() {
                    Ok(size) if size > 0 => parsed.room_size = Some(size),
                    _ => return Err(format!("--room-size: `{size}` is not a positive number")),
                }
            } else if arg == "--resume-grace" {
                let grace = args.next().ok_or("--resume-grace needs a value")?;
                match grace.parse::<f64>() {
                    Ok(grace) if grace >= 0.0 && grace.is_finite() => {
                        parsed.resume_grace = Some(grace);
                    }
                    _ => {
                        return Err(format!(
                            "--resume-grace: `{grace}` is not a number of seconds"
                        ))
                    }
                }
            } else {
                parsed.port = arg
                    .parse()
                    .map_err(|_| format!("unknown argument `{arg}`"))?;
            }
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
    fn the_limit_wire_round_trips() {
        assert_eq!(
            limit_wire::decode_move(&limit_wire::encode_move(1.5, -2.0)),
            Some((1.5, -2.0))
        );
        let mut tick = Vec::new();
        limit_wire::write_tick(&mut tick, 7, [(3, 1.0, 2.0)].into_iter());
        assert_eq!(limit_wire::decode_tick(&tick), Some(vec![(3, 1.0, 2.0)]));
        assert_eq!(limit_wire::decode_chat_from(&tick), None);

        assert_eq!(
            limit_wire::decode_chat(&limit_wire::encode_chat("hi")),
            Some("hi")
        );
        let chat = limit_wire::encode_chat_from(300, "hi");
        assert_eq!(limit_wire::decode_chat_from(&chat), Some((300, "hi")));
        assert_eq!(limit_wire::decode_tick(&chat), None);
        assert_eq!(limit_wire::decode_move(&chat), None);
    }

    #[test]
    fn the_servers_read_a_port_and_a_room_size() {
        let parse = |args: &[&str]| ServerArgs::parse(args.iter().map(|a| (*a).to_owned()));
        assert_eq!(parse(&[]), Ok(ServerArgs::default()));
        assert_eq!(
            parse(&["9000", "--room-size", "50"]),
            Ok(ServerArgs {
                port: 9000,
                room_size: Some(50),
                resume_grace: None,
            })
        );
        assert_eq!(
            parse(&["--resume-grace", "0"]).map(|args| args.resume_grace),
            Ok(Some(0.0))
        );
        assert!(parse(&["--resume-grace", "-1"]).is_err());
        assert!(parse(&["--room-size", "0"]).is_err());
        assert!(parse(&["--rooms"]).is_err());
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(super::process::cpu_seconds("self").is_some());
        assert!(super::process::rss_bytes("self").unwrap() > 0);
        assert!(super::process::open_files_limit().unwrap() > 0);
    }
}
