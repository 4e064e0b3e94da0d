//! One connection to the server: handshake, welcome, then frames in both
//! directions until either side closes. Delivers what arrives to a [`Deliver`].
//!
//! Connections come and go within a session: when one is lost, [`run`] reconnects
//! offering the session's token, and the server either resumes it (the same
//! player; the frames each side missed are sent again) or says why not, and the
//! client joins afresh.

use std::time::Duration;

use bytes::Bytes;
use futures::stream::SplitStream;
use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::client::config::ClientConfig;
use crate::client::error::{ClientError, Disconnect};
use crate::client::sender::ClientSender;
use crate::client::session::Session;
use crate::client::stats::{Counters, Received};
use crate::wire::{
    decode_listing, decode_server_frame, encode_pong, handshake, CloseReason, MatchListing,
    MatchRequest, RefusalKind, ResumeOffer, ServerFrame, SyncFrame, Welcome,
};
use crate::Protocol;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where a connection delivers what it receives.
pub(crate) trait Deliver<P: Protocol> {
    fn connected(&mut self, welcome: Welcome, sender: &ClientSender<P>);
    /// The session was resumed on a new connection: the same player.
    fn resumed(&mut self, welcome: Welcome, sender: &ClientSender<P>);
    /// The connection was lost; the session waits to be resumed.
    fn paused(&mut self, reason: Disconnect);
    fn event(&mut self, event: P::ToClient, sender: &ClientSender<P>);
    fn sync(&mut self, frame: SyncFrame<P>, sender: &ClientSender<P>);
    fn latency(&mut self, rtt: Duration);
    fn error(&mut self, error: ClientError);
    fn disconnected(&mut self, reason: Disconnect);
    fn reconnecting(&mut self, attempt: u32, delay: Duration);
}

/// Whether a connection that ended this way is worth reopening: not after a
/// kick, nor once the game is gone from the relay that hosted it (its code would
/// only meet "unknown game code"), nor after the codes a relay sends only to
/// hosts, which a player has no business getting.
fn worth_reconnecting(reason: &Disconnect) -> bool {
    match reason {
        Disconnect::Local => false,
        Disconnect::Closed { .. } => !matches!(
            reason.close_reason(),
            Some(
                CloseReason::Kicked
                    | CloseReason::ProtocolMismatch
                    | CloseReason::HostGone
                    | CloseReason::RelayShutdown
                    | CloseReason::PlayerConnectionLost
                    | CloseReason::LinkReplaced
                    | CloseReason::MatchEnded
            )
        ),
        Disconnect::Lost(_) => true,
    }
}

/// Whether a session whose connection ended this way can be resumed: when the
/// connection was lost, not closed, or the server closed it as silent (it holds
/// the player for a while then too), or a relay lost its connection to the host
/// (which saw a lost connection too, and holds the player).
fn resumable(reason: &Disconnect) -> bool {
    match reason {
        Disconnect::Lost(_) => true,
        Disconnect::Closed { .. } => matches!(
            reason.close_reason(),
            Some(CloseReason::IdleTimeout | CloseReason::HostConnectionLost)
        ),
        Disconnect::Local => false,
    }
}

/// The error for a connection closed before its welcome with a refusal's code
/// (PROTOCOL.md, "Refusals a browser can read"), if it was. This client does not
/// ask for them (it reads the HTTP refusal), but a server may close with one
/// all the same.
fn refusal_error<P: Protocol>(closed: &Disconnect) -> Option<ClientError> {
    let Disconnect::Closed { code, reason } = closed else {
        return None;
    };
    Some(match RefusalKind::from_close_code(*code)? {
        RefusalKind::ProtocolMismatch | RefusalKind::WireVersion => ClientError::ProtocolMismatch {
            client: P::FINGERPRINT,
            server: server_fingerprint(reason),
        },
        kind => ClientError::Refused {
            status: kind.status(),
            reason: reason.clone(),
            kind: Some(kind),
        },
    })
}

