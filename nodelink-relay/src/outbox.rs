//! Each connection's send queue: bounded in messages and in bytes, drained into
//! the socket by the connection's writer, and closable at once when its peer has
//! stopped reading (a nodelink server's slow-consumer policy).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::future::{AbortHandle, AbortRegistration, Abortable};
use futures::stream::SplitSink;
use futures::SinkExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::{timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::close::CloseReason;

/// One item of a send queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A WebSocket ping, to find out whether the peer is still there.
    Ping,
    /// A close frame (or an empty one), after the messages queued before it.
    Close(Option<CloseFrame>),
}

impl Outgoing {
    fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(bytes) => bytes.len(),
            Self::Ping | Self::Close(_) => 0,
        }
    }
}

/// A queued item and its share of the byte budget, given back once written.
#[derive(Debug)]
struct Queued {
    item: Outgoing,
    _bytes: Option<OwnedSemaphorePermit>,
}

/// Why an item was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The queue stayed full: its peer is not reading.
    Full,
    /// The connection's writer has ended.
    Closed,
}

/// How a hard close ends the connection.
#[derive(Debug)]
enum HardEnd {
    /// Send this close frame.
    Frame(CloseFrame),
    /// Send nothing new: flush the answer to the peer's own close frame, if any.
    Quiet,
    /// Send nothing at all, not even the WebSocket closing handshake: the socket
    /// is dropped, so its peer sees the connection lost (a gateway leaves a game
    /// process this way, which then holds the player for its client to resume).
    Abandon,
}

#[derive(Debug)]
struct Hard {
    abort: AbortHandle,
    /// The first hard close's ending; later ones change nothing.
    end: Mutex<Option<HardEnd>>,
}

/// The senders' side of a connection's queue; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    queue: mpsc::Sender<Queued>,
    bytes: Arc<Semaphore>,
    budget: u32,
    hard: Arc<Hard>,
}

/// The writer's side of a connection's queue.
#[derive(Debug)]
pub(crate) struct Drain {
    queue: mpsc::Receiver<Queued>,
    registration: AbortRegistration,
    hard: Arc<Hard>,
}

/// A queue of at most `len` messages and `bytes` bytes (a larger message still
/// goes through, alone).
pub(crate) fn outbox(len: usize, bytes: usize) -> (Outbox, Drain) {
    let (tx, rx) = mpsc::channel(len.max(1));
    let (abort, registration) = AbortHandle::new_pair();
    let hard = Arc::new(Hard {
        abort,
        end: Mutex::new(None),
    });
    let budget = u32::try_from(bytes.clamp(1, Semaphore::MAX_PERMITS)).unwrap_or(u32::MAX);
    let outbox = Outbox {
        queue: tx,
        bytes: Arc::new(Semaphore::new(budget as usize)),
        budget,
        hard: hard.clone(),
    };
    let drain = Drain {
        queue: rx,
        registration,
        hard,
    };
    (outbox, drain)
}

impl Outbox {
    fn cost(&self, item: &Outgoing) -> u32 {
        u32::try_from(item.len())
            .unwrap_or(u32::MAX)
            .min(self.budget)
    }

    /// Queues `item` if there is room now.
    pub(crate) fn try_push(&self, item: Outgoing) -> Result<(), PushError> {
        let cost = self.cost(&item);
        let permit = match cost {
            0 => None,
            _ => Some(self.bytes.clone().try_acquire_many_owned(cost).map_err(
                |error| match error {
                    TryAcquireError::NoPermits => PushError::Full,
                    TryAcquireError::Closed => PushError::Closed,
                },
            )?),
        };
        let queued = Queued {
            item,
            _bytes: permit,
        };
        self.queue.try_send(queued).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => PushError::Full,
            mpsc::error::TrySendError::Closed(_) => PushError::Closed,
        })
    }

    /// Queues `item`, waiting up to `patience` for room.
    pub(crate) async fn push_within(
        &self,
        item: Outgoing,
        patience: Duration,
    ) -> Result<(), PushError> {
        let deadline = Instant::now() + patience;
        let cost = self.cost(&item);
        let permit = match cost {
            0 => None,
            _ => {
                let acquire = self.bytes.clone().acquire_many_owned(cost);
                match timeout_at(deadline, acquire).await {
                    Ok(Ok(permit)) => Some(permit),
                    Ok(Err(_)) => return Err(PushError::Closed),
                    Err(_) => return Err(PushError::Full),
                }
            }
        };
        let queued = Queued {
            item,
            _bytes: permit,
        };
        match timeout_at(deadline, self.queue.send(queued)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(PushError::Closed),
            Err(_) => Err(PushError::Full),
        }
    }

    /// Closes the connection with `reason`, after what is queued.
    pub(crate) fn close(&self, reason: CloseReason) {
        self.close_with(Some(reason.frame()));
    }

    /// Closes the connection with `frame` (an empty close frame if `None`) after
    /// what is queued, or at once when the queue is full: the peer is not reading,
    /// and waiting would hold the caller.
    pub(crate) fn close_with(&self, frame: Option<CloseFrame>) {
        let queued = Queued {
            item: Outgoing::Close(frame.clone()),
            _bytes: None,
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(queued) {
            match frame {
                Some(frame) => self.hard_end(HardEnd::Frame(frame)),
                None => self.hard_end(HardEnd::Quiet),
            }
        }
    }

    /// Closes the connection with `reason` at once, dropping what is queued.
    pub(crate) fn hard_close(&self, reason: CloseReason) {
        self.hard_end(HardEnd::Frame(reason.frame()));
    }

    /// Stops the writer at once without a close frame of its own: after the peer's
    /// close frame (which the WebSocket layer answers) or a lost connection.
    pub(crate) fn stop(&self) {
        self.hard_end(HardEnd::Quiet);
    }

    /// Drops the connection at once without a close frame: its peer sees it lost.
    pub(crate) fn abandon(&self) {
        self.hard_end(HardEnd::Abandon);
    }

    fn hard_end(&self, end: HardEnd) {
        if let Ok(mut slot) = self.hard.end.lock() {
            slot.get_or_insert(end);
        }
        self.hard.abort.abort();
    }
}

