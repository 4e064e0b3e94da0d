//! Counters of the sync engine, for monitoring and tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::server::log_budget::LogBudget;

/// What the sync engine has done: in a match since it started
/// ([`ServerHandle::stats`](super::ServerHandle::stats), a
/// [`MatchInfo`](crate::server::MatchInfo)'s), or in every match the server ran
/// ([`ProcessStats`](crate::server::ProcessStats)).
///
/// The twin of Python nodelink's `server.sync_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncStats {
    /// Ticks run.
    pub ticks: u64,
    /// Sync frames built (each once, whatever the number of recipients).
    pub frames: u64,
    /// Snapshot frames built for newcomers and resumed players, each once
    /// however many newcomers it went to (those of one tick share the world's).
    pub snapshot_frames: u64,
    /// Sync and snapshot frame bytes queued, summed over recipients.
    pub bytes_sent: u64,
    /// Sync and snapshot frames queued, summed over recipients: against
    /// [`frames`](Self::frames) and [`snapshot_frames`](Self::snapshot_frames),
    /// how many recipients each encoding served.
    pub deliveries: u64,
    /// Players whose state is tracked now.
    pub players: usize,
}

impl SyncStats {
    /// What was done since `earlier` (the counters only).
    fn since(&self, earlier: &SyncStats) -> SyncStats {
        SyncStats {
            ticks: self.ticks - earlier.ticks,
            frames: self.frames - earlier.frames,
            snapshot_frames: self.snapshot_frames - earlier.snapshot_frames,
            bytes_sent: self.bytes_sent - earlier.bytes_sent,
            deliveries: self.deliveries - earlier.deliveries,
            players: 0,
        }
    }
}

/// The process's counters: its matches' sync engines summed, and how many
/// matches it started and ended; and its log budget for dropped players.
#[derive(Debug, Default)]
pub(crate) struct ProcessBoard {
    pub(crate) sync: StatsBoard,
    pub(crate) started: AtomicU64,
    pub(crate) ended: AtomicU64,
    /// The log lines for players whose connections the server ended, shared by
    /// every match of the process.
    pub(crate) drops_log: Mutex<LogBudget>,
    /// The log lines for errors no `on_error` handler takes.
    pub(crate) errors_log: Mutex<LogBudget>,
    /// Refused connections, by the refusal's close code less 4200 (the
    /// HTTP-only refusals at [`OTHER_REFUSAL`]).
    pub(crate) refusals: [AtomicU64; REFUSAL_SLOTS],
    /// Connections the server ended, by close code less 4000.
    pub(crate) connections_ended: [AtomicU64; CLOSE_SLOTS],
    /// Errors reported to `on_error` (or logged without one).
    pub(crate) errors: AtomicU64,
    /// Of those, handlers that panicked.
    pub(crate) panics: AtomicU64,
    /// Sessions resumed.
    pub(crate) resumes: AtomicU64,
    /// Resumes refused, by the close code less 4000 they were refused with
    /// (the session expired, or missed events).
    pub(crate) resumes_refused: [AtomicU64; CLOSE_SLOTS],
    /// How long each match's tick took (its handlers and its sync).
    pub(crate) tick_time: TickTimes,
    /// Ticks that took longer than the tick period.
    pub(crate) tick_overruns: AtomicU64,
    /// What crossed the process's sockets, by wire format
    /// ([`WireTraffic::of`]).
    pub(crate) traffic: [WireTraffic; 2],
}

/// The WebSocket data frames (pings and pongs of the WebSocket layer aside) and
/// their payload bytes that crossed the sockets of one wire format. A reader adds
/// each frame it reads; a writer adds once per flush what it wrote, and a match
/// each frame it wrote to a socket itself.
#[derive(Debug, Default)]
pub(crate) struct WireTraffic {
    pub(crate) frames_in: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
}

impl WireTraffic {
    /// The counters of `wire` among a process's.
    pub(crate) fn of(traffic: &[WireTraffic; 2], wire: crate::wire::WireFormat) -> &WireTraffic {
        match wire {
            crate::wire::WireFormat::Native => &traffic[0],
            crate::wire::WireFormat::Json => &traffic[1],
        }
    }

