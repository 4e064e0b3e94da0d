//! Hosting through a relay: the server connects outward to a `nodelink-relay`,
//! gets a game code, and serves the players who join with it, with no listening
//! port of its own (the twin of Python nodelink's `Server(relay_url=…)`).
//!
//! The relay forwards each joining player's upgrade request over the host's
//! control link and holds it; the player then goes through this server's own
//! admission (per-IP cap on its original address, origin, subprotocol and
//! fingerprint, capacity, the authentication hook) exactly as a direct connection,
//! and is refused as one: with the HTTP refusal the relay answers for the host,
//! or, to a player that asked for refusals as close codes, with a data connection
//! of its own that is closed at once with the refusal's code.
//! An admitted player gets a data connection of its own to the relay, spliced to
//! the player's socket, over which it plays as any other connection: native
//! frames stay binary, and one slow player never holds up another. PROTOCOL.md's
//! "Relay" section is the contract.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::server::error::RunError;
use crate::server::port::Io;
use crate::server::transport::admission::{self, IpCounts, IpSlot};
use crate::server::transport::connection::{websocket_config, Context};
use crate::server::transport::refusal;
use crate::server::transport::request::HandshakeRequest;
use crate::server::{Server, ServerHandle};
use crate::Protocol;

type Link = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the relay has to answer the control link's opening.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(10);
/// The first wait before reconnecting a lost control link; it doubles up to
/// [`MAX_RECONNECT_DELAY`].
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(100);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);
/// The most refusals waiting to go out on the control link; past it a refused
/// player is dropped without an answer (the relay times it out).
const REFUSAL_QUEUE_LEN: usize = 256;

/// A control message from the relay.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromRelay {
    Registered {
        code: String,
        token: String,
        #[serde(default)]
        grace_seconds: u64,
    },
    Player {
        cid: String,
        peer: String,
        target: String,
        headers: Vec<(String, String)>,
    },
    /// A held player left before it was accepted; its `cid` is not read: an
    /// admission in flight ends on its own when its data connection is refused.
    Gone {},
}

/// A control message to the relay.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToRelay {
    Refuse {
        cid: String,
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
    },
}

/// What the relay said when the control link opened.
#[derive(Debug, Clone)]
struct Registration {
    code: String,
    token: String,
    grace: Duration,
}

/// A server registered on a relay: its game code is known; [`run`](Self::run)
/// serves the players who join with it.
///
/// ```no_run
/// # use nodelink::{Protocol, SyncState, PlayerId};
/// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// # pub struct Avatar { pub x: f32 }
/// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
/// # pub enum ToServer { Move { x: f32 } }
/// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
/// # pub enum ToClient { Joined { id: PlayerId } }
/// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// # pub struct Game;
/// use nodelink::server::{Server, ServerConfig};
///
/// # async fn host() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::<Game>::new(ServerConfig::default());
/// let hosted = server.relay("ws://relay.example.com:9000").await?;
/// println!("tell your friends: {}", hosted.code());
/// hosted.run().await;
/// # Ok(())
/// # }
/// ```
pub struct RelayedServer<P: Protocol, G = ()> {
    server: Server<P, G>,
    relay: String,
    link: Link,
    registration: Registration,
    codes: watch::Sender<String>,
}

impl<P: Protocol, G> std::fmt::Debug for RelayedServer<P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayedServer")
            .field("relay", &self.relay)
            .field("code", &self.registration.code)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Registers on the relay at `relay_url` (`ws://` or `wss://`, its root, e.g.
    /// `ws://relay.example.com:9000`) instead of binding a port, and learns the
    /// game code players join with. The twin of Python nodelink's
    /// `Server(relay_url=…)`. `ServerConfig::host` and `port` are not used.
    ///
    /// # Errors
    /// [`RunError::Relay`] when the relay cannot be reached or does not register
    /// the game within 10 seconds.
    pub async fn relay(self, relay_url: &str) -> Result<RelayedServer<P, G>, RunError> {
        let relay = relay_url.trim_end_matches('/').to_owned();
        let (link, registration) =
            register(&relay, None, &self.config)
                .await
                .map_err(|refused| RunError::Relay {
                    url: relay.clone(),
                    reason: match refused {
                        Refused::Gone => "the relay refused a new game (410)".to_owned(),
                        Refused::Other(reason) => reason,
                    },
                })?;
        tracing::info!(
            "registered on the relay {relay}: game code {}",
            registration.code
        );
        let (codes, _) = watch::channel(registration.code.clone());
        Ok(RelayedServer {
            server: self,
            relay,
            link,
            registration,
            codes,
        })
    }
}