/// The server's fingerprint in a mismatch's reason: `… server fingerprint <16
/// hex digits>, …`, or `… this server speaks nodelink.<version>.<16 hex digits>`.
fn server_fingerprint(reason: &str) -> Option<u64> {
    let (_, after) = reason
        .split_once("server fingerprint ")
        .or_else(|| reason.rsplit_once("speaks nodelink."))?;
    let after = after.split_once('.').map_or(after, |(version, rest)| {
        if version.bytes().all(|b| b.is_ascii_digit()) {
            rest
        } else {
            after
        }
    });
    let digits = after.get(..16)?;
    u64::from_str_radix(digits, 16).ok()
}

/// Whether a connection that could not be opened is worth trying again: not when
/// the server refused the client itself (its protocol, its credentials).
fn worth_retrying(error: &ClientError) -> bool {
    match error {
        ClientError::Connect { .. } | ClientError::Handshake(_) => true,
        ClientError::Refused {
            kind: Some(kind), ..
        } => kind.is_retryable(),
        ClientError::Refused { status, .. } => matches!(status, 429 | 503),
        _ => false,
    }
}

/// How one connection attempt ended, when it was not an error.
enum Ended {
    /// The client was told to stop before a connection was made (or before its
    /// welcome).
    Stopped,
    /// A resume was refused: the server closed the connection before its welcome,
    /// with this reason.
    Refused(Disconnect),
    /// A connection was open, and ended this way.
    Closed(Disconnect),
}

/// Connects and serves connections until one ends for good: after a local
/// disconnect, or when reconnection is off, not worth it, or out of attempts.
/// Returns the last error when the last attempt could not connect.
pub(crate) async fn run<P: Protocol>(
    url: &str,
    config: &ClientConfig,
    queue: &mut mpsc::Receiver<Bytes>,
    sender: &ClientSender<P>,
    deliver: &mut impl Deliver<P>,
) -> Result<(), ClientError> {
    let mut stop = sender.stop.subscribe();
    let mut attempt = 0u32;
    let mut session: Option<Session> = None;
    let mut target = Target {
        first: url.to_owned(),
        match_code: None,
    };
    loop {
        let by_code = target.goes_by_code(session.is_some());
        let outcome = serve(
            &mut target,
            config,
            queue,
            sender,
            &mut stop,
            deliver,
            &mut session,
        )
        .await;
        let policy = config.reconnect.as_ref();
        match outcome {
            Ok(Ended::Stopped) | Ok(Ended::Closed(Disconnect::Local)) => {
                deliver.disconnected(Disconnect::Local);
                return Ok(());
            }
            Ok(Ended::Closed(reason)) => {
                attempt = 0;
                if reason.close_reason() == Some(CloseReason::ProcessLost) {
                    // The match died with its process: ask again as first asked
                    // (create or find anew), never for the dead match's code.
                    target.match_code = None;
                }
                let resume = policy.is_some_and(|policy| policy.resume && policy.allows(attempt));
                match session.as_mut() {
                    Some(session) if resume && resumable(&reason) => {
                        session.paused = Some(reason.clone());
                        deliver.paused(reason);
                    }
                    _ => {
                        session = None;
                        let again = worth_reconnecting(&reason);
                        deliver.disconnected(reason);
                        if !again {
                            return Ok(());
                        }
                    }
                }
            }
            Ok(Ended::Refused(reason)) => {
                // The session is over: the client is told why, then joins afresh at
                // once (the server answered: no reason to wait).
                session = None;
                let again = worth_reconnecting(&reason) && policy.is_some();
                deliver.disconnected(reason);
                if !again {
                    return Ok(());
                }
                continue;
            }
            Err(ClientError::Refused {
                kind: Some(RefusalKind::UnknownMatch),
                reason,
                ..
            }) if by_code && policy.is_some() => {
                // The match asked for by its code is gone (its process restarted,
                // or died and its lease ran out): the session is over, as a server
                // that no longer holds it says with "session expired", and the
                // client asks again, at once, as it first did.
                if session
                    .take()
                    .is_some_and(|session| session.paused.is_some())
                {
                    deliver.disconnected(Disconnect::Closed {
                        code: CloseReason::SessionExpired.code(),
                        reason: format!("session expired: {reason}"),
                    });
                }
                target.match_code = None;
                continue;
            }
            Err(error) => {
                let again = worth_retrying(&error) && policy.is_some_and(|p| p.allows(attempt));
                if !again {
                    // A session waiting to be resumed ends here, for the reason its
                    // connection ended.
                    if let Some(reason) = session.take().and_then(|session| session.paused) {
                        deliver.disconnected(reason);
                    }
                    return Err(error);
                }
                deliver.error(error);
            }
        }
        let Some(policy) = policy.filter(|policy| policy.allows(attempt)) else {
            if let Some(reason) = session.take().and_then(|session| session.paused) {
                deliver.disconnected(reason);
            }
            return Ok(());
        };
        attempt += 1;
        let delay = policy.delay(attempt);
        deliver.reconnecting(attempt, delay);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stopped(&mut stop) => {
                deliver.disconnected(Disconnect::Local);
                return Ok(());
            }
        }
    }
}

