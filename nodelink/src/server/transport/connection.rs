//! One client connection: the stand-alone server's handshake (TLS first, when it
//! serves `wss://`), then, whichever way the connection arrived, a reader that
//! rate-limits and decodes frames off the world task and a writer that drains the
//! bounded send queue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{timeout, timeout_at};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::error::DecodeError;
use crate::server::config::{RateLimit, ServerConfig};
use crate::server::error::ServerError;
use crate::server::port::{Ending, JoinRequest, Joined, ToMatch};
use crate::server::port::{HardClose, HardCloseSignal, Outgoing};
use crate::server::transport::admission::{self, Admitted, IpSlot, Refusal};
use crate::server::transport::refusal::{self, Refusals};
use crate::server::transport::request::{self, Authenticator, Replay};
use crate::wire::{
    decode_client_frame, frame_kind, json, ClientFrame, CloseReason, RefusalKind, WireFormat,
    KIND_PONG,
};
use crate::{PlayerId, Protocol};

/// What a connection task needs from the server.
pub(crate) struct Context<P: Protocol> {
    pub(crate) inbox: mpsc::Sender<ToMatch<P>>,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) fingerprint: u64,
    pub(crate) online: Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) authenticate: Option<Authenticator>,
    pub(crate) refusals: Arc<Refusals>,
}

impl<P: Protocol> Clone for Context<P> {
    fn clone(&self) -> Self {
        Self {
            inbox: self.inbox.clone(),
            config: self.config.clone(),
            fingerprint: self.fingerprint,
            online: self.online.clone(),
            authenticate: self.authenticate.clone(),
            refusals: self.refusals.clone(),
        }
    }
}

/// The WebSocket layer's settings, the same however the connection arrived.
pub(crate) fn websocket_config(config: &ServerConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(Some(config.max_frame_len))
        .max_message_size(Some(config.max_frame_len))
        .read_buffer_size(config.read_buffer_len.max(64))
        .write_buffer_size(config.write_buffer_len)
        // Not a memory bound: past `write_buffer_len` the writer waits for the
        // socket, so the buffer holds at most that plus one frame. A hard cap here
        // would close the connection of any client sent a frame bigger than the cap
        // (a join snapshot of a few thousand players is).
        .max_write_buffer_size(usize::MAX)
}

/// Reads the request, decides, and completes the WebSocket handshake (or refuses).
/// An admitted connection keeps its place in the per-IP count, returned with it.
async fn accept<P, S>(
    mut stream: S,
    addr: SocketAddr,
    context: &Context<P>,
    slot: IpSlot,
) -> Option<(WebSocketStream<Replay<S>>, Admitted, IpSlot)>
where
    P: Protocol,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let head = request::read_request(&mut stream).await.ok()?;
    let request = request::parse_request(&head, addr);
    let wants_close = request.as_ref().is_some_and(refusal::wants_close);
    let verdict = match request {
        Some(request) => admission::admit(context, request, &slot).await,
        None => Err(Refusal::new(
            RefusalKind::NotAnUpgrade,
            "not a WebSocket upgrade",
        )),
    };
    let admitted = match verdict {
        Ok(admitted) => admitted,
        Err(refused) if wants_close && refusal::has_close_code(&refused) => {
            context.refusals.report(addr, &refused);
            // Told in WebSocket: the place is held until the close is done, within
            // the handshake timeout, so refused connections stay bounded by both.
            refusal::upgrade_and_close(Replay::new(head, stream), &refused, &context.config).await;
            drop(slot);
            return None;
        }
        Err(refused) => {
            // The place is given back before the refusal is sent: a client that
            // reads it and tries again at once must not find its own refused
            // connection still counted (and be told 429 instead of the real reason).
            drop(slot);
            context.refusals.report(addr, &refused);
            request::write_response(&mut stream, refused.response()).await;
            return None;
        }
    };
    let subprotocol = admitted.subprotocol.as_deref();
    let subprotocol = subprotocol.and_then(|value| HeaderValue::from_str(value).ok());
    // The callback's error type is fixed by tungstenite.
    #[allow(clippy::result_large_err)]
    let callback = |_: &Request, mut response: Response| {
        if let Some(value) = subprotocol {
            response
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        Ok(response)
    };
    let socket = tokio_tungstenite::accept_hdr_async_with_config(
        Replay::new(head, stream),
        callback,
        Some(websocket_config(&context.config)),
    )
    .await;
    match socket {
        Ok(socket) => Some((socket, admitted, slot)),
        Err(error) => {
            tracing::debug!(%addr, "handshake failed: {error}");
            None
        }
    }
}