impl<P: Protocol, G: Send + 'static> RelayedServer<P, G> {
    /// The game code players join with (`Client::from_code`, Python's
    /// `Client(code=…, relay_url=…)`).
    #[must_use]
    pub fn code(&self) -> &str {
        &self.registration.code
    }

    /// The URL players connect to: `<relay>/join/<code>`.
    #[must_use]
    pub fn join_url(&self) -> String {
        crate::wire::relay_join_url(&self.relay, &self.registration.code)
    }

    /// The URL players connect to for the game `code` on the relay at
    /// `relay_url`, as [`Client::from_code`](crate::client::Client::from_code)
    /// builds it (for clients made with other settings).
    ///
    /// ```
    /// # use nodelink::{Protocol, SyncState, PlayerId};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32 }
    /// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
    /// # pub enum ToServer { Move { x: f32 } }
    /// # #[nodelink::events] #[derive(Debug, Clone, PartialEq)]
    /// # pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// use nodelink::server::RelayedServer;
    ///
    /// let url = RelayedServer::<Game>::join_url_for("wss://relay.example.com", "k7mq4p");
    /// assert_eq!(url, "wss://relay.example.com/join/K7MQ4P");
    /// ```
    #[must_use]
    pub fn join_url_for(relay_url: &str, code: &str) -> String {
        crate::wire::relay_join_url(relay_url, code)
    }

    /// The game code as it changes: the relay keeps a code while the host's link
    /// is down for less than its grace period; after that the host registers
    /// again under a new one.
    #[must_use]
    pub fn codes(&self) -> watch::Receiver<String> {
        self.codes.subscribe()
    }

    /// A handle to the server.
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.server.handle()
    }

    /// Serves the relay's players until [`ServerHandle::shutdown`], reconnecting
    /// the control link when it drops (players already in play keep playing: each
    /// has its own data connection); returns once every connection has closed.
    pub async fn run(self) {
        let RelayedServer {
            server,
            relay,
            link,
            mut registration,
            codes,
        } = self;
        let (context, mut tasks) = server.into_runtime().run();
        let per_ip = IpCounts::default();
        let (refusals_tx, mut refusals) = mpsc::channel::<ToRelay>(REFUSAL_QUEUE_LEN);
        let mut link = Some(link);
        loop {
            let next = tasks.next(async {
                let Some(control) = link.as_mut() else {
                    return Step::Lost;
                };
                tokio::select! {
                    message = control.next() => match message {
                        Some(Ok(Message::Text(text))) => Step::Message(text.to_string()),
                        Some(Ok(Message::Close(_)) | Err(_)) | None => Step::Lost,
                        Some(Ok(_)) => Step::Ignored,
                    },
                    Some(refusal) = refusals.recv() => Step::Send(refusal),
                }
            });
            let Some(step) = next.await else { break };
            match step {
                Step::Message(text) => match serde_json::from_str::<FromRelay>(&text) {
                    Ok(FromRelay::Player {
                        cid,
                        peer,
                        target,
                        headers,
                    }) => {
                        let peer: SocketAddr = peer
                            .parse()
                            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
                        let slot = IpSlot::take(&per_ip, peer.ip());
                        let player = RelayedPlayer {
                            relay: relay.clone(),
                            token: registration.token.clone(),
                            cid,
                            peer,
                            target,
                            headers,
                        };
                        tasks.spawn(player.serve(context.clone(), slot, refusals_tx.clone()));
                    }
                    Ok(FromRelay::Gone { .. } | FromRelay::Registered { .. }) => {}
                    Err(error) => {
                        tracing::warn!("relay control message not understood: {error}");
                    }
                },
                Step::Send(refusal) => {
                    if let (Some(control), Ok(text)) =
                        (link.as_mut(), serde_json::to_string(&refusal))
                    {
                        if control.send(Message::Text(text.into())).await.is_err() {
                            link = None;
                        }
                    }
                }
                Step::Ignored => {}
                Step::Lost => {
                    link = None;
                    tracing::warn!("lost the relay link; reconnecting");
                    let again = tasks.next(reconnect(&relay, &registration, &context));
                    let Some((control, renewed)) = again.await else {
                        break;
                    };
                    if renewed.code != registration.code {
                        tracing::warn!(
                            "the relay gave a new game code {} (the link was down longer than its grace period)",
                            renewed.code
                        );
                        codes.send_replace(renewed.code.clone());
                    }
                    registration = renewed;
                    link = Some(control);
                }
            }
        }
        if let Some(mut control) = link {
            // A normal close ends the game on the relay at once: no grace period.
            let normal = CloseFrame {
                code: CloseCode::Normal,
                reason: "server shutting down".into(),
            };
            let _ = timeout(context.config.close_timeout, control.close(Some(normal))).await;
        }
        drop(context);
        tasks.stop().await;
    }
}

