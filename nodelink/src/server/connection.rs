//! One client connection: the WebSocket handshake, then a reader that decodes
//! frames off the world task and a writer that drains the bounded send queue.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::server::config::ServerConfig;
use crate::server::error::ServerError;
use crate::server::outbox::Outgoing;
use crate::server::world::Inbound;
use crate::wire::{decode_client_frame, handshake, ClientFrame, CloseReason};
use crate::{PlayerId, Protocol};

type Socket = WebSocketStream<TcpStream>;

pub(crate) fn websocket_config(config: &ServerConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_frame_size(Some(config.max_frame_len))
        .max_message_size(Some(config.max_frame_len))
}

/// Accepts only clients that offer this build's subprotocol; a client built with
/// another protocol is refused with a 400 that names both fingerprints.
#[allow(clippy::result_large_err)]
fn negotiate(
    fingerprint: u64,
    request: &Request,
    mut response: Response,
) -> Result<Response, ErrorResponse> {
    let offered = request
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let mut other = None;
    for protocol in offered {
        match handshake::parse_subprotocol(protocol) {
            Some(theirs) if theirs == fingerprint => {
                if let Ok(value) = HeaderValue::from_str(protocol) {
                    response
                        .headers_mut()
                        .insert("sec-websocket-protocol", value);
                }
                return Ok(response);
            }
            Some(theirs) => other = Some(theirs),
            None => {}
        }
    }
    let message = match other {
        Some(theirs) => format!(
            "protocol mismatch: server fingerprint {fingerprint:016x}, client fingerprint {theirs:016x}"
        ),
        None => format!(
            "not a nodelink client: expected the WebSocket subprotocol {}",
            handshake::subprotocol(fingerprint)
        ),
    };
    let mut refusal = ErrorResponse::new(Some(message));
    *refusal.status_mut() = StatusCode::BAD_REQUEST;
    if let Ok(value) = HeaderValue::from_str(&format!("{fingerprint:016x}")) {
        refusal
            .headers_mut()
            .insert(handshake::FINGERPRINT_HEADER, value);
    }
    Err(refusal)
}

pub(crate) async fn serve<P: Protocol>(
    stream: TcpStream,
    addr: SocketAddr,
    inbox: mpsc::Sender<Inbound<P>>,
    config: Arc<ServerConfig>,
    fingerprint: u64,
) {
    let _ = stream.set_nodelay(true);
    // The callback's error type is fixed by tungstenite.
    #[allow(clippy::result_large_err)]
    let accept = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        |request: &Request, response: Response| negotiate(fingerprint, request, response),
        Some(websocket_config(&config)),
    );
    let socket = match timeout(config.handshake_timeout, accept).await {
        Ok(Ok(socket)) => socket,
        Ok(Err(error)) => return tracing::debug!(%addr, "handshake failed: {error}"),
        Err(_) => return tracing::debug!(%addr, "handshake timed out"),
    };

    let (outbox, queue) = mpsc::channel(config.send_queue_len.max(1));
    let (reply, joined) = oneshot::channel();
    if inbox
        .send(Inbound::Join {
            outbox,
            addr,
            reply,
        })
        .await
        .is_err()
    {
        return close_now(socket, CloseReason::ServerShutdown).await;
    }
    let Ok(Some(player)) = joined.await else {
        return close_now(socket, CloseReason::ServerShutdown).await;
    };

    let (sink, stream) = socket.split();
    let reader = read(stream, player, inbox.clone(), config.max_frame_len);
    let writer = write(sink, queue);
    tokio::pin!(reader, writer);
    tokio::select! {
        () = &mut reader => {
            // The peer closed or the socket failed. The world drops the player's
            // queue, which ends the writer; bound the wait in case it is stuck.
            let _ = inbox.send(Inbound::Left { player }).await;
            let _ = timeout(config.close_timeout, writer).await;
        }
        () = &mut writer => {
            // The server closed the connection (kick, shutdown) or the socket failed:
            // give the peer a moment to answer the close frame.
            let _ = timeout(config.close_timeout, reader).await;
            let _ = inbox.send(Inbound::Left { player }).await;
        }
    }
}

async fn close_now(mut socket: Socket, reason: CloseReason) {
    let _ = socket.close(Some(close_frame(reason))).await;
}

fn close_frame(reason: CloseReason) -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(reason.code()),
        reason: reason.description().into(),
    }
}

async fn read<P: Protocol>(
    mut stream: futures::stream::SplitStream<Socket>,
    player: PlayerId,
    inbox: mpsc::Sender<Inbound<P>>,
    max_frame_len: usize,
) {
    while let Some(message) = stream.next().await {
        let inbound = match message {
            Ok(Message::Binary(bytes)) => {
                match decode_client_frame::<P::ToServer>(&bytes, max_frame_len) {
                    Ok(ClientFrame::Event(event)) => Inbound::Event { player, event },
                    Ok(ClientFrame::Pong(seq)) => Inbound::Pong { player, seq },
                    Err(error) => Inbound::Invalid {
                        player,
                        error: ServerError::BadFrame(error),
                    },
                }
            }
            Ok(Message::Text(_)) => Inbound::Invalid {
                player,
                error: ServerError::TextFrame,
            },
            Ok(Message::Close(_)) => return,
            Ok(_) => continue, // ping and pong: answered by the WebSocket layer
            Err(error) => return tracing::debug!(%player, "connection lost: {error}"),
        };
        // Waits while the world is busy: this connection stops reading, and TCP
        // flow control slows the sender down.
        if inbox.send(inbound).await.is_err() {
            return;
        }
    }
}

async fn write(
    mut sink: futures::stream::SplitSink<Socket, Message>,
    mut queue: mpsc::Receiver<Outgoing>,
) {
    while let Some(first) = queue.recv().await {
        // Everything already queued goes out in one flush: few syscalls per tick.
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Outgoing::Frame(frame) => {
                    if sink.feed(Message::Binary(frame)).await.is_err() {
                        return;
                    }
                }
                Outgoing::Close(reason) => {
                    let _ = sink.send(Message::Close(Some(close_frame(reason)))).await;
                    return;
                }
            }
            next = queue.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}