/// Serves a connection accepted by the stand-alone server's own listener, from its
/// first byte (of the TLS handshake, or of the upgrade request) to its close.
pub(crate) async fn serve<P: Protocol>(
    stream: TcpStream,
    addr: SocketAddr,
    context: Context<P>,
    slot: IpSlot,
) {
    let _ = stream.set_nodelay(true);
    if let Some(bytes) = context.config.socket_send_buffer {
        let _ = socket2::SockRef::from(&stream).set_send_buffer_size(bytes);
    }
    // One deadline for the TLS handshake and the upgrade together: a peer that
    // stalls in either holds its place in the per-IP count no longer.
    let deadline = tokio::time::Instant::now() + context.config.handshake_timeout;
    #[cfg(feature = "tls")]
    if let Some(tls) = &context.config.tls {
        // A failed handshake ends here: no player was made, and dropping `slot`
        // gives its place back.
        let secured = match timeout_at(deadline, Box::pin(tls.accept(stream))).await {
            Ok(Ok(secured)) => secured,
            Ok(Err(error)) => {
                tracing::debug!(%addr, "TLS handshake failed: {error}");
                return;
            }
            Err(_) => {
                tracing::debug!(%addr, "TLS handshake timed out");
                return;
            }
        };
        return Box::pin(upgrade_and_play(secured, addr, &context, slot, deadline)).await;
    }
    // Boxed, each branch: a connection's task holds only the state of the branch
    // it takes (a TLS stream's is several kilobytes), for as long as it lives.
    Box::pin(upgrade_and_play(stream, addr, &context, slot, deadline)).await;
}

/// Admits and upgrades the connection by `deadline`, then plays it; its place in
/// the per-IP count is held until it ends.
async fn upgrade_and_play<P, S>(
    stream: S,
    addr: SocketAddr,
    context: &Context<P>,
    slot: IpSlot,
    deadline: tokio::time::Instant,
) where
    P: Protocol,
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Boxed: the handshake's state (the request, the upgrade) is freed once it is
    // done, rather than kept in the connection's task for its whole life.
    let accepting = Box::pin(accept(stream, addr, context, slot));
    if let Ok(Some((socket, admitted, slot))) = timeout_at(deadline, accepting).await {
        play(socket, addr, admitted, context).await;
        drop(slot);
    }
}

/// An admitted connection's life after the upgrade, however it arrived: it joins
/// the world as a player (or resumes one), then its frames flow until one side
/// closes it.
pub(crate) async fn play<P, S>(
    socket: WebSocketStream<S>,
    addr: SocketAddr,
    admitted: Admitted,
    context: &Context<P>,
) where
    P: Protocol,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = &context.config;
    let (outbox, queue) = mpsc::channel(config.send_queue_len.max(1));
    let (hard_close, closed) = HardClose::new();
    let (reply, joined) = oneshot::channel();
    let join = ToMatch::Join(Box::new(JoinRequest {
        outbox,
        hard_close,
        addr,
        wire: admitted.wire,
        identity: admitted.identity,
        resume: admitted.resume,
        reply,
    }));
    if context.inbox.send(join).await.is_err() {
        return close_now(socket, CloseReason::ServerShutdown).await;
    }
    let (player, link) = match joined.await {
        Ok(Joined::Player { id, link }) => (id, link),
        Ok(Joined::Refused(reason)) => return close_now(socket, reason).await,
        Err(_) => return close_now(socket, CloseReason::ServerShutdown).await,
    };

    let (sink, stream) = socket.split();
    let peer = Peer { player, link };
    // Frames read so far, for the world's count of what the client sent.
    let read_count = AtomicU64::new(0);
    let reader = read(
        stream,
        peer,
        admitted.wire,
        context.inbox.clone(),
        config,
        &read_count,
    );
    let writer = write(sink, queue, closed, config.close_timeout);
    tokio::pin!(reader, writer);
    let ending = tokio::select! {
        ending = &mut reader => {
            // The peer closed, the socket failed, or the reader gave up on the peer.
            // The world removes (or pauses) the player and drops its queue, which
            // ends the writer after any close frame; bound the wait in case it is
            // stuck.
            let left = peer.left(&read_count, ending);
            let _ = context.inbox.send(left).await;
            let _ = timeout(config.close_timeout * 2, writer).await;
            return;
        }
        () = &mut writer => {
            // The server closed the connection (kick, shutdown, pause), the socket
            // failed, or the peer's close frame stopped the writing: give the peer
            // a moment to answer the close frame, or the reader to see the peer's.
            let answered = timeout(config.close_timeout, reader).await;
            answered.unwrap_or(Ending::Lost)
        }
    };
    // After a close the world made, its player is gone or has moved on: this news
    // is ignored. Otherwise the world pauses or removes the player, as the reader
    // saw the connection end.
    let _ = context.inbox.send(peer.left(&read_count, ending)).await;
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