/// Completes once the client has been told to stop: at once if it already was.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // Cannot fail: the client holds the sender for as long as it runs.
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Closes an open connection normally, then waits briefly for the server's answer
/// so that it sees a clean close.
async fn close_normally(
    sink: &mut (impl Sink<Message> + Unpin),
    stream: &mut (impl Stream<Item = Result<Message, WsError>> + Unpin),
) {
    let close = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
    let _ = timeout(Duration::from_secs(1), async {
        while let Some(Ok(message)) = stream.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
}

fn connect_error(url: &str, reason: impl std::fmt::Display) -> ClientError {
    ClientError::Connect {
        url: url.to_owned(),
        reason: reason.to_string(),
    }
}

/// Asks the server at `url` (a `list` request) for its listing, and reads it.
pub(crate) async fn listing<P: Protocol>(
    url: &str,
    config: &ClientConfig,
) -> Result<Vec<MatchListing<P::MatchMetadata>>, ClientError> {
    let socket = upgrade::<P>(url, config, None).await?;
    let (_, mut stream) = socket.split();
    let answer = timeout(config.connect_timeout, async {
        while let Some(message) = stream.next().await {
            match message {
                Ok(Message::Binary(frame)) => return Ok(frame),
                Ok(Message::Close(frame)) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |frame| {
                        (u16::from(frame.code), frame.reason.to_string())
                    });
                    let closed = Disconnect::Closed { code, reason };
                    return Err(refusal_error::<P>(&closed).unwrap_or_else(|| {
                        ClientError::Handshake(format!("no listing: {closed}"))
                    }));
                }
                Ok(_) => {}
                Err(error) => return Err(connect_error(url, error)),
            }
        }
        Err(ClientError::Handshake(
            "no listing: the connection ended".to_owned(),
        ))
    })
    .await
    .map_err(|_| connect_error(url, "timed out waiting for the listing"))??;
    Ok(decode_listing(&answer)?)
}

