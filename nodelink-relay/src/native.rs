//! The native host link, for nodelink's own servers: a JSON control link on `/link`
//! and one data connection per accepted player on `/link/accept/CID`.
//!
//! A player's upgrade request is held, not answered, while its host decides: the
//! host sees the request (target, every header, the peer's address) as a direct
//! connection's would be seen, and either refuses it (the relay answers with the
//! host's status and reason) or opens a data connection for it (the relay answers
//! 101, echoing the host's subprotocol, and splices the two WebSockets: every
//! message passes verbatim, binary as binary). One TCP connection per player keeps
//! each player's backpressure its own.
//!
//! A host whose control link drops keeps its game for the grace period: its
//! spliced players keep playing, and reconnecting with its token reclaims the
//! code. After the grace period the code is released and its players are closed
//! with "host gone".

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::oneshot;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::close::CloseReason;
use crate::code::GameCode;
use crate::connection::{close_now, run, upgrade, End, Read, Reader, Socket};
use crate::directory::{too_many_failed_joins, IpSlot, Seat, Seats, Shared};
use crate::http::{is_header_safe, Refusal, Request, MAX_HEAD_LEN};
use crate::messages::{FromHost, ToHost};
use crate::outbox::{outbox, Drain, Outbox, Outgoing, PushError};
use crate::random::random_token;
use crate::{GameInfo, HostKind};

/// What a held player hears from its host.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Answer the upgrade with this refusal.
    Refuse(Refusal),
    /// Complete the upgrade and splice with this data connection.
    Accept(Accept),
}

/// A data connection, ready for its player.
#[derive(Debug)]
pub(crate) struct Accept {
    /// The data connection's queue.
    host: Outbox,
    /// The subprotocol to echo in the player's 101.
    subprotocol: Option<String>,
    /// Where the player's queue goes once its upgrade is done; dropped if it fails.
    reply: oneshot::Sender<Outbox>,
}

/// A native host's game.
#[derive(Debug)]
pub(crate) struct NativeGame {
    pub(crate) code: GameCode,
    /// Reclaims the code and opens data connections: the host's secret.
    pub(crate) token: String,
    seats: Seats,
    state: Mutex<NativeState>,
}

#[derive(Debug)]
struct NativeState {
    control: Option<Control>,
    /// Control links attached so far; each link is known by its number, so a
    /// replaced link's end changes nothing.
    links: u64,
    held: HashMap<String, oneshot::Sender<Decision>>,
    /// Each spliced player's queue and its data connection's queue.
    spliced: HashMap<String, (Outbox, Outbox)>,
    ended: bool,
}

#[derive(Debug)]
struct Control {
    link: u64,
    outbox: Outbox,
}

const HOST_RECONNECTING: &str = "the game's host is reconnecting: try again shortly";
const HOST_GONE: &str = "the game's host is gone";

