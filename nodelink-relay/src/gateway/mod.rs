//! The gateway of a service of game processes (`RelayConfig::redis`): every
//! WebSocket upgrade that is not one of the relay's own paths is routed by its
//! query to a live process found in the service's directory (Redis), and spliced
//! there over a WebSocket of the gateway's own. PROTOCOL.md's "Through a gateway" is the
//! contract.
//!
//! A request's way: what it asks for (`route`), the directory's answer, the
//! processes to try in order, the gateway's upgrade to each until one accepts
//! (`upstream`; a full one passes the request to the next), then the player's
//! upgrade with the subprotocol the process chose, and the splice (`splice`).
//! A refusal, the gateway's or a process's, reaches the player as the process
//! would have sent it: in HTTP, or as a close code to a client that offers
//! `nodelink.refusals`.

mod route;
mod splice;
mod upstream;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nodelink::cluster::{ClusterError, ServiceDirectory};
use nodelink::wire::handshake::{
    mismatch_reason, parse_subprotocol, wire_version_reason, FINGERPRINT_HEADER, REFUSAL_HEADER,
};
use nodelink::wire::{
    close_reason_text, encode_listing_raw, RawListing, RefusalKind, REFUSALS_SUBPROTOCOL,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use self::route::{least_loaded, rendezvous, Ask, NoProcess};
use self::upstream::{offered, ProcessRefusal, Upstream};
use crate::close::CloseReason;
use crate::config::RelayConfig;
use crate::connection::{close_now, upgrade, Socket};
use crate::directory::{too_many_failed_joins, Shared};
use crate::http::{Refusal, Request};

/// The most matches of a kind a gateway's listing holds: the first by code.
pub(crate) const MAX_LISTED: usize = 1_000;

/// How soon after failing to reach Redis a gateway tries to connect again;
/// meanwhile requests are refused at once rather than each waiting for Redis.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// How often, at most, the gateway logs that its directory is unavailable.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// A gateway's link to its service's directory: made at the first request that
/// needs it, and remade only while Redis cannot be reached at all (once made, the
/// connection comes back by itself after Redis does).
#[derive(Debug)]
pub(crate) struct Gateway {
    redis_url: String,
    service: String,
    timeout: Duration,
    directory: tokio::sync::Mutex<Option<ServiceDirectory>>,
    /// When a connection to Redis last failed.
    failed_at: Mutex<Option<Instant>>,
    warned_at: Mutex<Option<Instant>>,
}

impl Gateway {
    /// The gateway `config` asks for, if it names a Redis.
    pub(crate) fn new(config: &RelayConfig) -> Option<Self> {
        Some(Self {
            redis_url: config.redis.clone()?,
            service: config.service.clone(),
            timeout: config.directory_timeout,
            directory: tokio::sync::Mutex::new(None),
            failed_at: Mutex::new(None),
            warned_at: Mutex::new(None),
        })
    }

    /// The directory, connecting to it first if need be.
    async fn directory(&self) -> Result<ServiceDirectory, Refused> {
        let mut held = self.directory.lock().await;
        if let Some(directory) = &*held {
            return Ok(directory.clone());
        }
        let recently_failed =
            lock(&self.failed_at).is_some_and(|at| at.elapsed() < RECONNECT_AFTER);
        if recently_failed {
            return Err(Refused::directory_unavailable());
        }
        match ServiceDirectory::connect(&self.redis_url, &self.service, self.timeout).await {
            Ok(directory) => {
                tracing::info!(redis = %self.redis_url, service = %self.service, "gateway: the service's directory is reachable");
                *held = Some(directory.clone());
                Ok(directory)
            }
            Err(error) => {
                *lock(&self.failed_at) = Some(Instant::now());
                Err(self.unavailable(&error))
            }
        }
    }

    /// The refusal for a directory that did not answer, logged now and then.
    fn unavailable(&self, error: &ClusterError) -> Refused {
        let mut warned = lock(&self.warned_at);
        if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!("gateway: {error}; refusing new players meanwhile");
            *warned = Some(Instant::now());
        }
        Refused::directory_unavailable()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A refusal to send a player: the gateway's own, or a process's as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refused {
    status: u16,
    /// The close code that tells it to a client offering `nodelink.refusals`.
    code: Option<u16>,
    /// Its reason.
    body: String,
    /// The HTTP response.
    bytes: Vec<u8>,
}

impl Refused {
    /// The gateway's refusal of `kind`, worded as a process would word it.
    fn of(kind: RefusalKind, body: impl Into<String>) -> Self {
        let mut refusal = Refusal::new(kind.status(), body);
        if let Some(code) = kind.close_code() {
            refusal = refusal.with_header(REFUSAL_HEADER, &code.to_string());
        }
        Self::from(refusal)
    }

    fn directory_unavailable() -> Self {
        Self::of(
            RefusalKind::DirectoryUnavailable,
            "the service's directory is unavailable: try again shortly",
        )
    }
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        let code = refusal
            .headers
            .iter()
            .find(|(name, _)| name == REFUSAL_HEADER)
            .and_then(|(_, code)| code.parse().ok());
        Self {
            status: refusal.status,
            code,
            bytes: refusal.to_bytes(),
            body: refusal.body,
        }
    }
}

impl From<ProcessRefusal> for Refused {
    fn from(refusal: ProcessRefusal) -> Self {
        Self {
            status: refusal.status,
            code: refusal.code,
            body: refusal.body,
            bytes: refusal.bytes,
        }
    }
}

/// Where a request was routed.
enum Routed {
    /// A process accepted it: its connection, and the subprotocol it chose.
    Process {
        socket: Box<Socket<TcpStream>>,
        subprotocol: Option<String>,
    },
    /// A `list`: the listing frame to send.
    Listing(Bytes),
}

/// Serves a request that is not one of the relay's own paths: routes it to a
/// game process and splices it there, answers its listing, or refuses it.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: Request,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    let Some(gateway) = shared.gateway.as_ref() else {
        return Refusal::new(404, "not found")
            .send(&mut stream, &shared.counters)
            .await;
    };
    let config = &shared.config;
    let deadline = tokio::time::Instant::now() + config.handshake_timeout;
    let mut stopping = shared.stopping();
    let routed = tokio::select! {
        routed = timeout_at(deadline, route(gateway, &request, peer, &shared)) => {
            routed.unwrap_or_else(|_| Err(Refused::of(
                RefusalKind::ProcessUnavailable,
                "no game process answered in time: try again shortly",
            )))
        }
        _ = stopping.wait_for(|stopping| *stopping) => {
            Err(Refused::from(Refusal::new(503, "relay shutting down")))
        }
    };
    let wants_close = offered(&request)
        .iter()
        .any(|offer| offer == REFUSALS_SUBPROTOCOL);
    match routed {
        Ok(Routed::Process {
            socket,
            subprotocol,
        }) => {
            let upgrading = upgrade(
                stream,
                request.bytes,
                subprotocol.as_deref(),
                config.max_frame_len,
            );
            match timeout_at(deadline, upgrading).await {
                Ok(Some(player)) => {
                    shared
                        .counters
                        .gateway_spliced
                        .fetch_add(1, Ordering::Relaxed);
                    splice::splice(player, *socket, &shared).await;
                }
                // The process made a player the client never heard of: it leaves.
                _ => {
                    let reason = CloseReason::PlayerConnectionLost;
                    close_now(*socket, reason, config.close_timeout).await;
                }
            }
        }
        Ok(Routed::Listing(frame)) => {
            let subprotocol = offered(&request)
                .into_iter()
                .find(|offer| parse_subprotocol(offer).is_some());
            let upgrading = upgrade(
                stream,
                request.bytes,
                subprotocol.as_deref(),
                config.max_frame_len,
            );
            if let Ok(Some(socket)) = timeout_at(deadline, upgrading).await {
                shared
                    .counters
                    .gateway_listings
                    .fetch_add(1, Ordering::Relaxed);
                let normal = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "listing sent".into(),
                };
                send_then_close(socket, Some(Message::Binary(frame)), normal, config).await;
            }
        }
        Err(refused) => {
            shared.counters.refused(refused.status);
            match refused.code {
                Some(code) if wants_close => {
                    let upgrading = upgrade(
                        stream,
                        request.bytes,
                        Some(REFUSALS_SUBPROTOCOL),
                        config.max_frame_len,
                    );
                    if let Ok(Some(socket)) = timeout_at(deadline, upgrading).await {
                        let frame = CloseFrame {
                            code: CloseCode::from(code),
                            reason: close_reason_text(&refused.body).into(),
                        };
                        send_then_close(socket, None, frame, config).await;
                    }
                }
                _ => {
                    use tokio::io::AsyncWriteExt;
                    if stream.write_all(&refused.bytes).await.is_ok() {
                        let _ = stream.shutdown().await;
                    }
                }
            }
        }
    }
}

