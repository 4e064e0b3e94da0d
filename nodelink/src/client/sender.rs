//! The client's bounded send queue, usable before, during and after a connection.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::client::error::ClientError;
use crate::client::stats::{ClientStats, Counters};
use crate::wire::encode_event;
use crate::Protocol;

/// Sends events to the server from any thread or task: `Clone + Send + Sync`.
///
/// Events are encoded at once and queued in order. Before the connection is open
/// they wait in the queue and go out first when it opens, so nothing sent early is
/// lost or reordered.
#[derive(Debug)]
pub struct ClientSender<P: Protocol> {
    pub(crate) queue: mpsc::Sender<Bytes>,
    pub(crate) capacity: usize,
    /// Set once by [`disconnect`](Self::disconnect) and never cleared: a flag
    /// rather than a wake-up, so a disconnect made while nothing waits for it (before
    /// the connection opens, between attempts) still ends the client, and cannot
    /// carry over to a later connection.
    pub(crate) stop: Arc<watch::Sender<bool>>,
    /// What the connection has received and sent, counted as it goes.
    pub(crate) counters: Arc<Counters>,
    pub(crate) _protocol: std::marker::PhantomData<fn() -> P>,
}

impl<P: Protocol> Clone for ClientSender<P> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            capacity: self.capacity,
            stop: self.stop.clone(),
            counters: self.counters.clone(),
            _protocol: std::marker::PhantomData,
        }
    }
}

impl<P: Protocol> ClientSender<P> {
    pub(crate) fn new(capacity: usize) -> (Self, mpsc::Receiver<Bytes>) {
        let capacity = capacity.max(1);
        let (queue, frames) = mpsc::channel(capacity);
        let sender = Self {
            queue,
            capacity,
            stop: Arc::new(watch::Sender::new(false)),
            counters: Arc::new(Counters::default()),
            _protocol: std::marker::PhantomData,
        };
        (sender, frames)
    }

    /// Queues an event for the server.
    ///
    /// # Errors
    /// [`ClientError::QueueFull`] when the queue holds its capacity (see
    /// [`ClientConfig::send_queue_len`](super::ClientConfig::send_queue_len)),
    /// [`ClientError::Stopped`] after the client stopped.
    pub fn send(&self, event: P::ToServer) -> Result<(), ClientError> {
        let frame = encode_event(&event)?;
        self.queue.try_send(frame).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => ClientError::QueueFull {
                capacity: self.capacity,
            },
            mpsc::error::TrySendError::Closed(_) => ClientError::Stopped,
        })
    }

    /// Stops the client for good: whatever it is doing, it does not reconnect,
    /// and `run` (or `connect`) returns `Ok(())`.
    ///
    /// - Connected: the connection is closed normally (code 1000).
    /// - Connecting, or waiting to reconnect: the attempt is abandoned.
    /// - Not started yet (called before `run`, `connect` or `spawn`): the client
    ///   never connects; `run` returns at once.
    ///
    /// Either way the end is reported once, as [`Disconnect::Local`](super::Disconnect::Local),
    /// to `on_disconnect` (or as [`ClientEvent::Disconnected`](super::ClientEvent::Disconnected)),
    /// even when no connection was open. Calling it again, or after the client
    /// stopped, does nothing.
    pub fn disconnect(&self) {
        self.stop.send_replace(true);
    }

    /// What the client has received and sent so far, over all its connections:
    /// counted by the connection as frames arrive and leave, so possibly ahead
    /// of what a [`PollClient`](super::PollClient) has polled. See [`ClientStats`].
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        self.counters.stats()
    }
}