/// Opens the TCP connection and upgrades it to a WebSocket offering this
/// protocol's subprotocol, and the resume offer when the client has a session.
async fn upgrade<P: Protocol>(
    url: &str,
    config: &ClientConfig,
    resume: Option<&ResumeOffer>,
) -> Result<Socket, ClientError> {
    let mut request = url
        .into_client_request()
        .map_err(|error| ClientError::Url {
            url: url.to_owned(),
            reason: error.to_string(),
        })?;
    let mut offered = handshake::subprotocol(P::FINGERPRINT);
    if let Some(resume) = resume {
        offered = format!("{offered}, {}", resume.subprotocol());
    }
    let offer = HeaderValue::from_str(&offered).map_err(|error| connect_error(url, error))?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offer);

    let ws_config = WebSocketConfig::default()
        .max_frame_size(Some(config.max_frame_len))
        .max_message_size(Some(config.max_frame_len));
    #[cfg(feature = "tls")]
    let connecting = {
        let connector = config
            .root_certificates
            .connector(request.uri().scheme_str())
            .map_err(|error| tls_error(url, error))?;
        tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(ws_config),
            true,
            Some(connector),
        )
    };
    #[cfg(not(feature = "tls"))]
    let connecting = tokio_tungstenite::connect_async_with_config(request, Some(ws_config), true);
    match timeout(config.connect_timeout, connecting).await {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(WsError::Http(response))) => {
            let server = response
                .headers()
                .get(handshake::FINGERPRINT_HEADER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| u64::from_str_radix(value, 16).ok());
            if server.is_some() {
                return Err(ClientError::ProtocolMismatch {
                    client: P::FINGERPRINT,
                    server,
                });
            }
            let reason = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned();
            let kind = response
                .headers()
                .get(handshake::REFUSAL_HEADER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse().ok())
                .and_then(RefusalKind::from_close_code);
            Err(ClientError::Refused {
                status: response.status().as_u16(),
                reason,
                kind,
            })
        }
        #[cfg(feature = "tls")]
        Ok(Err(WsError::Tls(error))) => Err(tls_error(url, error)),
        #[cfg(feature = "tls")]
        Ok(Err(WsError::Io(error))) if rustls_error(&error).is_some() => {
            let reason = rustls_error(&error).map_or_else(String::new, tls_failure);
            Err(tls_error(url, reason))
        }
        #[cfg(not(feature = "tls"))]
        Ok(Err(WsError::Url(
            tokio_tungstenite::tungstenite::error::UrlError::TlsFeatureNotEnabled,
        ))) => Err(ClientError::Url {
            url: url.to_owned(),
            reason: "wss:// needs nodelink's `tls` feature".to_owned(),
        }),
        Ok(Err(error)) => Err(connect_error(url, error)),
        Err(_) => Err(connect_error(url, "timed out")),
    }
}

#[cfg(feature = "tls")]
fn tls_error(url: &str, reason: impl std::fmt::Display) -> ClientError {
    ClientError::Tls {
        url: url.to_owned(),
        reason: reason.to_string(),
    }
}

/// The TLS layer's own error, when the handshake failed in TLS rather than on the
/// socket (tokio-rustls hands it over inside an `io::Error`).
#[cfg(feature = "tls")]
fn rustls_error(error: &std::io::Error) -> Option<&rustls::Error> {
    error.get_ref()?.downcast_ref::<rustls::Error>()
}

/// rustls's reason, with what to do about the commonest ones.
#[cfg(feature = "tls")]
fn tls_failure(error: &rustls::Error) -> String {
    use rustls::{CertificateError, Error};
    match error {
        // What `openssl req -x509` makes unless told otherwise. webpki's error
        // reaches rustls's API only as text.
        Error::InvalidCertificate(CertificateError::Other(other))
            if other.to_string().contains("CaUsedAsEndEntity") =>
        {
            format!(
                "{error}: the server presents a CA certificate as its own; make it \
                 with CA:FALSE (openssl: -addext basicConstraints=critical,CA:FALSE)"
            )
        }
        // An unknown issuer, or a root of the same name with another key (a
        // self-signed server's old certificate, kept by the client).
        Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => format!(
            "{error}: the server's certificate does not chain to a trusted root \
             (for a self-signed server, give its current certificate to \
             ClientConfig::root_certificates)"
        ),
        error => error.to_string(),
    }
}

