//! Counters of the sync engine, for monitoring and tests.

/// What the sync engine has done since the server started.
///
/// The twin of Python nodelink's `server.sync_stats`, read with
/// [`ServerHandle::stats`](super::ServerHandle::stats).
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
