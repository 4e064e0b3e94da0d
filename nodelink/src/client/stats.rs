//! What a client has received and sent, counted by the connection as it goes, read
//! from any thread.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::wire::{frame_kind, SyncHeader, KIND_EVENT};

/// The sync frame's kind (PROTOCOL.md, "Frames").
const KIND_SYNC: u64 = 2;

/// What a client has received and sent since it was made, over all its
/// connections; read with [`ClientCtx::stats`](super::ClientCtx::stats),
/// [`PollClient::stats`](super::PollClient::stats) or
/// [`ClientSender::stats`](super::ClientSender::stats).
///
/// Frames are WebSocket data messages; bytes are their payloads, the nodelink
/// frames themselves (PROTOCOL.md), without WebSocket framing or TCP. Frames
/// received are counted by kind as they arrive, decodable or not, before any
/// handler runs.
///
/// ```
/// use nodelink::client::ClientStats;
///
/// // What one change costs this client, on average.
/// fn bytes_per_sync_frame(stats: &ClientStats) -> Option<u64> {
///     stats.sync_bytes_received.checked_div(stats.sync_frames_received)
/// }
/// assert_eq!(bytes_per_sync_frame(&ClientStats::default()), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Event frames received (kind 1).
    pub events_received: u64,
    /// Their bytes.
    pub event_bytes_received: u64,
    /// Sync frames received (kind 2) that are not part of a snapshot: the changes
    /// of a tick.
    pub sync_frames_received: u64,
    /// Their bytes.
    pub sync_bytes_received: u64,
    /// Sync frames received that are part of a snapshot: from a frame with the
    /// `full` flag up to the first without `more`, each connection's first and
    /// those the server sends when asked (`sync_state(true)`) or after the client
    /// fell behind.
    pub snapshot_frames_received: u64,
    /// Their bytes.
    pub snapshot_bytes_received: u64,
    /// Other frames received: welcomes, pings, and any of an unknown kind.
    pub other_frames_received: u64,
    /// Their bytes.
    pub other_bytes_received: u64,
    /// Frames sent: events (those re-sent after a resume too) and pongs.
    pub frames_sent: u64,
    /// Their bytes.
    pub bytes_sent: u64,
    /// Connections that resumed the session of an earlier one (the same player).
    pub resumes: u64,
    /// Connections welcomed after the first: resumed, or joined afresh.
    pub reconnects: u64,
}

/// The counters behind [`ClientStats`], shared by a client's senders and its
/// connection.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    events: Count,
    syncs: Count,
    snapshots: Count,
    others: Count,
    sent: Count,
    resumes: AtomicU64,
    connections: AtomicU64,
}

#[derive(Debug, Default)]
struct Count {
    frames: AtomicU64,
    bytes: AtomicU64,
}

impl Count {
    fn add(&self, bytes: usize) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn read(&self) -> (u64, u64) {
        (
            self.frames.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

impl Counters {
    pub(crate) fn stats(&self) -> ClientStats {
        let (events_received, event_bytes_received) = self.events.read();
        let (sync_frames_received, sync_bytes_received) = self.syncs.read();
        let (snapshot_frames_received, snapshot_bytes_received) = self.snapshots.read();
        let (other_frames_received, other_bytes_received) = self.others.read();
        let (frames_sent, bytes_sent) = self.sent.read();
        ClientStats {
            events_received,
            event_bytes_received,
            sync_frames_received,
            sync_bytes_received,
            snapshot_frames_received,
            snapshot_bytes_received,
            other_frames_received,
            other_bytes_received,
            frames_sent,
            bytes_sent,
            resumes: self.resumes.load(Ordering::Relaxed),
            reconnects: self.connections.load(Ordering::Relaxed).saturating_sub(1),
        }
    }

    pub(crate) fn sent(&self, bytes: usize) {
        self.sent.add(bytes);
    }

    /// A connection was welcomed: resumed, or a new session.
    pub(crate) fn welcomed(&self, resumed: bool) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        if resumed {
            self.resumes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sorts one connection's received frames into the counters; it follows the
/// snapshots, whose later frames carry no flag of their own.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// Whether the last sync frame began or continued a snapshot (`more`).
    in_snapshot: bool,
}

impl Received {
    /// Counts `frame`, with its header when it was decoded as a sync frame.
    pub(crate) fn count(&mut self, counters: &Counters, frame: &[u8], sync: Option<&SyncHeader>) {
        let count = match (sync, frame_kind(frame)) {
            (Some(header), _) if header.full || self.in_snapshot => {
                self.in_snapshot = header.more;
                &counters.snapshots
            }
            (Some(_), _) => &counters.syncs,
            // A sync frame that could not be decoded is counted, not placed.
            (None, Some(KIND_SYNC)) => &counters.syncs,
            (None, Some(KIND_EVENT)) => &counters.events,
            (None, _) => &counters.others,
        };
        count.add(frame.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Tick;

    fn header(full: bool, more: bool) -> SyncHeader {
        SyncHeader {
            tick: Tick(1),
            online: 1,
            full,
            more,
        }
    }

    #[test]
    fn a_snapshot_runs_from_its_full_frame_to_the_first_without_more() {
        let counters = Counters::default();
        let mut received = Received::default();
        let sync = [0x92, 0x02, 0x00];
        received.count(&counters, &sync, Some(&header(true, true)));
        received.count(&counters, &sync, Some(&header(false, true)));
        received.count(&counters, &sync, Some(&header(false, false)));
        received.count(&counters, &sync, Some(&header(false, false)));
        received.count(&counters, &[0x92, 0x01, 0xc0], None);
        received.count(&counters, &[0x92, 0x03, 0x01], None);
        let stats = counters.stats();
        assert_eq!(
            (
                stats.snapshot_frames_received,
                stats.snapshot_bytes_received
            ),
            (3, 9)
        );
        assert_eq!((stats.sync_frames_received, stats.events_received), (1, 1));
        assert_eq!(stats.other_frames_received, 1);
    }
}
