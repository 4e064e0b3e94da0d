//! Whether a connection becomes a player. Every connection takes this one path,
//! whether it reached the server's own listener or an HTTP router the server is
//! mounted on: only how the request arrives and how the upgrade is answered differ.
//!
//! The cheap checks come first, so a refused client never reaches the
//! authentication hook: per-IP cap, WebSocket upgrade, origin, the match it asks
//! for (its kind decides which protocol it must speak), protocol, options,
//! capacity, then authentication; last, matchmaking takes its place in a match. A
//! client resuming a session passes the same checks but capacity: its player
//! holds its place already.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio_tungstenite::tungstenite::http::{HeaderValue, Response, StatusCode};

use crate::server::config::{ServerConfig, WireFormats};
use crate::server::matchmaking::{Intent, Refused};
use crate::server::port::{Connecting, Identity, Io, Placement};
use crate::server::transport::connection::Context;
use crate::server::transport::request::HandshakeRequest;
use crate::wire::handshake::{self as wire, FINGERPRINT_HEADER, REFUSAL_HEADER};
use crate::wire::{RefusalKind, ResumeOffer, WireFormat, REFUSALS_SUBPROTOCOL};

/// The only WebSocket version there is (RFC 6455).
const WEBSOCKET_VERSION: &str = "13";

/// An admitted connection: its wire, the subprotocol to echo (native clients),
/// the identity to attach to its player, the session it asks to resume, and where
/// matchmaking placed it.
pub(crate) struct Admitted {
    pub(crate) wire: WireFormat,
    pub(crate) subprotocol: Option<String>,
    pub(crate) identity: Option<Identity>,
    pub(crate) resume: Option<ResumeOffer>,
    pub(crate) placement: Box<dyn Placement>,
}

impl std::fmt::Debug for Admitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted")
            .field("wire", &self.wire)
            .field("subprotocol", &self.subprotocol)
            .field("resume", &self.resume.is_some())
            .finish_non_exhaustive()
    }
}

impl Admitted {
    /// Plays the upgraded connection where it was placed, to its end. The
    /// placement's future itself, rather than one that holds it: a connection's
    /// futures live as long as it does.
    pub(crate) fn play(
        self,
        socket: tokio_tungstenite::WebSocketStream<Io>,
        addr: std::net::SocketAddr,
        config: Arc<ServerConfig>,
        role: tokio_tungstenite::tungstenite::protocol::Role,
    ) -> futures::future::BoxFuture<'static, ()> {
        let Admitted {
            wire,
            identity,
            resume,
            placement,
            ..
        } = self;
        let connecting = Connecting {
            addr,
            role,
            wire,
            identity,
            resume,
            config,
        };
        placement.play(socket, connecting)
    }
}

/// Why an upgrade is refused: as an HTTP response, or, to a client that offers
/// [`REFUSALS_SUBPROTOCOL`], as the close code of its kind (`refusal.rs`).
#[derive(Debug)]
pub(crate) struct Refusal {
    /// `None` only for answers about the server's own configuration, which are
    /// not the client's refusal to report.
    pub(crate) kind: Option<RefusalKind>,
    pub(crate) status: u16,
    pub(crate) body: String,
    headers: Vec<(&'static str, String)>,
}

impl Refusal {
    pub(crate) fn new(kind: RefusalKind, body: impl Into<String>) -> Self {
        let headers = kind
            .close_code()
            .map(|code| (REFUSAL_HEADER, code.to_string()))
            .into_iter()
            .collect();
        Self {
            kind: Some(kind),
            status: kind.status(),
            body: body.into(),
            headers,
        }
    }