/// Reads the server's first frame, which must be the welcome: `Ok(Err(_))` when
/// the server closed the connection instead, with its close frame's reason.
async fn welcome<P: Protocol>(
    url: &str,
    config: &ClientConfig,
    stream: &mut SplitStream<Socket>,
    counters: &Counters,
) -> Result<Result<Welcome, Disconnect>, ClientError> {
    match timeout(config.connect_timeout, stream.next()).await {
        Ok(Some(Ok(Message::Binary(bytes)))) => {
            Received::default().count(counters, &bytes, None);
            match decode_server_frame::<P>(&bytes, config.max_frame_len) {
                Ok(ServerFrame::Welcome(welcome)) => Ok(Ok(welcome)),
                Ok(_) => Err(ClientError::Handshake(
                    "the first frame was not a welcome".into(),
                )),
                Err(crate::DecodeError::WireVersion { .. }) => Err(ClientError::ProtocolMismatch {
                    client: P::FINGERPRINT,
                    server: None,
                }),
                Err(error) => Err(ClientError::Handshake(error.to_string())),
            }
        }
        Ok(Some(Ok(Message::Close(Some(frame))))) => Ok(Err(Disconnect::Closed {
            code: frame.code.into(),
            reason: frame.reason.to_string(),
        })),
        Ok(Some(Ok(Message::Close(None)))) => Err(ClientError::Handshake(
            "the server closed the connection: ".into(),
        )),
        Ok(Some(Ok(_))) => Err(ClientError::Handshake("unexpected first message".into())),
        Ok(Some(Err(error))) => Err(connect_error(url, error)),
        Ok(None) => Err(ClientError::Handshake(
            "the server closed the connection".into(),
        )),
        Err(_) => Err(ClientError::Handshake(
            "no welcome within the connect timeout".into(),
        )),
    }
}

/// Where the client connects: first as it was asked; then, once a welcome names
/// the match joined, to that match by its code to resume its session (also in a
/// server's default match, so that a resume through any gateway reaches the
/// process that holds the session), and to join afresh when it asked for a match
/// (to create, find or join one): a client that created a match must not create
/// another when it reconnects. A client of the default match joins the default
/// match afresh: a server restarted meanwhile has a new one.
#[derive(Debug)]
struct Target {
    /// The URL the client was given: its original request.
    first: String,
    /// The code of the match the last welcome named.
    match_code: Option<String>,
}

impl Target {
    /// The URL of the next attempt, which resumes a session or not.
    fn url(&self, resuming: bool) -> String {
        match &self.match_code {
            Some(code) if resuming || MatchRequest::names_a_match(&self.first) => {
                MatchRequest::join(code).apply(&self.first)
            }
            _ => self.first.clone(),
        }
    }

    /// Whether the next attempt asks for a match by its code where the client
    /// was first asked for something else.
    fn goes_by_code(&self, resuming: bool) -> bool {
        self.url(resuming) != self.first
    }
}