/// Sends `message` (if any), then the close frame, then waits for the client's
/// answering close (at most the close timeout).
async fn send_then_close<S: AsyncRead + AsyncWrite + Unpin>(
    mut socket: Socket<S>,
    message: Option<Message>,
    close: CloseFrame,
    config: &RelayConfig,
) {
    let closing = async {
        if let Some(message) = message {
            socket.send(message).await?;
        }
        socket.send(Message::Close(Some(close))).await?;
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
        Ok::<(), tokio_tungstenite::tungstenite::Error>(())
    };
    let _ = timeout(config.close_timeout, closing).await;
}

/// Finds where `request` goes and opens the gateway's connection there (or makes
/// its listing).
async fn route(
    gateway: &Gateway,
    request: &Request,
    peer: SocketAddr,
    shared: &Shared,
) -> Result<Routed, Refused> {
    let ask =
        Ask::of(request).map_err(|reason| Refused::of(RefusalKind::BadMatchRequest, reason))?;
    let ip = peer.ip();
    if matches!(ask, Ask::Join { .. }) && !shared.join_allowed(ip) {
        return Err(Refused::from(too_many_failed_joins()));
    }
    let directory = gateway.directory().await?;
    let failed = |error: ClusterError| gateway.unavailable(&error);
    let no_process = |why: NoProcess, kind: Option<&str>| match (why, kind) {
        (NoProcess::Hosts, Some(kind)) => Refused::of(
            RefusalKind::UnknownKind,
            format!("this service hosts no kind `{kind}`"),
        ),
        (NoProcess::Hosts, None) => {
            Refused::of(RefusalKind::ServerFull, "no game process is running")
        }
        (NoProcess::Full, _) => Refused::of(RefusalKind::ServerFull, "server full"),
    };
    let candidates = match &ask {
        Ask::Join { code } => match directory.owner_of(code).await.map_err(failed)? {
            Some(owner) => vec![owner],
            None if directory.rebuilding().await.map_err(failed)? => {
                // Redis came back empty less than a lease ago: the match may be
                // live and not published again yet. Retryable, and not a failed
                // join of the player's.
                return Err(Refused::of(
                    RefusalKind::DirectoryUnavailable,
                    "the service's directory is being rebuilt: try again shortly",
                ));
            }
            None => {
                shared.join_failed(ip);
                return Err(Refused::of(
                    RefusalKind::UnknownMatch,
                    format!("no match has the code {code}"),
                ));
            }
        },
        Ask::Default => least_loaded(&directory.processes().await.map_err(failed)?, None)
            .map_err(|why| no_process(why, None))?,
        Ask::Create { kind } => {
            least_loaded(&directory.processes().await.map_err(failed)?, Some(kind))
                .map_err(|why| no_process(why, Some(kind)))?
        }
        Ask::Find { kind, options } => {
            rendezvous(&directory.processes().await.map_err(failed)?, kind, options)
                .map_err(|why| no_process(why, Some(kind)))?
        }
        Ask::List { kind } => {
            let processes = directory.processes().await.map_err(failed)?;
            let Some(host) = processes.iter().find(|p| p.kinds.contains(kind)) else {
                return Err(no_process(NoProcess::Hosts, Some(kind)));
            };
            if let Some(&fingerprint) = host.protocols.get(kind) {
                check_protocol(request, fingerprint)?;
            }
            let listed = directory
                .listing(kind, None, MAX_LISTED)
                .await
                .map_err(failed)?;
            return Ok(Routed::Listing(listing_frame(&listed)));
        }
    };
    // The gateway reads the process's refusals itself (to try the next process,
    // and to pass them on): it asks for them in HTTP, and tells a client that
    // offered the marker with a close code.
    let subprotocols: Vec<String> = offered(request)
        .into_iter()
        .filter(|offer| offer != REFUSALS_SUBPROTOCOL)
        .collect();
    // A request that may go elsewhere is tried on the next process only when
    // this one seated the player nowhere: it refused it as full (or shutting
    // down), could not be reached, or closed the connection before answering
    // (its seat, if it took one, went with the connection). One that is merely
    // slow is never given up for another: the whole request shares one
    // deadline, after which the player is told 504. So a create is never made
    // twice by the gateway, and needs no idempotency id. At worst a process
    // that lost the gateway's connection mid-upgrade is left with an empty new
    // match, which ends after its linger like any other.
    let may_try_next = !matches!(ask, Ask::Join { .. });
    let mut refused = None;
    for process in candidates {
        match upstream::open(&process.addr, request, ip, &subprotocols, &shared.config).await {
            Upstream::Accepted {
                socket,
                subprotocol,
            } => {
                return Ok(Routed::Process {
                    socket,
                    subprotocol,
                })
            }
            Upstream::Refused(refusal)
                if may_try_next && route::refused_as_full(refusal.status, refusal.code) =>
            {
                refused = Some(Refused::from(refusal));
            }
            Upstream::Refused(refusal) => return Err(Refused::from(refusal)),
            Upstream::Unreachable(reason) => {
                tracing::warn!(process = %process.id, "gateway: the game process cannot be reached: {reason}");
                refused = refused.or_else(|| {
                    Some(Refused::of(
                        RefusalKind::ProcessUnavailable,
                        "the game process cannot be reached: try again shortly",
                    ))
                });
            }
        }
    }
    Err(refused.unwrap_or_else(|| Refused::of(RefusalKind::ServerFull, "server full")))
}