async fn close_now<S: AsyncRead + AsyncWrite + Unpin>(
    mut socket: WebSocketStream<S>,
    reason: CloseReason,
) {
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
async fn read<P: Protocol, S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: SplitStream<WebSocketStream<S>>,
    peer: Peer,
    wire: WireFormat,
    inbox: mpsc::Sender<ToMatch<P>>,
    config: &ServerConfig,
    read_count: &AtomicU64,
) -> Ending {
    let Peer { player, link } = peer;
    let mut bucket = Bucket::new(config.rate_limit);
    let mut invalid = 0u32;
    let mut read = 0u64;
    // The idle timeout is the world's: it sees every frame that arrives.
    loop {
        let next = stream.next().await;
        let message = match next {
            Some(Ok(message)) => message,
            Some(Err(WsError::Capacity(error))) => {
                let error = ServerError::BadFrame(DecodeError::Malformed(error.to_string()));
                let error = Box::new(error);
                let _ = inbox
                    .send(ToMatch::Invalid {
                        player,
                        link,
                        read,
                        error,
                    })
                    .await;
                return Ending::Closing(CloseReason::InvalidFrames);
            }
            Some(Err(error)) => {
                tracing::debug!(%player, "connection lost: {error}");
                return Ending::Lost;
            }
            None => return Ending::Lost,
        };
        let counted = match &message {
            Message::Close(_) => return Ending::Closed,
            Message::Binary(bytes) => frame_kind(bytes) != Some(KIND_PONG),
            Message::Text(_) => true,
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
                if !report(&inbox, peer, read, error).await {
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
                if !report(&inbox, peer, read, error).await {
                    return Ending::Lost;
                }
                if invalid > config.max_invalid_frames {
                    return Ending::Closing(CloseReason::InvalidFrames);
                }
                continue;
            }
        };
        // Waits while the world is busy: this connection stops reading, and TCP
        // flow control slows the sender down.
        if inbox.send(inbound).await.is_err() {
            return Ending::Lost;
        }
    }
}

/// Tells the world about a problem with this player's traffic; `false` once the
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
/// queued, or the world orders a hard close (the queue stayed full: the peer is
/// not reading, and the writer may be stuck on a full socket).
async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    mut sink: SplitSink<WebSocketStream<S>, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
    hard_close: HardCloseSignal,
    close_timeout: Duration,
) {
    let drain = async {
        while let Some(first) = queue.recv().await {
            // Everything already queued goes out in one flush: few syscalls per tick.
            let mut next = Some(first);
            while let Some(item) = next {
                match item {
                    Outgoing::Binary(frame) => sink.feed(Message::Binary(frame)).await.ok()?,
                    Outgoing::Text(frame) => sink.feed(Message::Text(frame)).await.ok()?,
                    Outgoing::Batch(frames) => {
                        for frame in frames {
                            sink.feed(Message::Binary(frame)).await.ok()?;
                        }
                    }
                    Outgoing::Close(reason) => return Some(reason),
                }
                next = queue.try_recv().ok();
            }
            sink.flush().await.ok()?;
        }
        None
    };
    let reason = hard_close.interrupt(drain).await;
    let close = async {
        match reason {
            Some(reason) => sink.send(Message::Close(Some(close_frame(reason)))).await,
            // Also the path after the peer closed: the WebSocket layer has queued
            // the answer to its close frame, and closing the sink flushes it (a
            // new close message would be refused once the peer's has arrived),
            // so the peer sees its own code echoed rather than an abnormal end.
            None => sink.close().await,
        }
    };
    let _ = timeout(close_timeout, close).await;
}
