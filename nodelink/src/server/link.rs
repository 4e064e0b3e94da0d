//! A player's link: the pumps between a connection's socket and its match, the
//! same whichever transport brought the connection and whichever match it joined.
//! It joins the match as a player (or resumes one); then a reader rate-limits and
//! decodes frames off the match's task and sends them to the match's port, and a
//! writer drains the player's bounded send queue into the socket (while it is
//! idle, the match may write to a plain TCP socket itself:
//! [`direct_write`](super::direct_write)), until one side closes.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument;

use crate::error::DecodeError;
use crate::server::config::{RateLimit, ServerConfig};
use crate::server::direct_write::SharedSocket;
use crate::server::error::ServerError;
use crate::server::game::stats::WireTraffic;
use crate::server::outbound::{self, Outlet, ReadSide, Writer};
use crate::server::port::{
    Connecting, Ending, HardClose, HardCloseSignal, Io, JoinRequest, Joined, Outgoing, Seat,
    ToMatch,
};
use crate::wire::{
    decode_client_frame, frame_kind, json, ClientFrame, CloseReason, WireFormat, KIND_PONG,
};
use crate::{PlayerId, Protocol};

/// An admitted connection's life after the upgrade: it joins the match behind
/// `port` as a player (or resumes one), holding `seat`, then its frames flow until
/// one side closes it.
///
/// This and the pumps below are plain functions returning an `async move` block
/// rather than `async fn`s: an `async fn` keeps a second copy of its arguments in
/// its future, and a connection's future lives as long as the connection.
pub(crate) fn play<P: Protocol>(
    socket: WebSocketStream<Io>,
    port: mpsc::Sender<ToMatch<P>>,
    seat: Option<Seat>,
    connecting: Connecting,
) -> impl Future<Output = ()> + Send {
    // One span per connection, never per frame: its peer and wire, then the
    // player it became, whether it resumed a session, and how it ended.
    let span = tracing::info_span!(
        "connection",
        peer = %connecting.addr,
        wire = ?connecting.wire,
        resuming = connecting.resume.is_some(),
        player = tracing::field::Empty,
        ended = tracing::field::Empty,
    );
    play_as_player(socket, port, seat, connecting).instrument(span)
}

/// [`play`], inside the connection's span.
// Not an `async fn`, so that its arguments are kept once: see [`play`].
#[allow(clippy::manual_async_fn)]
fn play_as_player<P: Protocol>(
    socket: WebSocketStream<Io>,
    port: mpsc::Sender<ToMatch<P>>,
    seat: Option<Seat>,
    connecting: Connecting,
) -> impl Future<Output = ()> + Send {
    async move {
        let span = tracing::Span::current();
        let Connecting {
            addr,
            role,
            wire,
            identity,
            resume,
            config,
        } = connecting;
        let config = &*config;
        let (outbox, queue) = mpsc::channel(config.send_queue_len.max(1));
        // The reader announces the WebSocket layer's answers in the queue, without
        // keeping it open: the match's sender alone decides when it closes.
        let announce = outbox.clone();
        let (hard_close, closed) = HardClose::new();
        let shared = std::sync::Arc::new(SharedSocket::default());
        let (reply, joined) = oneshot::channel();
        let join = ToMatch::Join(Box::new(JoinRequest {
            outbox,
            socket: shared.clone(),
            hard_close,
            addr,
            wire,
            identity,
            resume,
            seat,
            reply,
        }));
        let refused = |reason: CloseReason| {
            span.record("ended", reason.description());
            reason
        };
        if port.send(join).await.is_err() {
            // The match ended between matchmaking and the join.
            return Box::pin(close_now(socket, refused(CloseReason::MatchEnded))).await;
        }
        let (player, link, process) = match joined.await {
            Ok(Joined::Player { id, link, process }) => (id, link, process),
            Ok(Joined::Refused(reason)) => {
                return Box::pin(close_now(socket, refused(reason))).await
            }
            Err(_) => return Box::pin(close_now(socket, refused(CloseReason::MatchEnded))).await,
        };
        span.record("player", tracing::field::display(player));

        let websocket = *socket.get_config();
        // Boxed, like the refusals above and the pumps' rare paths: a connection's
        // future holds only what it waits on while it lives.
        let outlet = Outlet {
            writer: &announce,
            shared: &shared,
            process: &process,
            wire,
        };
        let (stream, sink) = Box::pin(outbound::split(socket, role, websocket, outlet)).await;
        drop((announce, shared));
        let peer = Peer { player, link };
        // Frames read so far, for the match's count of what the client sent.
        let read_count = AtomicU64::new(0);
        let traffic = WireTraffic::of(&process.traffic, wire);
        let reader = read(
            stream,
            peer,
            wire,
            port.clone(),
            config,
            &read_count,
            traffic,
        );
        let writer = write(sink, queue, closed, config.close_timeout, traffic);
        tokio::pin!(reader, writer);
        let ending = tokio::select! {
            // Not biased: a reader that spends its task's budget on every poll
            // (a flood) must not starve the writer.
            ending = &mut reader => {
                // The peer closed, the socket failed, or the reader gave up on the peer.
                // The match removes (or pauses) the player and drops its queue, which
                // ends the writer after any close frame; bound the wait in case it is
                // stuck.
                span.record("ended", described(ending));
                let left = peer.left(&read_count, ending);
                let _ = port.send(left).await;
                let _ = timeout(config.close_timeout * 2, writer).await;
                return;
            }
            sent = &mut writer => {
                // The server closed the connection (kick, shutdown, pause), the socket
                // failed, or the peer's close frame stopped the writing: give the peer
                // a moment to answer the close frame, or the reader to see the peer's.
                let answered = timeout(config.close_timeout, reader).await;
                let ending = answered.unwrap_or(Ending::Lost);
                // The reason the server closed it with, if it did.
                let how = sent.map_or_else(|| described(ending), CloseReason::description);
                span.record("ended", how);
                ending
            }
        };
        // After a close the match made, its player is gone or has moved on: this news
        // is ignored. Otherwise the match pauses or removes the player, as the reader
        // saw the connection end.
        let _ = port.send(peer.left(&read_count, ending)).await;
    }
}