    /// An HTTP answer that is no refusal of the client's (the server's
    /// misconfiguration): never reported, never a close code.
    #[cfg(feature = "axum")]
    pub(crate) fn http(status: u16, body: impl Into<String>) -> Self {
        Self {
            kind: None,
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The headers the refusal carries besides the content type.
    pub(crate) fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// The refusal as both accept paths send it.
    pub(crate) fn response(&self) -> Response<String> {
        let mut response = Response::new(self.body.clone());
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let headers = response.headers_mut();
        headers.insert(
            "content-type",
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
        response
    }
}

/// Decides whether the connection that sent `request` becomes a player, and where.
pub(crate) async fn admit(
    context: &Context,
    mut request: HandshakeRequest,
    slot: &IpSlot,
) -> Result<Admitted, Refusal> {
    let config = &context.config;
    if slot.count > config.max_connections_per_ip {
        return Err(Refusal::new(
            RefusalKind::TooManyConnections,
            "too many connections from your address",
        ));
    }
    websocket_upgrade(&request)?;
    if let (Some(allowed), Some(origin)) = (&config.allowed_origins, request.header("origin")) {
        if !allowed.iter().any(|allowed| allowed == origin) {
            return Err(Refusal::new(
                RefusalKind::OriginNotAllowed,
                format!("origin {origin} is not allowed"),
            ));
        }
    }
    let intent = Intent::of(&request)
        .map_err(|reason| Refusal::new(RefusalKind::BadMatchRequest, reason))?;
    let kind = context
        .matchmaker
        .kind_for(&intent)
        .map_err(refused)?
        .clone();
    let (wire, subprotocol) = protocol(kind.fingerprint(), config.wire_formats, &request)?;
    let resume = match wire {
        WireFormat::Native => resume_offer(&request)?,
        WireFormat::Json => None,
    };
    if let Intent::Create { options, .. } | Intent::Find { options, .. } = &intent {
        kind.check_options(options).map_err(refused)?;
    }
    let process = context.matchmaker.process();
    let listing = matches!(intent, Intent::List { .. });
    // A draining process lets its matches play out: players come back to them
    // and join them by code, and nothing new begins here.
    let begins = matches!(
        intent,
        Intent::Default | Intent::Create { .. } | Intent::Find { .. }
    );
    if begins && resume.is_none() && context.matchmaker.draining() {
        return Err(Refusal::new(
            RefusalKind::ShuttingDown,
            "server shutting down",
        ));
    }
    // Matchmaking checks again as it takes the place; this spares a full server
    // the authentication hook.
    if resume.is_none() && !listing && process.online.load(Ordering::Relaxed) >= process.max_players
    {
        return Err(Refusal::new(RefusalKind::ServerFull, "server full"));
    }
    request.resume = resume.is_some();
    let identity = match &context.authenticate {
        Some(hook) => Some(
            hook(request)
                .await
                .map_err(|rejection| Refusal::new(rejected(&rejection), rejection.reason()))?,
        ),
        None => None,
    };
    let placement = kind.place(&intent, resume.is_some()).map_err(refused)?;
    Ok(Admitted {
        wire,
        subprotocol,
        identity,
        resume,
        placement,
    })
}

/// Matchmaking's refusal as the transport answers it.
fn refused((kind, reason): Refused) -> Refusal {
    Refusal::new(kind, reason)
}

/// The kind of the authentication hook's rejection: its two constructors' statuses.
fn rejected(rejection: &crate::server::Rejection) -> RefusalKind {
    match rejection.status() {
        401 => RefusalKind::Unauthorized,
        _ => RefusalKind::Forbidden,
    }
}

/// The values of the request's `Sec-WebSocket-Protocol` header(s).
pub(crate) fn offered(request: &HandshakeRequest) -> impl Iterator<Item = &str> {
    request
        .headers()
        .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-protocol"))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
}

/// The session a native client asks to resume, if it offers to; a malformed offer
/// is refused rather than taken for a new player's connection.
fn resume_offer(request: &HandshakeRequest) -> Result<Option<ResumeOffer>, Refusal> {
    match offered(request).find_map(ResumeOffer::parse) {
        Some(Ok(offer)) => Ok(Some(offer)),
        Some(Err(error)) => Err(Refusal::new(
            RefusalKind::MalformedResume,
            error.to_string(),
        )),
        None => Ok(None),
    }
}

/// Checks the headers that make a request a WebSocket upgrade (RFC 6455, 4.2.1).
fn websocket_upgrade(request: &HandshakeRequest) -> Result<(), Refusal> {
    let has_token = |name: &str, token: &str| {
        request
            .headers()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .flat_map(|(_, value)| value.split(','))
            .any(|value| value.trim().eq_ignore_ascii_case(token))
    };
    let not_an_upgrade = || Refusal::new(RefusalKind::NotAnUpgrade, "not a WebSocket upgrade");
    if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
        return Err(not_an_upgrade());
    }
    if request.header("sec-websocket-key").is_none() {
        return Err(not_an_upgrade());
    }
    if request.header("sec-websocket-version") != Some(WEBSOCKET_VERSION) {
        return Err(Refusal::new(
            RefusalKind::WebSocketVersion,
            "unsupported WebSocket version: this server speaks 13",
        )
        .with_header("sec-websocket-version", WEBSOCKET_VERSION.to_owned()));
    }
    Ok(())
}

/// Picks the connection's wire. A client offering this build's subprotocol speaks
/// the native wire; one offering no nodelink subprotocol speaks JSON. A client
/// built with another protocol (another fingerprint or wire version), or offering
/// a resume without the native subprotocol, is refused with a 400 that names the
/// server's fingerprint, never served JSON instead.
fn protocol(
    fingerprint: u64,
    wire_formats: WireFormats,
    request: &HandshakeRequest,
) -> Result<(WireFormat, Option<String>), Refusal> {
    let mut ours = None;
    let mut other = None;
    let mut resume = false;
    for protocol in offered(request) {
        match wire::parse_subprotocol(protocol) {
            Some(theirs) if theirs == fingerprint => ours = Some(protocol.to_owned()),
            Some(theirs) => other = Some(Some(theirs)),
            // Offered beside the wire's own subprotocol, never instead of it.
            None if protocol.starts_with(crate::wire::RESUME_PREFIX) => resume = true,
            // Asks for refusals as close codes; it is no wire of its own.
            None if protocol == REFUSALS_SUBPROTOCOL => {}
            None if protocol.starts_with("nodelink.") => other = other.or(Some(None)),
            None => {}
        }
    }
    let refuse = |kind, body: String| {
        Refusal::new(kind, body).with_header(FINGERPRINT_HEADER, format!("{fingerprint:016x}"))
    };
    match (ours, other) {
        // Not a mismatch: no fingerprint header, which the client would report as one.
        (Some(_), _) if !wire_formats.accepts(WireFormat::Native) => Err(Refusal::new(
            RefusalKind::WireNotServed,
            "this server speaks only the JSON wire: connect without the nodelink subprotocol",
        )),
        (Some(ours), _) => Ok((WireFormat::Native, Some(ours))),
        (None, Some(Some(theirs))) => Err(refuse(
            RefusalKind::ProtocolMismatch,
            wire::mismatch_reason(fingerprint, theirs),
        )),
        (None, Some(None)) => Err(refuse(
            RefusalKind::WireVersion,
            wire::wire_version_reason(fingerprint),
        )),
        // Not served JSON: the client means to resume a native session.
        (None, None) if resume => Err(refuse(
            RefusalKind::MalformedResume,
            format!(
                "resume offer without the nodelink subprotocol: offer {} beside it",
                wire::subprotocol(fingerprint)
            ),
        )),
        (None, None) if wire_formats.accepts(WireFormat::Json) => Ok((WireFormat::Json, None)),
        (None, None) => Err(refuse(
            RefusalKind::WireNotServed,
            format!(
                "not a nodelink client: expected the WebSocket subprotocol {}",
                wire::subprotocol(fingerprint)
            ),
        )),
    }
}

/// Open connections per peer address, shared by every connection of a server.
pub(crate) type IpCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// One connection's place in the per-IP count, taken as it arrives (before its
/// request is read) and given back when dropped, at the connection's end.
#[derive(Debug)]
pub(crate) struct IpSlot {
    counts: IpCounts,
    ip: IpAddr,
    /// Connections from this address, this one included.
    count: usize,
}

impl IpSlot {
    pub(crate) fn take(counts: &IpCounts, ip: IpAddr) -> Self {
        let count = match counts.lock() {
            Ok(mut counts) => {
                let count = counts.entry(ip).or_default();
                *count += 1;
                *count
            }
            Err(_) => 1,
        };
        Self {
            counts: counts.clone(),
            ip,
            count,
        }
    }
}

impl IpSlot {
    /// This connection's place, counted for `ip` instead (the player behind a
    /// trusted proxy): the proxy's address stops counting it.
    pub(crate) fn move_to(self, ip: IpAddr) -> Self {
        if ip == self.ip {
            return self;
        }
        Self::take(&self.counts, ip)
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock() {
            if let Some(count) = counts.get_mut(&self.ip) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(&self.ip);
                }
            }
        }
    }
}
