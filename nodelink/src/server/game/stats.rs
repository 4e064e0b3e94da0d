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
    /// Sync frame bytes queued, summed over recipients.
    pub bytes_sent: u64,
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
}

/// Sync counters others read without asking the match: a match's own, or the
/// process's sum over every match it ran. Matches add to them once a tick.
#[derive(Debug, Default)]
pub(crate) struct StatsBoard {
    ticks: AtomicU64,
    frames: AtomicU64,
    snapshot_frames: AtomicU64,
    bytes_sent: AtomicU64,
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
        }
    }

    /// The counters, with `players`.
    pub(crate) fn read(&self, players: usize) -> SyncStats {
        SyncStats {
            ticks: self.ticks.load(Ordering::Relaxed),
            frames: self.frames.load(Ordering::Relaxed),
            snapshot_frames: self.snapshot_frames.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            players,
        }
    }
}