/// Connects (resuming the session, if the client has one), then serves the
/// connection until it ends. Returns `Err` only when no connection was
/// established, and leaves reporting how it ended to [`run`]. A disconnect
/// abandons the attempt at any point.
async fn serve<P: Protocol>(
    target: &mut Target,
    config: &ClientConfig,
    queue: &mut mpsc::Receiver<Bytes>,
    sender: &ClientSender<P>,
    stop: &mut watch::Receiver<bool>,
    deliver: &mut impl Deliver<P>,
    session: &mut Option<Session>,
) -> Result<Ended, ClientError> {
    let offer = session.as_ref().map(Session::offer);
    let url = target.url(offer.is_some());
    let url = url.as_str();
    // Biased: a disconnect made before this attempt wins before a socket is opened.
    let socket = tokio::select! {
        biased;
        () = stopped(stop) => None,
        socket = upgrade::<P>(url, config, offer.as_ref()) => Some(socket?),
    };
    let Some(socket) = socket else {
        return Ok(Ended::Stopped);
    };
    let (mut sink, mut stream) = socket.split();
    let welcome = tokio::select! {
        biased;
        () = stopped(stop) => None,
        welcome = welcome::<P>(url, config, &mut stream, &sender.counters) => Some(welcome?),
    };
    let welcome = match welcome {
        Some(Ok(welcome)) => welcome,
        Some(Err(closed)) => {
            if let Some(refused) = refusal_error::<P>(&closed) {
                return Err(refused);
            }
            if offer.is_some() {
                return Ok(Ended::Refused(closed));
            }
            let reason = match closed {
                Disconnect::Closed { reason, .. } => reason,
                other => other.to_string(),
            };
            return Err(ClientError::Handshake(format!(
                "the server closed the connection: {reason}"
            )));
        }
        None => {
            // The server may have made a player already: it sees it leave normally.
            close_normally(&mut sink, &mut stream).await;
            return Ok(Ended::Stopped);
        }
    };
    if welcome.fingerprint != P::FINGERPRINT {
        let _ = sink.close().await;
        return Err(ClientError::ProtocolMismatch {
            client: P::FINGERPRINT,
            server: Some(welcome.fingerprint),
        });
    }
    let resent = match (session.as_mut(), welcome.resume_token, welcome.resumed) {
        (Some(kept), Some(token), Some(server_received)) => {
            match kept.resume(token, server_received) {
                Ok(frames) => Some(frames),
                Err(gap) => {
                    // Never from a server that read the offer: it refuses a resume
                    // that would leave a gap. End the session rather than lose events.
                    close_normally(&mut sink, &mut stream).await;
                    if let Some(reason) = session.take().and_then(|session| session.paused) {
                        deliver.disconnected(reason);
                    }
                    return Err(ClientError::Handshake(format!(
                        "the server resumed the session after {} of this client's events, \
                         but it sent {} and keeps those after {}",
                        gap.server_received, gap.sent, gap.forgotten
                    )));
                }
            }
        }
        _ => None,
    };
    target.match_code.clone_from(&welcome.settings.match_code);
    let counters = &*sender.counters;
    counters.welcomed(resent.is_some());
    match resent {
        Some(frames) => {
            deliver.resumed(welcome, sender);
            // What the server never read goes first, in its order, then the queue.
            for frame in frames {
                counters.sent(frame.len());
                if let Err(error) = sink.feed(Message::Binary(frame)).await {
                    return Ok(Ended::Closed(Disconnect::Lost(error.to_string())));
                }
            }
            if let Err(error) = sink.flush().await {
                return Ok(Ended::Closed(Disconnect::Lost(error.to_string())));
            }
        }
        None => {
            if let Some(reason) = session.take().and_then(|session| session.paused) {
                // A server that does not resume sessions started a new one: the old
                // one is over.
                deliver.disconnected(reason);
            }
            *session = welcome
                .resume_token
                .map(|token| Session::new(token, config.resume_buffer_len));
            deliver.connected(welcome, sender);
        }
    }

    let mut received = Received::default();
    let reason = loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    if let Some(session) = session.as_mut() {
                        session.received(&bytes);
                    }
                    let decoded = decode_server_frame::<P>(&bytes, config.max_frame_len);
                    let header = match &decoded {
                        Ok(ServerFrame::Sync(frame)) => Some(&frame.header),
                        _ => None,
                    };
                    received.count(counters, &bytes, header);
                    match decoded {
                        Ok(ServerFrame::Event(event)) => deliver.event(event, sender),
                        Ok(ServerFrame::Sync(frame)) => deliver.sync(frame, sender),
                        Ok(ServerFrame::Ping { seq, rtt_us }) => {
                            // Answered at once, ahead of queued events, so the
                            // measured round trip is the network's.
                            let pong = encode_pong(seq);
                            counters.sent(pong.len());
                            if let Err(error) = sink.send(Message::Binary(pong)).await {
                                break Disconnect::Lost(error.to_string());
                            }
                            if rtt_us > 0 {
                                deliver.latency(Duration::from_micros(rtt_us.into()));
                            }
                        }
                        Ok(ServerFrame::Welcome(_)) => deliver.error(ClientError::Handshake("a second welcome".into())),
                        Err(error) => deliver.error(error.into()),
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    break match frame {
                        Some(frame) => Disconnect::Closed { code: frame.code.into(), reason: frame.reason.to_string() },
                        None => Disconnect::Closed { code: 1005, reason: String::new() },
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => break Disconnect::Lost(error.to_string()),
                None => break Disconnect::Lost("the server closed the socket".into()),
            },
            Some(first) = queue.recv() => {
                let mut next = Some(first);
                let mut failed = None;
                while let Some(frame) = next {
                    if let Some(session) = session.as_mut() {
                        session.sending(&frame);
                    }
                    counters.sent(frame.len());
                    if let Err(error) = sink.feed(Message::Binary(frame)).await {
                        failed = Some(error);
                        break;
                    }
                    next = queue.try_recv().ok();
                }
                if let Some(error) = failed.or(sink.flush().await.err()) {
                    break Disconnect::Lost(error.to_string());
                }
            }
            () = stopped(stop) => {
                close_normally(&mut sink, &mut stream).await;
                break Disconnect::Local;
            }
        }
    };
    Ok(Ended::Closed(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_servers_fingerprint() {
        assert_eq!(
            server_fingerprint(
                "protocol mismatch: server fingerprint 4874c71316f5ad11, client fingerprint 0123456789abcdef"
            ),
            Some(0x4874_c713_16f5_ad11)
        );
        assert_eq!(
            server_fingerprint(
                "unsupported nodelink wire version: this server speaks nodelink.2.4874c71316f5ad11"
            ),
            Some(0x4874_c713_16f5_ad11)
        );
        assert_eq!(server_fingerprint("server full"), None);
    }

    #[test]
    fn a_relay_that_lost_the_host_is_resumed_and_one_whose_game_ended_is_left() {
        let closed = |code: u16| Disconnect::Closed {
            code,
            reason: String::new(),
        };
        assert!(resumable(&closed(4101)));
        assert!(worth_reconnecting(&closed(4101)));
        assert!(!resumable(&closed(4100)));
        assert!(!worth_reconnecting(&closed(4100)));
        assert!(!worth_reconnecting(&closed(4103)));
        assert!(worth_reconnecting(&closed(4001)));
    }

    #[test]
    fn a_resume_goes_to_the_match_by_its_code_and_a_new_start_as_first_asked() {
        let default = Target {
            first: "ws://gateway.example/".to_owned(),
            match_code: Some("K7MQ4P".to_owned()),
        };
        assert_eq!(
            default.url(true),
            "ws://gateway.example/?match=join&code=K7MQ4P"
        );
        assert_eq!(default.url(false), "ws://gateway.example/");
        assert!(default.goes_by_code(true) && !default.goes_by_code(false));
        let created = Target {
            first: "ws://gateway.example/?match=create&kind=game".to_owned(),
            match_code: Some("K7MQ4P".to_owned()),
        };
        assert_eq!(
            created.url(false),
            "ws://gateway.example/?match=join&code=K7MQ4P"
        );
        let joined = Target {
            first: "ws://gateway.example/?match=join&code=K7MQ4P".to_owned(),
            match_code: Some("K7MQ4P".to_owned()),
        };
        assert!(!joined.goes_by_code(true), "already asked by its code");
        let lost = Target {
            match_code: None,
            ..created
        };
        assert_eq!(lost.url(true), lost.first);
    }

    #[test]
    fn a_lost_process_is_left_for_another() {
        let lost = Disconnect::Closed {
            code: CloseReason::ProcessLost.code(),
            reason: "game process lost".to_owned(),
        };
        assert!(worth_reconnecting(&lost));
        assert!(!resumable(&lost));
    }

    #[test]
    fn a_match_that_ended_is_not_rejoined() {
        let ended = Disconnect::Closed {
            code: CloseReason::MatchEnded.code(),
            reason: "match ended".to_owned(),
        };
        assert!(!worth_reconnecting(&ended));
        assert!(!resumable(&ended));
    }
}