enum Step {
    Message(String),
    Send(ToRelay),
    Ignored,
    Lost,
}

/// Reconnects the control link, presenting the registration's token so the relay
/// keeps the code; retries with a doubling delay until it succeeds (or the server
/// shuts down, which drops this future).
async fn reconnect(
    relay: &str,
    registration: &Registration,
    context: &Context,
) -> (Link, Registration) {
    let mut delay = FIRST_RECONNECT_DELAY;
    let mut token = Some(registration.token.as_str());
    let started = tokio::time::Instant::now();
    loop {
        match register(relay, token, &context.config).await {
            Ok(done) => return done,
            // The game ended on the relay (the link was down past the grace
            // period): register afresh, under a new code.
            Err(Refused::Gone) => token = None,
            Err(Refused::Other(reason)) => {
                tracing::debug!("relay reconnection failed: {reason}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                if started.elapsed() > registration.grace {
                    token = None;
                }
            }
        }
    }
}

/// Why the control link could not be opened.
enum Refused {
    /// The relay no longer knows the game (410): its token is worthless.
    Gone,
    Other(String),
}

impl From<String> for Refused {
    fn from(reason: String) -> Self {
        Self::Other(reason)
    }
}

/// Opens the control link and reads the registration.
async fn register(
    relay: &str,
    token: Option<&str>,
    config: &crate::server::ServerConfig,
) -> Result<(Link, Registration), Refused> {
    let url = match token {
        Some(token) => format!("{relay}/link?token={}", percent_encode(token)),
        None => format!("{relay}/link"),
    };
    let (mut link, _) = match timeout(REGISTER_TIMEOUT, open(&url, config)).await {
        Err(_) => return Err("the relay did not answer within 10 s".to_owned().into()),
        Ok(Err(WsError::Http(response))) if response.status() == 410 => return Err(Refused::Gone),
        Ok(Err(error)) => return Err(error.to_string().into()),
        Ok(Ok(link)) => link,
    };
    let registered = timeout(REGISTER_TIMEOUT, async {
        while let Some(message) = link.next().await {
            if let Message::Text(text) = message.map_err(|error| error.to_string())? {
                if let Ok(FromRelay::Registered {
                    code,
                    token,
                    grace_seconds,
                }) = serde_json::from_str(&text)
                {
                    return Ok(Registration {
                        code,
                        token,
                        grace: Duration::from_secs(grace_seconds),
                    });
                }
            }
        }
        Err("the relay closed the link before registering the game".to_owned())
    })
    .await
    .map_err(|_| "the relay did not register the game within 10 s".to_owned())??;
    Ok((link, registration_checked(registered)?))
}

fn registration_checked(registration: Registration) -> Result<Registration, String> {
    if registration.code.is_empty() || registration.token.is_empty() {
        return Err("the relay registered the game without a code or token".to_owned());
    }
    Ok(registration)
}

/// Opens a WebSocket to the relay: over TLS for a `wss://` relay, trusting
/// [`ServerConfig::relay_root_certificates`](crate::server::ServerConfig::relay_root_certificates).
async fn open(
    url: &str,
    config: &crate::server::ServerConfig,
) -> Result<
    (
        Link,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    WsError,
> {
    #[cfg(feature = "tls")]
    {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        let connector = config
            .relay_root_certificates
            .connector(scheme)
            .map_err(|error| WsError::Io(std::io::Error::other(error)))?;
        tokio_tungstenite::connect_async_tls_with_config(
            url,
            Some(websocket_config(config)),
            true,
            Some(connector),
        )
        .await
    }
    #[cfg(not(feature = "tls"))]
    {
        tokio_tungstenite::connect_async_with_config(url, Some(websocket_config(config)), true)
            .await
    }
}

/// Opens a data connection to the relay (over TLS for a `wss://` relay, as
/// [`open`]), its stream boxed as every connection a match plays.
async fn open_io(
    url: &str,
    config: &crate::server::ServerConfig,
) -> Result<WebSocketStream<Io>, WsError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::error::UrlError;

    let request = url.into_client_request()?;
    let uri = request.uri();
    let secure = uri.scheme_str() == Some("wss");
    let host = uri
        .host()
        .ok_or(WsError::Url(UrlError::NoHostName))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(WsError::Io)?;
    let _ = tcp.set_nodelay(true);
    let io: Io = if secure {
        #[cfg(feature = "tls")]
        {
            let tls = config
                .relay_root_certificates
                .client_config()
                .map_err(|error| WsError::Io(std::io::Error::other(error)))?;
            let name = rustls::pki_types::ServerName::try_from(host)
                .map_err(|error| WsError::Io(std::io::Error::other(error)))?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(WsError::Io)?;
            Box::new(stream)
        }
        #[cfg(not(feature = "tls"))]
        return Err(WsError::Url(UrlError::TlsFeatureNotEnabled));
    } else {
        Box::new(tcp)
    };
    let (socket, _) =
        tokio_tungstenite::client_async_with_config(request, io, Some(websocket_config(config)))
            .await?;
    Ok(socket)
}