/// Refuses a listing request that offers the wire of another build of the kind's
/// protocol, as the process hosting the kind would: the gateway answers listings
/// itself, and a client of another build must learn it here rather than fail to
/// decode the metadata.
fn check_protocol(request: &Request, fingerprint: u64) -> Result<(), Refused> {
    let mut other = None;
    for offer in offered(request) {
        match parse_subprotocol(&offer) {
            Some(theirs) if theirs == fingerprint => return Ok(()),
            Some(theirs) => other = Some(Some(theirs)),
            None if offer == REFUSALS_SUBPROTOCOL => {}
            None if offer.starts_with("nodelink.") => other = other.or(Some(None)),
            None => {}
        }
    }
    let (kind, body) = match other {
        None => return Ok(()),
        Some(Some(theirs)) => (
            RefusalKind::ProtocolMismatch,
            mismatch_reason(fingerprint, theirs),
        ),
        Some(None) => (RefusalKind::WireVersion, wire_version_reason(fingerprint)),
    };
    let mut refusal = Refusal::new(kind.status(), body)
        .with_header(FINGERPRINT_HEADER, &format!("{fingerprint:016x}"));
    if let Some(code) = kind.close_code() {
        refusal = refusal.with_header(REFUSAL_HEADER, &code.to_string());
    }
    Err(Refused::from(refusal))
}

/// A listing frame of the directory's matches, as a process writes one.
fn listing_frame(listed: &[nodelink::cluster::ListedMatch]) -> Bytes {
    // A match published without metadata has `nil` for it, as a protocol without
    // metadata does.
    const NIL: &[u8] = &[0xc0];
    encode_listing_raw(listed.iter().map(|listed| RawListing {
        code: &listed.code,
        players: listed.players,
        max_players: listed.max_players,
        locked: listed.locked,
        metadata: if listed.metadata.is_empty() {
            NIL
        } else {
            &listed.metadata
        },
    }))
}
