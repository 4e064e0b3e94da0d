//! The seam between transports and matches: the one message type a transport sends
//! a match ([`ToMatch`]), and what a match hands back to a connection (its bounded
//! send queue of [`Outgoing`] items and a [`HardClose`]). A transport (listener,
//! axum mount, relay link) reaches a match only through these; a match never sees
//! a socket.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::WebSocketStream;

use crate::server::config::ServerConfig;
use crate::server::direct_write::SharedSocket;
use crate::server::error::ServerError;
use crate::server::matchmaking::kinds::lock;
use crate::wire::{CloseReason, ResumeOffer, WireFormat};
use crate::{PlayerId, Protocol};

/// What an accepted connection's authentication attached to its player.
pub(crate) type Identity = Arc<dyn Any + Send + Sync>;

/// What connection tasks tell a match. Each message about a player names the
/// connection it came over (`link`) and how many frames that connection has read
/// (`read`: every data message but pongs, the count a resumed client is told).
#[derive(Debug)]
pub(crate) enum ToMatch<P: Protocol> {
    /// A handshake completed: create the player, or resume one. Boxed: joins are
    /// rare, and every event travels in this enum.
    Join(Box<JoinRequest>),
    Event {
        player: PlayerId,
        link: u64,
        read: u64,
        event: P::ToServer,
    },
    Pong {
        player: PlayerId,
        link: u64,
        seq: u32,
    },
    /// Boxed: errors are large and rare, and every event travels in this enum.
    Invalid {
        player: PlayerId,
        link: u64,
        read: u64,
        error: Box<ServerError>,
    },
    /// The connection ended.
    Left {
        player: PlayerId,
        link: u64,
        read: u64,
        ending: Ending,
    },
    /// A problem that concerns no player, such as a connection refused because the
    /// server is set up wrong.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    Problem(Box<ServerError>),
}

/// How a connection ended, which decides whether its player may come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The peer closed it with a close frame: the player left.
    Closed,
    /// It failed without one (reset, end of stream, a failed write): a player with
    /// a session is paused for its client to resume.
    Lost,
    /// The server ends it for this reason: the peer misbehaved.
    Closing(CloseReason),
}

/// What a connection brings to the world when its handshake completes.
#[derive(Debug)]
pub(crate) struct JoinRequest {
    pub(crate) outbox: mpsc::Sender<Outgoing>,
    /// The socket, which the match writes to itself while the writer is idle.
    pub(crate) socket: Arc<SharedSocket>,
    pub(crate) hard_close: HardClose,
    pub(crate) addr: SocketAddr,
    pub(crate) wire: WireFormat,
    pub(crate) identity: Option<Identity>,
    /// The session the client asks to resume, if it does.
    pub(crate) resume: Option<ResumeOffer>,
    /// The place matchmaking took for a new player (none for a resume: the
    /// paused player holds its own); the player keeps it until it leaves.
    pub(crate) seat: Option<Seat>,
    pub(crate) reply: oneshot::Sender<Joined>,
}

/// A match's answer to a join.
#[derive(Debug)]
pub(crate) enum Joined {
    /// The connection is this player's, as connection `link`; its traffic counts
    /// in `process`'s.
    Player {
        id: PlayerId,
        link: u64,
        process: Arc<crate::server::game::ProcessBoard>,
    },
    /// No player was created or resumed; close the connection with this reason.
    Refused(CloseReason),
}

/// One item of a connection's bounded send queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A native frame, sent as a binary message.
    Binary(Bytes),
    /// A JSON frame, sent as a text message.
    Text(Utf8Bytes),
    /// Native frames sent one after the other: a resumed session's welcome and the
    /// events it replays, which count as one item of the bounded queue.
    Batch(Vec<Bytes>),
    /// Close the connection with this reason, after the frames queued before it.
    Close(CloseReason),
    /// Send what the WebSocket layer answered the client (a pong, the echo of
    /// its close), waiting in the connection's control bytes.
    Control,
    /// The rest of a frame the match wrote to the socket itself and the socket
    /// took only in part: written as it is, before anything else (the payload's
    /// rest, shared; copied only when the header itself was cut).
    Rest(Bytes),
}

