//! What every relayed WebSocket connection shares, whoever is at its other end:
//! the upgrade, a reader that pings the peer and notices silence and shutdown, and
//! the task that runs the reader beside the writer until one of them ends.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{timeout, Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::handshake::server::{Request as WsRequest, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::close::CloseReason;
use crate::config::RelayConfig;
use crate::http::Replay;
use crate::outbox::{write, Drain, Outbox, WriterEnd};

/// A relayed connection after its upgrade.
pub(crate) type Socket<S> = WebSocketStream<Replay<S>>;

/// Bytes read from a socket at a time. Most relayed messages are small; a larger
/// one takes several reads.
const READ_BUFFER_LEN: usize = 4 * 1024;

/// Bytes gathered before a write to the socket; the send queue bounds the rest.
const WRITE_BUFFER_LEN: usize = 8 * 1024;

pub(crate) fn websocket_config(max_message_len: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(Some(max_message_len))
        .max_message_size(Some(max_message_len))
        .read_buffer_size(READ_BUFFER_LEN)
        .write_buffer_size(WRITE_BUFFER_LEN)
        // Not a memory bound: past `WRITE_BUFFER_LEN` the writer waits for the
        // socket, so the buffer holds at most that plus one message; a cap would
        // close any connection sent one larger message.
        .max_write_buffer_size(usize::MAX)
}

/// Completes the WebSocket handshake of a request already read (its bytes are
/// replayed to the WebSocket layer), echoing `subprotocol` if given; messages from
/// the peer may be up to `max_message_len` bytes.
pub(crate) async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    request_bytes: Vec<u8>,
    subprotocol: Option<&str>,
    max_message_len: usize,
) -> Option<Socket<S>> {
    let subprotocol = subprotocol.and_then(|value| HeaderValue::from_str(value).ok());
    // The callback's error type is fixed by tungstenite.
    #[allow(clippy::result_large_err)]
    let callback = |_: &WsRequest, mut response: Response| {
        if let Some(value) = subprotocol {
            response
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        Ok(response)
    };
    let upgraded = tokio_tungstenite::accept_hdr_async_with_config(
        Replay::new(request_bytes, stream),
        callback,
        Some(websocket_config(max_message_len)),
    )
    .await;
    match upgraded {
        Ok(socket) => Some(socket),
        Err(error) => {
            tracing::debug!("upgrade failed: {error}");
            None
        }
    }
}

/// Closes a socket that never got its own writer.
pub(crate) async fn close_now<S: AsyncRead + AsyncWrite + Unpin>(
    mut socket: Socket<S>,
    reason: CloseReason,
    close_timeout: Duration,
) {
    let _ = timeout(close_timeout, socket.close(Some(reason.frame()))).await;
}

/// What a reader saw next.
#[derive(Debug)]
pub(crate) enum Read {
    Text(Utf8Bytes),
    Binary(Bytes),
    /// The peer's close frame: the connection is over.
    Closed(Option<CloseFrame>),
    /// The connection failed or ended without a close frame.
    Lost,
    /// A message over the size limit.
    TooBig,
    /// Nothing heard for the idle timeout.
    Idle,
    /// The relay is shutting down.
    Shutdown,
}

/// Reads data messages, answering the WebSocket layer's control frames, pinging
/// the peer every ping interval and watching for silence and shutdown.
pub(crate) struct Reader<S> {
    stream: SplitStream<Socket<S>>,
    /// This connection's own queue, for the pings.
    own: Outbox,
    heard: Instant,
    pings: Option<Interval>,
    idle_timeout: Duration,
    stopping: watch::Receiver<bool>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Reader<S> {
    pub(crate) fn new(
        stream: SplitStream<Socket<S>>,
        own: Outbox,
        config: &RelayConfig,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        let pings = (!config.ping_interval.is_zero()).then(|| {
            let period = config.ping_interval;
            let mut pings = tokio::time::interval_at(Instant::now() + period, period);
            pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
            pings
        });
        Self {
            stream,
            own,
            heard: Instant::now(),
            pings,
            idle_timeout: config.idle_timeout,
            stopping,
        }
    }

    pub(crate) async fn next(&mut self) -> Read {
        let Self {
            stream,
            own,
            heard,
            pings,
            idle_timeout,
            stopping,
        } = self;
        loop {
            let ping_due = async {
                match pings {
                    Some(pings) => {
                        pings.tick().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // An error means the relay itself is gone: stopping too.
                _ = stopping.wait_for(|stopping| *stopping) => return Read::Shutdown,
                next = stream.next() => {
                    *heard = Instant::now();
                    match next {
                        Some(Ok(Message::Text(text))) => return Read::Text(text),
                        Some(Ok(Message::Binary(bytes))) => return Read::Binary(bytes),
                        Some(Ok(Message::Close(frame))) => return Read::Closed(frame),
                        // Pings are answered by the WebSocket layer; pongs only
                        // prove the peer is there.
                        Some(Ok(_)) => {}
                        Some(Err(WsError::Capacity(_))) => return Read::TooBig,
                        Some(Err(error)) => {
                            tracing::debug!("connection lost: {error}");
                            return Read::Lost;
                        }
                        None => return Read::Lost,
                    }
                }
                () = ping_due => {
                    if !idle_timeout.is_zero() && heard.elapsed() >= *idle_timeout {
                        return Read::Idle;
                    }
                    // A full queue already tells on a peer that does not read.
                    let _ = own.try_push(crate::outbox::Outgoing::Ping);
                }
            }
        }
    }
}

/// How a connection ended.
#[derive(Debug, Clone)]
pub(crate) enum End {
    /// The peer sent a close frame (with this payload, if any).
    PeerClosed(Option<CloseFrame>),
    /// The connection failed or ended without a close frame.
    Lost,
    /// The relay closed it for this reason, found by its reader.
    Fault(CloseReason),
    /// Another task closed it through its queue, and knows why.
    Closed,
    /// To be dropped without a close frame, so that its peer sees it lost.
    Abandoned,
    /// The other end of its splice ended first: the other end's leg closes this
    /// connection, with what the other end said.
    OtherEnded,
}

/// Runs a connection's reader beside its writer until the connection ends; the
/// reader's verdict decides how the writer closes. Returns how it ended.
pub(crate) async fn run<S, R>(
    sink: SplitSink<Socket<S>, Message>,
    drain: Drain,
    own: &Outbox,
    reader: R,
    close_timeout: Duration,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
    R: Future<Output = End>,
{
    let writer = write(sink, drain, close_timeout);
    tokio::pin!(reader, writer);
    tokio::select! {
        end = &mut reader => {
            match &end {
                End::Fault(reason) => own.close(*reason),
                End::PeerClosed(_) | End::Lost | End::Closed => own.stop(),
                End::Abandoned => own.abandon(),
                End::OtherEnded => {}
            }
            // Bounded: the writer itself waits at most the close timeout.
            let _ = timeout(close_timeout * 2, writer).await;
            end
        }
        ended = &mut writer => {
            // Dropped at once, unanswered: its peer is to see the connection lost.
            if ended == WriterEnd::Abandoned {
                return End::Closed;
            }
            // A close was queued for it (it knows why) or the socket failed. Give
            // the peer a moment to answer the close frame.
            let _ = timeout(close_timeout, reader).await;
            match ended {
                WriterEnd::Closed | WriterEnd::Abandoned => End::Closed,
                WriterEnd::Failed => End::Lost,
            }
        }
    }
}
