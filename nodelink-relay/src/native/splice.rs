//! A native host's data connection for one player, and the splice that joins it to
//! the player's WebSocket: each end forwards what it reads to the other's queue.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio::time::timeout;

use super::game::{Accept, Decision};
use super::wrong_token;
use crate::close::CloseReason;
use crate::connection::{close_now, run, upgrade, End, Read, Reader, Socket};
use crate::directory::{IpSlot, Shared};
use crate::http::{is_header_safe, Refusal, Request};
use crate::outbox::{outbox, Drain, Outbox, Outgoing, PushError};

/// Serves a native host's data connection on `/link/accept/CID?token=T[&subprotocol=S]`.
pub(crate) async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: Request,
    peer: SocketAddr,
    shared: Arc<Shared>,
    cid: String,
    ip_slot: IpSlot,
) {
    let config = &shared.config;
    let token = request.query_param("token").unwrap_or_default();
    let Some(game) = shared.native_by_token(&token) else {
        let refusal = wrong_token(&shared, peer, Refusal::new(403, "unknown token"));
        return refusal.send(&mut stream, &shared.counters).await;
    };
    // A host has one data connection per player: they count against its game's
    // player limit, not its address's connection limit.
    drop(ip_slot);
    let subprotocol = request.query_param("subprotocol");
    if let Some(offer) = &subprotocol {
        if offer.is_empty() || !is_header_safe("sec-websocket-protocol", offer) {
            let refusal = Refusal::new(400, "the subprotocol cannot be sent in a header");
            return refusal.send(&mut stream, &shared.counters).await;
        }
    }
    let Some(decide) = game.take_held(&cid) else {
        let refusal = Refusal::new(404, "no player is waiting with this id");
        return refusal.send(&mut stream, &shared.counters).await;
    };
    let upgrading = upgrade(stream, request.bytes, None, config.max_host_frame_len);
    let Ok(Some(socket)) = timeout(config.handshake_timeout, upgrading).await else {
        let refusal = Refusal::new(502, "the game's host connection failed");
        let _ = decide.send(Decision::Refuse(refusal));
        return;
    };
    let (own, drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    let (reply, replied) = oneshot::channel();
    let accept = Accept {
        host: own.clone(),
        subprotocol,
        reply,
    };
    if decide.send(Decision::Accept(accept)).is_err() {
        let reason = CloseReason::PlayerConnectionLost;
        return close_now(socket, reason, config.close_timeout).await;
    }
    let Ok(Ok(player)) = timeout(config.handshake_timeout, replied).await else {
        let reason = CloseReason::PlayerConnectionLost;
        return close_now(socket, reason, config.close_timeout).await;
    };
    leg(socket, drain, own, player, Side::Host, &shared).await;
}

/// Which end of a splice a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Player,
    Host,
}

/// One end of a splice: forwards every message from its socket to the other end's
/// queue, drains its own queue into its socket, and tells the other end how it
/// ended. The host hears every reason its player's connection ended for; the
/// player hears the host's own close frame, or "host connection lost".
pub(super) async fn leg<S: AsyncRead + AsyncWrite + Unpin>(
    socket: Socket<S>,
    drain: Drain,
    own: Outbox,
    other: Outbox,
    side: Side,
    shared: &Shared,
) {
    let config = &shared.config;
    let (sink, stream) = socket.split();
    let mut reader = Reader::new(stream, own.clone(), config, shared.stopping());
    let other_lost = match side {
        Side::Player => CloseReason::HostConnectionLost,
        Side::Host => CloseReason::PlayerConnectionLost,
    };
    let traffic = match side {
        Side::Player => &shared.counters.to_game,
        Side::Host => &shared.counters.to_players,
    };
    let forwarding = async {
        loop {
            let item = match reader.next().await {
                Read::Text(text) => {
                    traffic.relayed(text.len());
                    Outgoing::Text(text)
                }
                Read::Binary(bytes) => {
                    traffic.relayed(bytes.len());
                    Outgoing::Binary(bytes)
                }
                Read::Closed(frame) => return End::PeerClosed(frame),
                Read::Lost => return End::Lost,
                Read::TooBig => return End::Fault(CloseReason::InvalidFrames),
                Read::Idle => return End::Fault(CloseReason::IdleTimeout),
                Read::Shutdown => return End::Fault(CloseReason::RelayShutdown),
            };
            // Waiting here stops this side's reads: TCP slows its sender down.
            match other.push_within(item, config.slow_consumer_timeout).await {
                Ok(()) => {}
                Err(PushError::Full) => {
                    other.hard_close(CloseReason::SlowConsumer);
                    return End::Fault(match side {
                        Side::Player => CloseReason::HostConnectionLost,
                        Side::Host => CloseReason::SlowConsumer,
                    });
                }
                Err(PushError::Closed) => return End::Fault(other_lost),
            }
        }
    };
    let end = run(sink, drain, &own, forwarding, config.close_timeout).await;
    match (side, end) {
        // Never made by a relay's splice, only by a gateway's.
        (_, End::Closed | End::Abandoned | End::OtherEnded) => {}
        (_, End::PeerClosed(frame)) => other.close_with(frame),
        (Side::Player, End::Lost) => other.close(CloseReason::PlayerConnectionLost),
        (Side::Host, End::Lost) => other.close(CloseReason::HostConnectionLost),
        (Side::Player, End::Fault(reason)) => other.close(reason),
        (Side::Host, End::Fault(CloseReason::RelayShutdown)) => {
            other.close(CloseReason::RelayShutdown);
        }
        (Side::Host, End::Fault(_)) => other.close(CloseReason::HostConnectionLost),
    }
}
