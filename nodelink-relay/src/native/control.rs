//! A native host's control link: its registration, its `refuse` messages, the
//! match codes it claims and releases, and its end, which starts the grace period
//! (or ends the game, after a normal close).

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::game::{Decision, NativeGame};
use super::wrong_token;
use crate::close::CloseReason;
use crate::code::GameCode;
use crate::connection::{run, upgrade, End, Read, Reader};
use crate::directory::{Claimed, Shared};
use crate::http::{is_header_safe, Refusal, Request};
use crate::messages::{FromHost, ToHost};
use crate::outbox::{outbox, Outgoing};

/// Checks a host's refusal before it is sent to a player: a status of 400 to 599,
/// and headers that are safe to write and not the ones the relay writes itself.
pub(crate) fn refusal_from(
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
) -> Result<Refusal, String> {
    if !(400..=599).contains(&status) {
        return Err(format!("refusal status {status} is not 400 to 599"));
    }
    let mut refusal = Refusal::new(status, reason);
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let ours = [
            "content-type",
            "content-length",
            "connection",
            "transfer-encoding",
        ];
        if ours.contains(&name.as_str()) || !is_header_safe(&name, &value) {
            return Err(format!("refusal header `{name}` cannot be sent"));
        }
        refusal.headers.push((name, value));
    }
    Ok(refusal)
}

/// Detaches a control link from its game when the link's task ends, however it ends.
struct Linked {
    game: Arc<NativeGame>,
    link: u64,
    shared: Arc<Shared>,
    /// The host closed the link with 1000: it ends its game now.
    for_good: bool,
}

impl Drop for Linked {
    fn drop(&mut self) {
        self.game.detach(self.link, self.for_good, &self.shared);
    }
}

/// Serves a native host's control link on `/link[?token=T]`.
pub(crate) async fn control<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: Request,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    let config = &shared.config;
    let (link, drain) = outbox(config.send_queue_len, config.send_queue_bytes);
    let attached = match request.query_param("token") {
        Some(token) => {
            let found = shared.native_by_token(&token);
            match found.and_then(|game| Some((game.attach(link.clone())?, game))) {
                Some((number, game)) => (game, number),
                None => {
                    let refusal = Refusal::new(
                        410,
                        "unknown or expired token: connect without one for a new code",
                    );
                    return wrong_token(&shared, peer, refusal)
                        .send(&mut stream, &shared.counters)
                        .await;
                }
            }
        }
        None => match shared.add_native(link.clone()) {
            Ok(game) => (game, 1),
            Err(refusal) => return refusal.send(&mut stream, &shared.counters).await,
        },
    };
    let (game, number) = attached;
    let mut linked = Linked {
        game: game.clone(),
        link: number,
        shared: shared.clone(),
        // A new game whose host never got its code has nothing to keep.
        for_good: number == 1,
    };
    let upgrading = upgrade(stream, request.bytes, None, config.max_frame_len);
    let Ok(Some(socket)) = timeout(config.handshake_timeout, upgrading).await else {
        return;
    };
    linked.for_good = false;
    let code = &game.code;
    tracing::info!(%code, %peer, link = number, "native host linked");
    let registered = ToHost::registered(
        code.as_str(),
        &game.token,
        config.host_grace,
        config.max_codes_per_host,
        shared.claimed(&game),
    );
    let _ = link.try_push(Outgoing::Text(registered.to_json().into()));

    let (sink, stream) = socket.split();
    let mut reader = Reader::new(stream, link.clone(), config, shared.stopping());
    let reading = async {
        let mut invalid = 0u32;
        loop {
            let problem = match reader.next().await {
                Read::Text(text) => match FromHost::parse(&text) {
                    Ok(FromHost::Refuse {
                        cid,
                        status,
                        reason,
                        headers,
                    }) => {
                        let Some(decide) = game.take_held(&cid) else {
                            // The player left or timed out meanwhile: `gone` is on its way.
                            tracing::debug!(%code, %cid, "refusal of a player no longer held");
                            continue;
                        };
                        match refusal_from(status, reason, headers) {
                            Ok(refusal) => {
                                let _ = decide.send(Decision::Refuse(refusal));
                                continue;
                            }
                            Err(problem) => {
                                let refusal = Refusal::new(502, "the host sent an invalid refusal");
                                let _ = decide.send(Decision::Refuse(refusal));
                                problem
                            }
                        }
                    }
                    Ok(FromHost::Claim { count }) => {
                        let Claimed { codes, short } = shared.claim(&game, count);
                        let granted: Vec<String> = codes.iter().map(ToString::to_string).collect();
                        tracing::debug!(%code, ?granted, ?short, "match codes claimed");
                        let answer = ToHost::Codes {
                            codes: granted,
                            reason: short,
                        };
                        if link
                            .try_push(Outgoing::Text(answer.to_json().into()))
                            .is_err()
                        {
                            // The host would never learn of them: not its to keep.
                            for claimed in &codes {
                                shared.release(&game, claimed);
                            }
                        }
                        continue;
                    }
                    Ok(FromHost::Release { code: released }) => {
                        let len = config.clamped_code_len();
                        let held = GameCode::parse(&released, len)
                            .is_some_and(|released| shared.release(&game, &released));
                        if !held {
                            // Released already, or a previous game's: nothing to do.
                            tracing::debug!(%code, %released, "release of a code not held");
                        }
                        continue;
                    }
                    Err(problem) => problem,
                },
                Read::Binary(_) => "a binary message: control messages are JSON text".to_owned(),
                Read::Closed(frame) => return End::PeerClosed(frame),
                Read::Lost => return End::Lost,
                Read::TooBig => return End::Fault(CloseReason::InvalidFrames),
                Read::Idle => return End::Fault(CloseReason::IdleTimeout),
                Read::Shutdown => return End::Fault(CloseReason::RelayShutdown),
            };
            invalid += 1;
            tracing::warn!(%code, "control message dropped: {problem}");
            if invalid > config.max_invalid_frames {
                return End::Fault(CloseReason::InvalidFrames);
            }
        }
    };
    let end = run(sink, drain, &link, reading, config.close_timeout).await;
    linked.for_good =
        matches!(&end, End::PeerClosed(Some(frame)) if frame.code == CloseCode::Normal);
    tracing::info!(%code, link = number, for_good = linked.for_good, "native host link ended: {end:?}");
    drop(linked);
}