/// How a connection ended as its reader saw it, for its span.
fn described(ending: Ending) -> &'static str {
    match ending {
        Ending::Closed => "closed by the client",
        Ending::Lost => "lost",
        Ending::Closing(reason) => reason.description(),
    }
}

/// The player a connection serves, and which of its connections this is.
#[derive(Debug, Clone, Copy)]
struct Peer {
    player: PlayerId,
    link: u64,
}

impl Peer {
    fn left<P: Protocol>(self, read_count: &AtomicU64, ending: Ending) -> ToMatch<P> {
        ToMatch::Left {
            player: self.player,
            link: self.link,
            read: read_count.load(Ordering::Relaxed),
            ending,
        }
    }
}

/// Closes a socket that never became a player's, with `reason`.
pub(crate) async fn close_now(mut socket: WebSocketStream<Io>, reason: CloseReason) {
    let _ = socket.close(Some(close_frame(reason))).await;
}

fn close_frame(reason: CloseReason) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(reason.code()),
        reason: reason.description().into(),
    }
}

/// A token bucket: `per_second` tokens a second, up to `burst`.
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    refilled: Instant,
    dropped_in_a_row: u32,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.burst),
            refilled: Instant::now(),
            dropped_in_a_row: 0,
        }
    }

    fn take(&mut self) -> bool {
        if self.limit.per_second == f64::INFINITY {
            return true;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens =
            (self.tokens + elapsed * self.limit.per_second).min(f64::from(self.limit.burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.dropped_in_a_row = 0;
            true
        } else {
            self.dropped_in_a_row = self.dropped_in_a_row.saturating_add(1);
            false
        }
    }
}

/// Reads frames until the peer leaves or misbehaves past a limit; returns how the
/// connection ended. Every data message but a pong is counted in `read_count`
/// before anything else happens to it (rate limit, decoding), as the client counts
/// what it sends.
// Not an `async fn`, so that its arguments are kept once: see [`play`].
#[allow(clippy::manual_async_fn)]
fn read<'a, P: Protocol>(
    mut stream: WebSocketStream<ReadSide>,
    peer: Peer,
    wire: WireFormat,
    inbox: mpsc::Sender<ToMatch<P>>,
    config: &'a ServerConfig,
    read_count: &'a AtomicU64,
    traffic: &'a WireTraffic,
) -> impl Future<Output = Ending> + Send + 'a {
    async move {
        let Peer { player, link } = peer;
        let mut bucket = Bucket::new(config.rate_limit);
        let mut invalid = 0u32;
        let mut read = 0u64;
        // The idle timeout is the match's: it sees every frame that arrives.
        loop {
            let next = stream.next().await;
            let message = match next {
                Some(Ok(message)) => message,
                Some(Err(WsError::Capacity(error))) => {
                    let error = ServerError::BadFrame(DecodeError::Malformed(error.to_string()));
                    let _ = Box::pin(report(&inbox, peer, read, error)).await;
                    return Ending::Closing(CloseReason::InvalidFrames);
                }
                Some(Err(error)) => {
                    tracing::debug!(%player, "connection lost: {error}");
                    return Ending::Lost;
                }
                None => return Ending::Lost,
            };
            let counted = match &message {
                Message::Close(_) => {
                    // Tungstenite answers the close frame when flushed: the answer goes
                    // to the writer, which sends it last.
                    stream.get_ref().closed_by_peer();
                    let _ = stream.flush().await;
                    return Ending::Closed;
                }
                Message::Binary(bytes) => {
                    traffic.read(bytes.len());
                    frame_kind(bytes) != Some(KIND_PONG)
                }
                Message::Text(text) => {
                    traffic.read(text.len());
                    true
                }
                // Ping and pong: answered by the WebSocket layer.
                _ => continue,
            };
            if counted {
                read += 1;
                read_count.store(read, Ordering::Relaxed);
            }
            if !bucket.take() {
                if bucket.dropped_in_a_row >= config.rate_limit.disconnect_after {
                    return Ending::Closing(CloseReason::RateLimited);
                }
                if bucket.dropped_in_a_row == 1 {
                    let error = ServerError::RateLimited {
                        per_second: config.rate_limit.per_second,
                    };
                    if !Box::pin(report(&inbox, peer, read, error)).await {
                        return Ending::Lost;
                    }
                }
                continue;
            }
            let inbound = match decode::<P>(message, wire, config.max_frame_len) {
                Ok(ClientFrame::Event(event)) => ToMatch::Event {
                    player,
                    link,
                    read,
                    event,
                },
                Ok(ClientFrame::Pong(seq)) => ToMatch::Pong { player, link, seq },
                Err(error) => {
                    invalid += 1;
                    if !Box::pin(report(&inbox, peer, read, error)).await {
                        return Ending::Lost;
                    }
                    if invalid > config.max_invalid_frames {
                        return Ending::Closing(CloseReason::InvalidFrames);
                    }
                    continue;
                }
            };
            // Waits while the match is busy: this connection stops reading, and TCP
            // flow control slows the sender down. (Tried first without waiting, the
            // common case, which costs less than a wait that completes at once.)
            let delivered = match inbox.try_send(inbound) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(inbound)) => {
                    Box::pin(inbox.send(inbound)).await.is_ok()
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            };
            if !delivered {
                return Ending::Lost;
            }
        }
    }
}