impl NativeGame {
    /// A game whose first control link's queue is `control`.
    pub(crate) fn new(code: GameCode, control: Outbox) -> Self {
        Self {
            code,
            token: random_token(),
            seats: Seats::default(),
            state: Mutex::new(NativeState {
                control: Some(Control {
                    link: 1,
                    outbox: control,
                }),
                links: 1,
                held: HashMap::new(),
                spliced: HashMap::new(),
                ended: false,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, NativeState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A seat for a new player, unless the game holds `max`.
    pub(crate) fn seat(&self, max: usize) -> Option<Seat> {
        self.seats.take(max)
    }

    pub(crate) fn info(&self) -> GameInfo {
        let state = self.state();
        GameInfo {
            code: self.code.to_string(),
            host: HostKind::Native,
            host_connected: state.control.is_some(),
            players: state.spliced.len(),
            waiting: state.held.len(),
        }
    }

    /// Attaches a reconnected control link; the link it replaces, if any, is
    /// closed. `None` once the game has ended.
    fn attach(&self, outbox: Outbox) -> Option<u64> {
        let mut state = self.state();
        if state.ended {
            return None;
        }
        state.links += 1;
        let link = state.links;
        let replaced = state.control.replace(Control { link, outbox });
        drop(state);
        if let Some(replaced) = replaced {
            replaced.outbox.close(CloseReason::LinkReplaced);
        }
        Some(link)
    }

    /// The control link `link` ended: held players are refused, and the game ends
    /// now (`for_good`) or after the grace period unless a new link reclaims it.
    fn detach(self: &Arc<Self>, link: u64, for_good: bool, shared: &Arc<Shared>) {
        let held = {
            let mut state = self.state();
            if state.control.as_ref().map(|control| control.link) != Some(link) {
                return; // replaced: the game goes on with the new link
            }
            state.control = None;
            std::mem::take(&mut state.held)
        };
        let refusal = Refusal::new(503, HOST_RECONNECTING);
        for (_, decide) in held {
            let _ = decide.send(Decision::Refuse(refusal.clone()));
        }
        if for_good || shared.is_stopping() {
            return self.end(shared);
        }
        tracing::info!(code = %self.code, "host link lost: grace period begins");
        let game = self.clone();
        let shared = shared.clone();
        let mut stopping = shared.stopping();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(shared.config.host_grace) => {
                    let reclaimed = game.state().links != link;
                    if !reclaimed {
                        tracing::info!(code = %game.code, "grace period over: game over");
                        game.end(&shared);
                    }
                }
                // Every connection closes itself on shutdown.
                _ = stopping.wait_for(|stopping| *stopping) => {}
            }
        });
    }

    /// Ends the game: the code is released, held players are refused and spliced
    /// ones closed with "host gone" (both ends).
    fn end(&self, shared: &Shared) {
        shared.remove(&self.code);
        let (held, spliced, control) = {
            let mut state = self.state();
            state.ended = true;
            (
                std::mem::take(&mut state.held),
                std::mem::take(&mut state.spliced),
                state.control.take(),
            )
        };
        let reason = if shared.is_stopping() {
            CloseReason::RelayShutdown
        } else {
            CloseReason::HostGone
        };
        let refusal = Refusal::new(503, HOST_GONE);
        for (_, decide) in held {
            let _ = decide.send(Decision::Refuse(refusal.clone()));
        }
        for (player, host) in spliced.values() {
            player.close(reason);
            host.close(reason);
        }
        if let Some(control) = control {
            control.outbox.close(reason);
        }
    }

    /// Holds a player's join until the host answers; the control link's queue, to
    /// tell the host.
    fn hold(
        &self,
        cid: &str,
        decide: oneshot::Sender<Decision>,
        max_pending: usize,
    ) -> Result<Outbox, Refusal> {
        let mut state = self.state();
        if state.ended {
            return Err(Refusal::new(503, HOST_GONE));
        }
        let Some(control) = &state.control else {
            return Err(Refusal::new(503, HOST_RECONNECTING));
        };
        let control = control.outbox.clone();
        if state.held.len() >= max_pending {
            return Err(Refusal::new(503, "too many players waiting to join"));
        }
        state.held.insert(cid.to_owned(), decide);
        Ok(control)
    }

    /// Stops holding a player that left or timed out; `true` if it was still held,
    /// in which case the host is told it is gone.
    fn unhold(&self, cid: &str) -> bool {
        let control = {
            let mut state = self.state();
            if state.held.remove(cid).is_none() {
                return false;
            }
            state.control.as_ref().map(|control| control.outbox.clone())
        };
        if let Some(control) = control {
            let gone = ToHost::Gone {
                cid: cid.to_owned(),
            };
            // Lost only if the link is not reading, which closes it soon anyway;
            // the host's late accept would then be answered 404.
            let _ = control.try_push(Outgoing::Text(gone.to_json().into()));
        }
        true
    }

    /// Takes a held player out for the host's answer.
    fn take_held(&self, cid: &str) -> Option<oneshot::Sender<Decision>> {
        self.state().held.remove(cid)
    }

    /// Registers a spliced pair, so the game's end closes it; `false` once ended.
    fn splice(&self, cid: &str, player: Outbox, host: Outbox) -> bool {
        let mut state = self.state();
        if !state.ended {
            state.spliced.insert(cid.to_owned(), (player, host));
        }
        !state.ended
    }

    fn unsplice(&self, cid: &str) {
        self.state().spliced.remove(cid);
    }
}

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

/// What a wrong token is answered: `refusal`, counted as a failed join, or 429
/// when the address is past its failed joins.
///
/// Unlike a game code, a token is checked before the failed-join limit, so a valid
/// one always passes: a host is never locked out of its own game by its household's
/// mistyped codes. Its 128 random bits need no throttling to stay unguessable;
/// wrong ones are counted all the same.
fn wrong_token(shared: &Shared, peer: SocketAddr, refusal: Refusal) -> Refusal {
    if !shared.join_allowed(peer.ip()) {
        return too_many_failed_joins();
    }
    shared.join_failed(peer.ip());
    refusal
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
                    return wrong_token(&shared, peer, refusal).send(&mut stream).await;
                }
            }
        }
        None => match shared.add_native(link.clone()) {
            Ok(game) => (game, 1),
            Err(refusal) => return refusal.send(&mut stream).await,
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
    let registered = ToHost::registered(code.as_str(), &game.token, config.host_grace);
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
        Err(refusal) => return refusal.send(&mut stream).await,
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
            return refusal.send(&mut stream).await;
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
        Some(Decision::Refuse(refusal)) => return refusal.send(&mut stream).await,
        None => return Refusal::new(503, HOST_GONE).send(&mut stream).await,
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
        return refusal.send(&mut stream).await;
    };
    // A host has one data connection per player: they count against its game's
    // player limit, not its address's connection limit.
    drop(ip_slot);
    let subprotocol = request.query_param("subprotocol");
    if let Some(offer) = &subprotocol {
        if offer.is_empty() || !is_header_safe("sec-websocket-protocol", offer) {
            let refusal = Refusal::new(400, "the subprotocol cannot be sent in a header");
            return refusal.send(&mut stream).await;
        }
    }
    let Some(decide) = game.take_held(&cid) else {
        let refusal = Refusal::new(404, "no player is waiting with this id");
        return refusal.send(&mut stream).await;
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
enum Side {
    Player,
    Host,
}

/// One end of a splice: forwards every message from its socket to the other end's
/// queue, drains its own queue into its socket, and tells the other end how it
/// ended. The host hears every reason its player's connection ended for; the
/// player hears the host's own close frame, or "host connection lost".
async fn leg<S: AsyncRead + AsyncWrite + Unpin>(
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
    let forwarding = async {
        loop {
            let item = match reader.next().await {
                Read::Text(text) => Outgoing::Text(text),
                Read::Binary(bytes) => Outgoing::Binary(bytes),
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
        (_, End::Closed) => {}
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