/// Closes a connection without waiting for its queue to drain (the peer is not
/// reading, and the writer may be stuck on a full socket): the world's half.
///
/// The writer wakes for every frame it is queued, so its half costs one atomic
/// load a wake-up: it hands its waker over only when the waker changes (for a
/// task, once).
#[derive(Debug)]
pub(crate) struct HardClose {
    shared: Arc<HardCloseShared>,
}

/// The writer's half of [`HardClose`].
#[derive(Debug)]
pub(crate) struct HardCloseSignal {
    shared: Arc<HardCloseShared>,
    /// The waker last handed to `shared`.
    handed: Option<Waker>,
}

#[derive(Debug, Default)]
struct HardCloseShared {
    /// The close reason's code once closed; 0 before.
    reason: AtomicU16,
    waker: Mutex<Option<Waker>>,
}

impl HardCloseShared {
    fn reason(&self) -> Option<CloseReason> {
        match self.reason.load(Ordering::Acquire) {
            0 => None,
            code => Some(CloseReason::from_code(code).unwrap_or(CloseReason::SlowConsumer)),
        }
    }
}

impl HardClose {
    pub(crate) fn new() -> (Self, HardCloseSignal) {
        let shared = Arc::new(HardCloseShared::default());
        let signal = HardCloseSignal {
            shared: shared.clone(),
            handed: None,
        };
        (Self { shared }, signal)
    }

    pub(crate) fn close(&self, reason: CloseReason) {
        self.shared.reason.store(reason.code(), Ordering::Release);
        let waker = lock(&self.shared.waker).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl HardCloseSignal {
    /// Runs `drain` until it ends (with its close reason) or a hard close
    /// interrupts it (with the hard close's reason). Pinned by the caller, so
    /// that the connection's future holds it once.
    pub(crate) async fn interrupt<F>(
        mut self,
        mut drain: std::pin::Pin<&mut F>,
    ) -> Option<CloseReason>
    where
        F: std::future::Future<Output = Option<CloseReason>>,
    {
        std::future::poll_fn(|cx| {
            if let Some(reason) = self.shared.reason() {
                return Poll::Ready(Some(reason));
            }
            if let Poll::Ready(reason) = drain.as_mut().poll(cx) {
                return Poll::Ready(reason);
            }
            if !self
                .handed
                .as_ref()
                .is_some_and(|handed| handed.will_wake(cx.waker()))
            {
                *lock(&self.shared.waker) = Some(cx.waker().clone());
                self.handed = Some(cx.waker().clone());
                // A close that took the slot before this waker was in it is seen
                // here; one after it wakes this task.
                if let Some(reason) = self.shared.reason() {
                    return Poll::Ready(Some(reason));
                }
            }
            Poll::Pending
        })
        .await
    }
}

/// A place in a match, and in the process's count of players, taken by
/// matchmaking before a connection is upgraded and given back when dropped: by
/// the connection if it never joins, by the player when it leaves. So two clients
/// racing for a match's last place never both get it, and no place outlives its
/// holder.
#[derive(Debug)]
pub(crate) struct Seat {
    match_seats: Arc<Seats>,
    process: Arc<AtomicUsize>,
}

/// A match's taken places, with the flag that says it has ended in the same word,
/// so that taking a place and ending the match cannot cross.
#[derive(Debug, Default)]
pub(crate) struct Seats(AtomicUsize);

/// The bit of [`Seats`] that marks an ended match.
const ENDED: usize = 1 << (usize::BITS - 1);

/// Why no place could be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSeat {
    /// The match holds its maximum.
    MatchFull,
    /// The process holds its maximum.
    ServerFull,
    /// The match has ended.
    Ended,
}

impl Seats {
    /// Places taken now.
    pub(crate) fn taken(&self) -> usize {
        self.0.load(Ordering::Acquire) & !ENDED
    }

    /// Whether the match has ended.
    pub(crate) fn ended(&self) -> bool {
        self.0.load(Ordering::Acquire) & ENDED != 0
    }

