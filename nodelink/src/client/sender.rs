//! The client's bounded send queue, usable before, during and after a connection.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};

use crate::client::error::ClientError;
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
    pub(crate) hang_up: Arc<Notify>,
    pub(crate) _protocol: std::marker::PhantomData<fn() -> P>,
}

impl<P: Protocol> Clone for ClientSender<P> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            capacity: self.capacity,
            hang_up: self.hang_up.clone(),
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
            hang_up: Arc::new(Notify::new()),
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

    /// Closes the connection (normal closure); `run` then returns.
    pub fn disconnect(&self) {
        self.hang_up.notify_one();
    }
}
