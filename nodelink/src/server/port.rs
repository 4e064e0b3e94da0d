//! The seam between transports and matches: the one message type a transport sends
//! a match ([`ToMatch`]), and what a match hands back to a connection (its bounded
//! send queue of [`Outgoing`] items and a [`HardClose`]). A transport (listener,
//! axum mount, relay link) reaches a match only through these; a match never sees
//! a socket.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::future::{AbortHandle, AbortRegistration, Abortable};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::server::error::ServerError;
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
    pub(crate) hard_close: HardClose,
    pub(crate) addr: SocketAddr,
    pub(crate) wire: WireFormat,
    pub(crate) identity: Option<Identity>,
    /// The session the client asks to resume, if it does.
    pub(crate) resume: Option<ResumeOffer>,
    pub(crate) reply: oneshot::Sender<Joined>,
}

/// The world's answer to a join.
#[derive(Debug)]
pub(crate) enum Joined {
    /// The connection is this player's, as connection `link`.
    Player { id: PlayerId, link: u64 },
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
}

/// Closes a connection without waiting for its queue to drain (the peer is not
/// reading, and the writer may be stuck on a full socket): the world's half.
///
/// Aborting the writer's drain loop costs it one atomic check per wake-up, which
/// matters because the writer wakes for every frame.
#[derive(Debug)]
pub(crate) struct HardClose {
    abort: AbortHandle,
    reason: Arc<AtomicU16>,
}

/// The writer's half of [`HardClose`].
#[derive(Debug)]
pub(crate) struct HardCloseSignal {
    registration: AbortRegistration,
    reason: Arc<AtomicU16>,
}

impl HardClose {
    pub(crate) fn new() -> (Self, HardCloseSignal) {
        let (abort, registration) = AbortHandle::new_pair();
        let reason = Arc::new(AtomicU16::new(0));
        let signal = HardCloseSignal {
            registration,
            reason: reason.clone(),
        };
        (Self { abort, reason }, signal)
    }

    pub(crate) fn close(&self, reason: CloseReason) {
        self.reason.store(reason.code(), Ordering::Release);
        self.abort.abort();
    }
}

impl HardCloseSignal {
    /// Runs `drain` until it ends (with its close reason) or a hard close
    /// interrupts it (with the hard close's reason).
    pub(crate) async fn interrupt<F>(self, drain: F) -> Option<CloseReason>
    where
        F: std::future::Future<Output = Option<CloseReason>>,
    {
        match Abortable::new(drain, self.registration).await {
            Ok(reason) => reason,
            Err(_) => CloseReason::from_code(self.reason.load(Ordering::Acquire)),
        }
    }
}