    pub(crate) fn read(&self, bytes: usize) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn wrote(&self, frames: u64, bytes: u64) {
        self.frames_out.fetch_add(frames, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Slots of [`ProcessBoard::refusals`]: close codes 4200–4230, and one for
/// refusals only ever answered in HTTP.
pub(crate) const REFUSAL_SLOTS: usize = 32;
/// The slot of refusals with no close code.
pub(crate) const OTHER_REFUSAL: usize = REFUSAL_SLOTS - 1;
/// Slots of [`ProcessBoard::connections_ended`]: close codes 4000–4031.
pub(crate) const CLOSE_SLOTS: usize = 32;

impl ProcessBoard {
    /// The slot of [`refusals`](Self::refusals) that counts `kind`.
    pub(crate) fn refusal_slot(kind: crate::wire::RefusalKind) -> usize {
        kind.close_code()
            .map_or(OTHER_REFUSAL, |code| usize::from(code - 4200))
            .min(OTHER_REFUSAL)
    }

    /// Counts a refusal.
    pub(crate) fn refused(&self, kind: crate::wire::RefusalKind) {
        self.refusals[Self::refusal_slot(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a resume: `None` when the session was resumed, else why not.
    pub(crate) fn resumed(&self, refused: Option<crate::wire::CloseReason>) {
        match refused {
            None => {
                self.resumes.fetch_add(1, Ordering::Relaxed);
            }
            Some(reason) => {
                let slot = reason.code().checked_sub(4000).map(usize::from);
                if let Some(count) = slot.and_then(|slot| self.resumes_refused.get(slot)) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Counts a connection the server ended.
    pub(crate) fn connection_ended(&self, reason: crate::wire::CloseReason) {
        if let Some(slot) = reason.code().checked_sub(4000).map(usize::from) {
            if let Some(count) = self.connections_ended.get(slot) {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Upper bounds of the tick time buckets, in microseconds (and one for the rest).
pub(crate) const TICK_BUCKETS_US: [u64; 9] =
    [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000];

/// A histogram of tick times, in fixed buckets: a few atomic additions a tick.
#[derive(Debug, Default)]
pub(crate) struct TickTimes {
    /// Ticks per bucket of [`TICK_BUCKETS_US`], the last for longer ones.
    pub(crate) buckets: [AtomicU64; TICK_BUCKETS_US.len() + 1],
    pub(crate) sum_us: AtomicU64,
    pub(crate) count: AtomicU64,
}

impl TickTimes {
    pub(crate) fn observe(&self, took: std::time::Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let slot = TICK_BUCKETS_US
            .iter()
            .position(|bound| us <= *bound)
            .unwrap_or(TICK_BUCKETS_US.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sync counters others read without asking the match: a match's own, or the
/// process's sum over every match it ran. Matches add to them once a tick.
#[derive(Debug, Default)]
pub(crate) struct StatsBoard {
    ticks: AtomicU64,
    frames: AtomicU64,
    snapshot_frames: AtomicU64,
    bytes_sent: AtomicU64,
    deliveries: AtomicU64,
}

impl StatsBoard {
    /// Adds what a match did since it last published, `now` against `published`,
    /// to each board.
    pub(crate) fn publish(boards: [&StatsBoard; 2], now: &SyncStats, published: &SyncStats) {
        let delta = now.since(published);
        for board in boards {
            board.ticks.fetch_add(delta.ticks, Ordering::Relaxed);
            board.frames.fetch_add(delta.frames, Ordering::Relaxed);
            board
                .snapshot_frames
                .fetch_add(delta.snapshot_frames, Ordering::Relaxed);
            board
                .bytes_sent
                .fetch_add(delta.bytes_sent, Ordering::Relaxed);
            board
                .deliveries
                .fetch_add(delta.deliveries, Ordering::Relaxed);
        }
    }

    /// The counters, with `players`.
    pub(crate) fn read(&self, players: usize) -> SyncStats {
        SyncStats {
            ticks: self.ticks.load(Ordering::Relaxed),
            frames: self.frames.load(Ordering::Relaxed),
            snapshot_frames: self.snapshot_frames.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            deliveries: self.deliveries.load(Ordering::Relaxed),
            players,
        }
    }
}
