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
/// - server → client tick: `[tick, [[id, x, y]…]]`, changed players only
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

/// Seconds since `start`, for progress lines.
#[must_use]
pub fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::limit_wire;

    #[test]
    fn the_limit_wire_round_trips() {
        assert_eq!(
            limit_wire::decode_move(&limit_wire::encode_move(1.5, -2.0)),
            Some((1.5, -2.0))
        );
        let mut tick = Vec::new();
        rmp::encode::write_array_len(&mut tick, 2).unwrap();
        rmp::encode::write_uint(&mut tick, 7).unwrap();
        rmp::encode::write_array_len(&mut tick, 1).unwrap();
        rmp::encode::write_array_len(&mut tick, 3).unwrap();
        rmp::encode::write_uint(&mut tick, 3).unwrap();
        rmp::encode::write_f32(&mut tick, 1.0).unwrap();
        rmp::encode::write_f32(&mut tick, 2.0).unwrap();
        assert_eq!(limit_wire::decode_tick(&tick), Some(vec![(3, 1.0, 2.0)]));
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        assert!(super::process::cpu_seconds("self").is_some());
        assert!(super::process::rss_bytes("self").unwrap() > 0);
    }
}