/// How a writer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriterEnd {
    /// It sent a close frame, or answered the peer's.
    Closed,
    /// The socket failed.
    Failed,
    /// It was told to drop the connection without a close frame.
    Abandoned,
}

/// Drains the queue into the socket until a close is queued or ordered, or the
/// socket fails.
pub(crate) async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    drain: Drain,
    close_timeout: Duration,
) -> WriterEnd {
    let Drain {
        mut queue,
        registration,
        hard,
    } = drain;
    let drained = async {
        while let Some(first) = queue.recv().await {
            // Everything already queued goes out in one flush: few syscalls.
            let mut next = Some(first);
            while let Some(Queued { item, _bytes }) = next {
                let message = match item {
                    Outgoing::Text(text) => Message::Text(text),
                    Outgoing::Binary(bytes) => Message::Binary(bytes),
                    Outgoing::Ping => Message::Ping(Bytes::new()),
                    Outgoing::Close(frame) => return Ok(Some(frame)),
                };
                sink.feed(message).await.map_err(drop)?;
                next = queue.try_recv().ok();
            }
            sink.flush().await.map_err(drop)?;
        }
        Ok(None)
    };
    let close = match Abortable::new(drained, registration).await {
        Ok(Ok(Some(frame))) => Some(frame),
        // Every sender is gone: nobody has anything more to say on it.
        Ok(Ok(None)) => None,
        Ok(Err(())) => return WriterEnd::Failed,
        Err(_aborted) => match hard.end.lock().ok().and_then(|mut end| end.take()) {
            Some(HardEnd::Frame(frame)) => Some(Some(frame)),
            Some(HardEnd::Abandon) => return WriterEnd::Abandoned,
            Some(HardEnd::Quiet) | None => None,
        },
    };
    let closing = async {
        match close {
            Some(frame) => sink.send(Message::Close(frame)).await,
            // Also the path after the peer's close frame: the WebSocket layer has
            // queued its answer, and closing the sink flushes it (a new close
            // message would be refused), so the peer sees its own code echoed.
            None => sink.close().await,
        }
    };
    let _ = timeout(close_timeout, closing).await;
    WriterEnd::Closed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(len: usize) -> Outgoing {
        Outgoing::Text("x".repeat(len).into())
    }

    #[test]
    fn a_queue_is_bounded_in_messages() {
        let (outbox, _drain) = outbox(2, 1 << 20);
        assert_eq!(outbox.try_push(text(1)), Ok(()));
        assert_eq!(outbox.try_push(text(1)), Ok(()));
        assert_eq!(outbox.try_push(text(1)), Err(PushError::Full));
    }

    #[test]
    fn a_queue_is_bounded_in_bytes_but_takes_a_large_message_alone() {
        let (outbox, mut drain) = outbox(100, 10);
        assert_eq!(outbox.try_push(text(6)), Ok(()));
        assert_eq!(outbox.try_push(text(6)), Err(PushError::Full));
        assert_eq!(outbox.try_push(text(4)), Ok(()));
        // Written: the bytes are given back.
        drop(drain.queue.try_recv().unwrap());
        drop(drain.queue.try_recv().unwrap());
        assert_eq!(outbox.try_push(text(50)), Ok(()), "larger than the budget");
        assert_eq!(outbox.try_push(text(1)), Err(PushError::Full));
        // Pings and closes cost no bytes.
        assert_eq!(outbox.try_push(Outgoing::Ping), Ok(()));
    }

    #[test]
    fn a_queue_without_a_writer_is_closed() {
        let (outbox, drain) = outbox(2, 100);
        drop(drain);
        assert_eq!(outbox.try_push(text(1)), Err(PushError::Closed));
    }

    #[tokio::test]
    async fn waiting_for_room_gives_up_after_the_patience() {
        let (outbox, mut drain) = outbox(1, 100);
        outbox.try_push(text(1)).unwrap();
        let patience = Duration::from_millis(20);
        assert_eq!(
            outbox.push_within(text(1), patience).await,
            Err(PushError::Full)
        );
        let waiting = outbox.push_within(text(1), Duration::from_secs(15));
        let reading = async {
            tokio::task::yield_now().await;
            drain.queue.recv().await
        };
        let (pushed, _) = tokio::join!(waiting, reading);
        assert_eq!(pushed, Ok(()));
    }

    #[test]
    fn the_first_hard_close_decides() {
        let (outbox, drain) = outbox(1, 100);
        outbox.hard_close(CloseReason::SlowConsumer);
        outbox.hard_close(CloseReason::HostConnectionLost);
        outbox.stop();
        let end = drain.hard.end.lock().unwrap().take();
        match end {
            Some(HardEnd::Frame(frame)) => assert_eq!(u16::from(frame.code), 4004),
            other => panic!("{other:?}"),
        }
    }
}
