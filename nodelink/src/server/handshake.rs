//! The HTTP side of accepting a connection: read the upgrade request (bounded),
//! decide whether to admit it (per-IP cap, origin, protocol, capacity,
//! authentication), then let the WebSocket layer answer.
//!
//! The request is read here rather than inside the WebSocket handshake so that the
//! authentication hook can be `async`: the bytes read are replayed to the WebSocket
//! layer afterwards.

use std::any::Any;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::server::config::WireFormats;
use crate::wire::handshake as wire;
use crate::wire::WireFormat;

/// The most bytes an upgrade request may take; a longer one is refused.
const MAX_REQUEST_LEN: usize = 8 * 1024;

/// What the authentication hook sees of a connection's upgrade request.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    peer: SocketAddr,
}

impl HandshakeRequest {
    /// The request path, without the query (`/play`).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string, without the `?`.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// A query parameter's value, percent-decoded (`?token=abc` → `"abc"`).
    #[must_use]
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key) == name).then(|| percent_decode(value))
        })
    }

    /// A header's value (the first, if repeated); names are case-insensitive.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every header, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The peer's address.
    #[must_use]
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why the authentication hook refused a connection: sent as the HTTP status and
/// body of the refused upgrade. No player is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    status: u16,
    reason: String,
}

impl Rejection {
    /// HTTP 401: the client did not prove who it is.
    #[must_use]
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self {
            status: 401,
            reason: reason.into(),
        }
    }

    /// HTTP 403: the client is known and not allowed.
    #[must_use]
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self {
            status: 403,
            reason: reason.into(),
        }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason sent in the body.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// What an accepted connection's authentication attached to its player.
pub(crate) type Identity = Arc<dyn Any + Send + Sync>;

type AuthFuture = Pin<Box<dyn Future<Output = Result<Identity, Rejection>> + Send>>;

/// The user's authentication hook, type-erased.
pub(crate) type Authenticator = Arc<dyn Fn(HandshakeRequest) -> AuthFuture + Send + Sync>;

pub(crate) fn authenticator<F, Fut, I>(hook: F) -> Authenticator
where
    F: Fn(HandshakeRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<I, Rejection>> + Send + 'static,
    I: Send + Sync + 'static,
{
    Arc::new(move |request| {
        let future = hook(request);
        Box::pin(async move { future.await.map(|identity| Arc::new(identity) as Identity) })
    })
}

/// Why an upgrade is refused, as an HTTP response.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// The server's fingerprint, when the refusal is a protocol mismatch.
    pub(crate) fingerprint: Option<u64>,
}

impl Refusal {
    pub(crate) fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            fingerprint: None,
        }
    }
}

/// An admitted connection: its wire, the subprotocol to echo (native clients) and
/// the identity to attach.
#[derive(Debug)]
pub(crate) struct Admission {
    pub(crate) wire: WireFormat,
    pub(crate) subprotocol: Option<String>,
    pub(crate) identity: Option<Identity>,
}

/// What the server knows when it decides whether to admit a connection.
pub(crate) struct Gate<'a> {
    pub(crate) fingerprint: u64,
    pub(crate) wire_formats: WireFormats,
    pub(crate) over_ip_cap: bool,
    pub(crate) server_full: bool,
    pub(crate) allowed_origins: Option<&'a [String]>,
    pub(crate) authenticate: Option<&'a Authenticator>,
}