/// Tells the match about a problem with this player's traffic; `false` once the
/// world is gone.
async fn report<P: Protocol>(
    inbox: &mpsc::Sender<ToMatch<P>>,
    peer: Peer,
    read: u64,
    error: ServerError,
) -> bool {
    let error = Box::new(error);
    let Peer { player, link } = peer;
    inbox
        .send(ToMatch::Invalid {
            player,
            link,
            read,
            error,
        })
        .await
        .is_ok()
}

/// Decodes a data message in the connection's wire format.
fn decode<P: Protocol>(
    message: Message,
    wire: WireFormat,
    max_len: usize,
) -> Result<ClientFrame<P::ToServer>, ServerError> {
    match (wire, message) {
        (WireFormat::Native, Message::Binary(bytes)) => Ok(decode_client_frame(&bytes, max_len)?),
        (WireFormat::Json, Message::Text(text)) => {
            Ok(json::decode_client_frame(text.as_str(), max_len)?)
        }
        (wire, _) => Err(ServerError::WrongMessageType { wire }),
    }
}

/// Drains the send queue into the socket until the queue closes, a close frame is
/// queued, or the match orders a hard close (the queue stayed full: the peer is
/// not reading, and the writer may be stuck on a full socket). Everything queued
/// when it wakes goes out in one write, each frame's payload as it was shared.
// Not an `async fn`, so that its arguments are kept once: see [`play`].
#[allow(clippy::manual_async_fn)]
fn write(
    mut sink: Writer,
    mut queue: mpsc::Receiver<Outgoing>,
    hard_close: HardCloseSignal,
    close_timeout: Duration,
    traffic: &WireTraffic,
) -> impl Future<Output = Option<CloseReason>> + Send + '_ {
    async move {
        let reason = {
            let drain = async {
                let mut batch: Vec<Outgoing> = Vec::new();
                // An item found when the writer looked for more before going idle.
                let mut next = None;
                loop {
                    let first = match next.take() {
                        Some(item) => item,
                        None => queue.recv().await?,
                    };
                    batch.clear();
                    batch.push(first);
                    while let Ok(next) = queue.try_recv() {
                        batch.push(next);
                    }
                    // What comes after a close is not sent.
                    let closing = batch
                        .iter()
                        .position(|item| matches!(item, Outgoing::Close(_)));
                    let sent = &batch[..closing.unwrap_or(batch.len())];
                    let (count, bytes) = sink.write(sent).await.ok()?;
                    traffic.wrote(count, bytes);
                    if let Some(&Outgoing::Close(reason)) = closing.map(|at| &batch[at]) {
                        return Some(reason);
                    }
                    if sink.peer_closed() {
                        // Tungstenite's answer to the client's close went out last.
                        return None;
                    }
                    // Dropped now, not at the next wake-up: an idle writer may
                    // not wake for a long time, and its last frames (a
                    // newcomer's welcome and snapshot) would stay with it.
                    batch.clear();
                    next = sink.settle(&mut queue);
                }
            };
            tokio::pin!(drain);
            hard_close.interrupt(drain).await
        };
        // From here the writer writes its close, after the frames it has sent:
        // none from the match may follow them.
        sink.stop();
        let close = async {
            // A hard close can come while the rest of a frame the match began
            // still waits in the queue: it goes first, so that the close frame
            // does not land inside that frame.
            if let Ok(rest @ Outgoing::Rest(_)) = queue.try_recv() {
                let _ = sink.write(std::slice::from_ref(&rest)).await;
            }
            match reason {
                Some(reason) => sink.close(reason).await,
                // Also the path after the peer closed: tungstenite has answered its
                // close frame (into the writer's control bytes), and finishing sends
                // that answer, so the peer sees its own code echoed rather than an
                // abnormal end.
                None => sink.finish().await,
            }
        };
        let _ = timeout(close_timeout, close).await;
        reason
    }
}
