//! A player of a native host's game: held until its host answers, then refused,
//! or upgraded and spliced with the host's data connection.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::oneshot;
use tokio::time::timeout;

use super::game::{Accept, Decision, NativeGame, HOST_GONE};
use super::splice::{leg, Side};
use crate::close::CloseReason;
use crate::connection::{close_now, upgrade};
use crate::directory::{Seat, Shared};
use crate::http::{Refusal, Request, MAX_HEAD_LEN};
use crate::messages::ToHost;
use crate::outbox::{outbox, Outgoing, PushError};

/// What ended a held player's wait, other than its host's answer.
enum Interrupted {
    TimedOut,
    HungUp,
    Shutdown,
}

/// Resolves when the held player's connection ends. Bytes it sends meanwhile
/// (a client should wait for the 101, but may not) are kept for the WebSocket
/// layer, up to a bound.
async fn hung_up<S: AsyncRead + Unpin>(stream: &mut S, bytes: &mut Vec<u8>) {
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(read) if bytes.len() + read > 2 * MAX_HEAD_LEN => return,
            Ok(read) => bytes.extend_from_slice(&chunk[..read]),
        }
    }
}

/// Holds a player of a native host's game until the host accepts or refuses it,
/// then splices it with its data connection until either side leaves.
pub(crate) async fn join<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut request: Request,
    peer: SocketAddr,
    shared: Arc<Shared>,
    game: Arc<NativeGame>,
    seat: Seat,
) {
    let config = &shared.config;
    let cid = shared.new_cid();
    let (decide, mut decision) = oneshot::channel();
    let control = match game.hold(&cid, decide, config.max_pending_joins) {
        Ok(control) => control,
        Err(refusal) => return refusal.send(&mut stream, &shared.counters).await,
    };
    let player = ToHost::Player {
        cid: cid.clone(),
        peer: peer.to_string(),
        target: request.target.clone(),
        headers: request.headers.clone(),
    };
    let told = control
        .push_within(
            Outgoing::Text(player.to_json().into()),
            config.slow_consumer_timeout,
        )
        .await;
    if told == Err(PushError::Full) {
        // The link is refused the join below, when its end refuses every held one.
        tracing::warn!(code = %game.code, "host not reading its control link: closed");
        control.hard_close(CloseReason::SlowConsumer);
    }

    let mut stopping = shared.stopping();
    let waited = tokio::select! {
        decided = &mut decision => Ok(decided.ok()),
        () = tokio::time::sleep(config.accept_timeout) => Err(Interrupted::TimedOut),
        () = hung_up(&mut stream, &mut request.bytes) => Err(Interrupted::HungUp),
        _ = stopping.wait_for(|stopping| *stopping) => Err(Interrupted::Shutdown),
    };
    let decided = match waited {
        Ok(decided) => decided,
        Err(interrupted) if game.unhold(&cid) => {
            let refusal = match interrupted {
                Interrupted::TimedOut => {
                    Refusal::new(504, "the game's host did not answer in time")
                }
                Interrupted::Shutdown => Refusal::new(503, "relay shutting down"),
                Interrupted::HungUp => return,
            };
            return refusal.send(&mut stream, &shared.counters).await;
        }
        // No longer held: the host's answer is on its way.
        Err(_) => decision.await.ok(),
    };
    answer(stream, request.bytes, decided, &cid, &game, &shared, seat).await;
}

/// Carries out the host's answer to a held player.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request_bytes: Vec<u8>,
    decided: Option<Decision>,
    cid: &str,
    game: &Arc<NativeGame>,
    shared: &Arc<Shared>,
    seat: Seat,
) {
    let config = &shared.config;
    let Accept {
        host,
        subprotocol,
        reply,
    } = match decided {
        Some(Decision::Accept(accept)) => accept,
        Some(Decision::Refuse(refusal)) => {
            return refusal.send(&mut stream, &shared.counters).await
        }
        None => {
            return Refusal::new(503, HOST_GONE)
                .send(&mut stream, &shared.counters)
                .await
        }
    };
    let upgrading = upgrade(
        stream,
        request_bytes,
        subprotocol.as_deref(),
        config.max_frame_len,
    );
    // A failed upgrade drops `reply`: the data connection is closed as lost.
    let Ok(Some(socket)) = timeout(config.handshake_timeout, upgrading).await else {
        return;
    };
    let (own, drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    if reply.send(own.clone()).is_err() {
        return close_now(
            socket,
            CloseReason::HostConnectionLost,
            config.close_timeout,
        )
        .await;
    }
    if !game.splice(cid, own.clone(), host.clone()) {
        host.close(CloseReason::HostGone);
        return close_now(socket, CloseReason::HostGone, config.close_timeout).await;
    }
    tracing::debug!(code = %game.code, %cid, "player spliced");
    leg(socket, drain, own, host, Side::Player, shared).await;
    game.unsplice(cid);
    drop(seat);
}