impl Gate<'_> {
    /// Checks the cheap things first, so a refused client never reaches the
    /// authentication hook.
    pub(crate) async fn admit(&self, request: HandshakeRequest) -> Result<Admission, Refusal> {
        if self.over_ip_cap {
            return Err(Refusal::new(429, "too many connections from your address"));
        }
        if let (Some(allowed), Some(origin)) = (self.allowed_origins, request.header("origin")) {
            if !allowed.iter().any(|allowed| allowed == origin) {
                return Err(Refusal::new(403, format!("origin {origin} is not allowed")));
            }
        }
        let (wire, subprotocol) = self.protocol(&request)?;
        if self.server_full {
            return Err(Refusal::new(503, "server full"));
        }
        let identity = match self.authenticate {
            Some(hook) => Some(
                hook(request)
                    .await
                    .map_err(|r| Refusal::new(r.status, r.reason))?,
            ),
            None => None,
        };
        Ok(Admission {
            wire,
            subprotocol,
            identity,
        })
    }

    /// Picks the connection's wire. A client offering this build's subprotocol speaks
    /// the native wire; one offering no nodelink subprotocol speaks JSON. A client
    /// built with another protocol (another fingerprint or wire version) is refused
    /// with a 400 that names both fingerprints, never served JSON instead.
    fn protocol(
        &self,
        request: &HandshakeRequest,
    ) -> Result<(WireFormat, Option<String>), Refusal> {
        let offered = request
            .headers()
            .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-protocol"))
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim);
        let mut ours = None;
        let mut other = None;
        for protocol in offered {
            match wire::parse_subprotocol(protocol) {
                Some(theirs) if theirs == self.fingerprint => ours = Some(protocol.to_owned()),
                Some(theirs) => other = Some(Some(theirs)),
                None if protocol.starts_with("nodelink.") => other = other.or(Some(None)),
                None => {}
            }
        }
        let refuse = |body: String| Refusal {
            status: 400,
            body,
            fingerprint: Some(self.fingerprint),
        };
        match (ours, other) {
            // Not a mismatch: no fingerprint header, which the client would report as one.
            (Some(_), _) if !self.wire_formats.accepts(WireFormat::Native) => Err(Refusal::new(
                400,
                "this server speaks only the JSON wire: connect without the nodelink subprotocol",
            )),
            (Some(ours), _) => Ok((WireFormat::Native, Some(ours))),
            (None, Some(Some(theirs))) => Err(refuse(format!(
                "protocol mismatch: server fingerprint {:016x}, client fingerprint {theirs:016x}",
                self.fingerprint
            ))),
            (None, Some(None)) => Err(refuse(format!(
                "unsupported nodelink wire version: this server speaks {}",
                wire::subprotocol(self.fingerprint)
            ))),
            (None, None) if self.wire_formats.accepts(WireFormat::Json) => {
                Ok((WireFormat::Json, None))
            }
            (None, None) => Err(refuse(format!(
                "not a nodelink client: expected the WebSocket subprotocol {}",
                wire::subprotocol(self.fingerprint)
            ))),
        }
    }
}

/// Reads the upgrade request's head (up to the blank line).
pub(crate) async fn read_request(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&chunk[..read]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(head);
        }
        if head.len() > MAX_REQUEST_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
}

/// Parses the request head; `None` if it is not an HTTP request.
pub(crate) fn parse_request(head: &[u8], peer: SocketAddr) -> Option<HandshakeRequest> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    request.parse(head).ok()?;
    let target = request.path?;
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.to_owned(), None),
    };
    let headers = request
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Some(HandshakeRequest {
        path,
        query,
        headers,
        peer,
    })
}

/// A stream that first yields bytes already read from it.
#[derive(Debug)]
pub(crate) struct Replay<S> {
    read: Vec<u8>,
    position: usize,
    inner: S,
}

impl<S> Replay<S> {
    pub(crate) fn new(read: Vec<u8>, inner: S) -> Self {
        Self {
            read,
            position: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Replay<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.position < this.read.len() {
            let rest = &this.read[this.position..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.position += n;
            if this.position == this.read.len() {
                this.read = Vec::new();
                this.position = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Replay<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &str) -> HandshakeRequest {
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        parse_request(head.as_bytes(), "127.0.0.1:1".parse().unwrap()).unwrap()
    }

    #[test]
    fn query_parameters_are_percent_decoded() {
        let req = request("/play?token=a%20b%2Bc&empty=&flag", "");
        assert_eq!(req.path(), "/play");
        assert_eq!(req.query_param("token").as_deref(), Some("a b+c"));
        assert_eq!(req.query_param("empty").as_deref(), Some(""));
        assert_eq!(req.query_param("flag").as_deref(), Some(""));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn headers_are_case_insensitive() {
        let req = request("/", "Origin: https://a.example\r\n");
        assert_eq!(req.header("origin"), Some("https://a.example"));
        assert_eq!(req.header("ORIGIN"), Some("https://a.example"));
    }

    #[test]
    fn garbage_is_not_a_request() {
        assert!(parse_request(
            b"\x16\x03\x01garbage\r\n\r\n",
            "127.0.0.1:1".parse().unwrap()
        )
        .is_none());
    }
}
