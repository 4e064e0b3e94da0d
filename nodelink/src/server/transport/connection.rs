//! One client connection to the stand-alone server: its handshake (TLS first,
//! when it serves `wss://`), admission and upgrade; then it plays where
//! matchmaking placed it (`server::link` pumps its frames). Also what every
//! transport's connections share: the server's context and the WebSocket
//! layer's settings.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;
use tracing::Instrument;

use crate::server::config::ServerConfig;
use crate::server::matchmaking::Matchmaker;
use crate::server::port::Io;
use crate::server::transport::admission::{self, Admitted, IpSlot, Refusal};
use crate::server::transport::refusal::{self, Refusals};
use crate::server::transport::request::{self, Authenticator, Replay};
use crate::wire::RefusalKind;

/// What a connection task needs from the server, whichever match it joins.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) matchmaker: Arc<Matchmaker>,
    pub(crate) authenticate: Option<Authenticator>,
    pub(crate) refusals: Arc<Refusals>,
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
/// An admitted connection keeps its place in the per-IP count, returned with it
/// and the player's address (behind a trusted proxy, the one it names).
async fn accept<S>(
    mut stream: S,
    mut addr: SocketAddr,
    context: &Context,
    mut slot: IpSlot,
) -> Option<(WebSocketStream<Io>, Admitted, IpSlot, SocketAddr)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let head = request::read_request(&mut stream).await.ok()?;
    let mut request = request::parse_request(&head, addr);
    if let Some(parsed) = request.take() {
        // Behind a trusted proxy, the player's address is the one that counts.
        addr = request::forwarded_peer(&parsed, &context.config.trusted_proxies);
        slot = slot.move_to(addr.ip());
        request = Some(parsed.with_peer(addr));
    }
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
    let io: Io = Box::new(Replay::new(head, stream));
    let socket = tokio_tungstenite::accept_hdr_async_with_config(
        io,
        callback,
        Some(websocket_config(&context.config)),
    )
    .await;
    match socket {
        Ok(socket) => Some((socket, admitted, slot, addr)),
        Err(error) => {
            tracing::debug!(%addr, "handshake failed: {error}");
            None
        }
    }
}

/// Serves a connection accepted by the stand-alone server's own listener, from its
/// first byte (of the TLS handshake, or of the upgrade request) to its close.
pub(crate) async fn serve(stream: TcpStream, addr: SocketAddr, context: Context, slot: IpSlot) {
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
async fn upgrade_and_play<S>(
    stream: S,
    addr: SocketAddr,
    context: &Context,
    slot: IpSlot,
    deadline: tokio::time::Instant,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Boxed: the handshake's state (the request, the upgrade) is freed once it is
    // done, rather than kept in the connection's task for its whole life.
    let handshake = tracing::debug_span!("handshake", peer = %addr);
    let accepting = Box::pin(accept(stream, addr, context, slot).instrument(handshake));
    // Taken apart at once: what the handshake returned is not kept for the
    // connection's life.
    let Ok(Some((socket, admitted, slot, addr))) = timeout_at(deadline, accepting).await else {
        return;
    };
    admitted
        .play(socket, addr, context.config.clone(), Role::Server)
        .await;
    drop(slot);
}