/// A player the relay holds for this server's verdict.
struct RelayedPlayer {
    relay: String,
    token: String,
    cid: String,
    peer: SocketAddr,
    target: String,
    headers: Vec<(String, String)>,
}

impl RelayedPlayer {
    /// Admits the player as a direct connection would be, then plays it over a
    /// data connection of its own; or has the relay refuse it with the same answer.
    async fn serve(mut self, context: Context, slot: IpSlot, refusals: mpsc::Sender<ToRelay>) {
        let (path, query) = match self.target.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (self.target.clone(), None),
        };
        let headers = std::mem::take(&mut self.headers);
        let request = HandshakeRequest::new(path, query, headers, self.peer);
        let wants_close = refusal::wants_close(&request);
        let admitted = match admission::admit(&context, request, &slot).await {
            Ok(admitted) => admitted,
            Err(refused) if wants_close && refusal::has_close_code(&refused) => {
                context.refusals.report(self.peer, &refused);
                // Accepted with a data connection of its own, which is closed at
                // once with the refusal's code: the relay passes the close frame
                // on to the player. Within the handshake timeout, the place held.
                let url = self.accept_url(Some(crate::wire::REFUSALS_SUBPROTOCOL));
                let config = &context.config;
                let _ = timeout(config.handshake_timeout, async {
                    match open(&url, config).await {
                        Ok((socket, _)) => refusal::close(socket, &refused, config.close_timeout).await,
                        Err(error) => {
                            tracing::debug!(peer = %self.peer, "relay data connection failed: {error}")
                        }
                    }
                })
                .await;
                drop(slot);
                return;
            }
            Err(refused) => {
                drop(slot);
                context.refusals.report(self.peer, &refused);
                let headers = refused
                    .headers()
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone()))
                    .collect();
                let _ = refusals.try_send(ToRelay::Refuse {
                    cid: self.cid,
                    status: refused.status,
                    reason: refused.body,
                    headers,
                });
                return;
            }
        };
        let url = self.accept_url(admitted.subprotocol.as_deref());
        let connecting = open_io(&url, &context.config);
        match timeout(context.config.handshake_timeout, connecting).await {
            Ok(Ok(socket)) => {
                admitted
                    .play(socket, self.peer, context.config.clone())
                    .await;
            }
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, "relay data connection failed: {error}")
            }
            Err(_) => tracing::debug!(peer = %self.peer, "relay data connection timed out"),
        }
        drop(slot);
    }
}

impl RelayedPlayer {
    /// The data connection's URL, asking the relay to answer the player's upgrade
    /// with `subprotocol`.
    fn accept_url(&self, subprotocol: Option<&str>) -> String {
        let mut url = format!(
            "{}/link/accept/{}?token={}",
            self.relay,
            percent_encode(&self.cid),
            percent_encode(&self.token)
        );
        if let Some(subprotocol) = subprotocol {
            url.push_str("&subprotocol=");
            url.push_str(&percent_encode(subprotocol));
        }
        url
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for query
/// values and path segments.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_urls_upper_case_the_code_and_drop_a_trailing_slash() {
        assert_eq!(
            crate::wire::relay_join_url("ws://relay:9000/", " k7mq4p "),
            "ws://relay:9000/join/K7MQ4P"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encode("nodelink.2.ab"), "nodelink.2.ab");
        assert_eq!(percent_encode("a b/c?d"), "a%20b%2Fc%3Fd");
    }

    #[test]
    fn control_messages_read_as_specified() {
        let player: FromRelay = serde_json::from_str(
            r#"{"type":"player","cid":"c1","peer":"203.0.113.7:51234","target":"/join/K7MQ4P?name=ann","headers":[["origin","https://example.com"]]}"#,
        )
        .unwrap();
        assert!(matches!(player, FromRelay::Player { cid, .. } if cid == "c1"));
        let refusal = serde_json::to_string(&ToRelay::Refuse {
            cid: "c1".into(),
            status: 400,
            reason: "no".into(),
            headers: vec![("x-nodelink-fingerprint".into(), "4874c71316f5ad11".into())],
        })
        .unwrap();
        assert_eq!(
            refusal,
            r#"{"type":"refuse","cid":"c1","status":400,"reason":"no","headers":[["x-nodelink-fingerprint","4874c71316f5ad11"]]}"#
        );
    }
}