    /// Ends the match if no place is taken; `false` when one is.
    pub(crate) fn end_if_empty(&self) -> bool {
        self.0
            .compare_exchange(0, ENDED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Ends the match whatever places are taken: none can be taken any more.
    pub(crate) fn end(&self) {
        self.0.fetch_or(ENDED, Ordering::AcqRel);
    }
}

impl Seat {
    /// Takes a place in `seats` (at most `max`) and in `process` (at most
    /// `process_max`), both or neither.
    pub(crate) fn take(
        seats: &Arc<Seats>,
        max: usize,
        process: &Arc<AtomicUsize>,
        process_max: usize,
    ) -> Result<Self, NoSeat> {
        // The process first: a full server is "server full" even to a match with
        // room, as when a server's one match is as large as the server.
        let counted = process.fetch_update(Ordering::AcqRel, Ordering::Acquire, |players| {
            (players < process_max).then_some(players + 1)
        });
        if counted.is_err() {
            return Err(NoSeat::ServerFull);
        }
        let mut current = seats.0.load(Ordering::Acquire);
        loop {
            let full = if current & ENDED != 0 {
                Some(NoSeat::Ended)
            } else if current >= max {
                Some(NoSeat::MatchFull)
            } else {
                None
            };
            if let Some(no) = full {
                process.fetch_sub(1, Ordering::AcqRel);
                return Err(no);
            }
            match seats.0.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        Ok(Self {
            match_seats: seats.clone(),
            process: process.clone(),
        })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        // The ended flag stays as it is: only the count goes down.
        self.match_seats.0.fetch_sub(1, Ordering::AcqRel);
        self.process.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What an admitted connection brings to its match besides its socket.
#[derive(Debug)]
pub(crate) struct Connecting {
    pub(crate) addr: SocketAddr,
    /// The side of the WebSocket this server is: the server's, or, on a relay's
    /// data connection (which the server opened), the client's, whose frames are
    /// masked.
    pub(crate) role: tokio_tungstenite::tungstenite::protocol::Role,
    pub(crate) wire: WireFormat,
    pub(crate) identity: Option<Identity>,
    /// The session the client asks to resume, if it does.
    pub(crate) resume: Option<ResumeOffer>,
    pub(crate) config: Arc<ServerConfig>,
}

/// Where matchmaking put a connection: once upgraded, it plays there (as a
/// player of a match, or reading a listing). Made by a kind, which knows the
/// match's protocol; played by a transport, which knows none.
pub(crate) trait Placement: Send {
    /// Plays the upgraded connection to its end.
    fn play(
        self: Box<Self>,
        socket: WebSocketStream<Io>,
        connecting: Connecting,
    ) -> futures::future::BoxFuture<'static, ()>;
}

/// A connection's byte stream, whichever transport it came over (a TCP socket, a
/// TLS stream, an upgraded HTTP connection, a relay's data connection): boxed, so
/// that one generic path plays them all.
pub(crate) type Io = Box<dyn AsyncIo>;

/// What [`Io`] boxes.
pub(crate) trait AsyncIo:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + Any
{
}

impl<T> AsyncIo for T where T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_seat_goes_once_and_returns_when_dropped() {
        let seats = Arc::new(Seats::default());
        let process = Arc::new(AtomicUsize::new(0));
        let first = Seat::take(&seats, 2, &process, 10).expect("a seat");
        let second = Seat::take(&seats, 2, &process, 10).expect("the last seat");
        assert_eq!(
            Seat::take(&seats, 2, &process, 10).err(),
            Some(NoSeat::MatchFull)
        );
        assert_eq!(seats.taken(), 2);
        drop(first);
        assert_eq!(process.load(Ordering::Relaxed), 1);
        assert!(!seats.end_if_empty());
        drop(second);
        assert!(seats.end_if_empty());
        assert_eq!(
            Seat::take(&seats, 2, &process, 10).err(),
            Some(NoSeat::Ended)
        );
        assert_eq!(process.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_process_gives_the_match_seat_back() {
        let seats = Arc::new(Seats::default());
        let process = Arc::new(AtomicUsize::new(3));
        assert_eq!(
            Seat::take(&seats, 5, &process, 3).err(),
            Some(NoSeat::ServerFull)
        );
        assert_eq!(seats.taken(), 0);
    }

    #[test]
    fn threads_racing_for_the_last_seats_never_take_more() {
        let seats = Arc::new(Seats::default());
        let process = Arc::new(AtomicUsize::new(0));
        let taken: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        (0..100)
                            .filter_map(|_| Seat::take(&seats, 50, &process, 1000).ok())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("no panic"))
                .collect()
        });
        assert_eq!(taken.len(), 50);
        assert_eq!(seats.taken(), 50);
    }
}
