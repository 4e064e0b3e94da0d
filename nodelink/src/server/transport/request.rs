//! The HTTP request that opens a connection: what the authentication hook sees of
//! it and how it answers, and how the stand-alone server reads it off the socket.
//!
//! The stand-alone server reads the request here rather than inside the WebSocket
//! handshake so that admission (and its `async` authentication hook) can run
//! first: the bytes read are replayed to the WebSocket layer afterwards. The
//! stream is the accepted socket, or the TLS stream over it.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_tungstenite::tungstenite::http::Response;

use crate::server::port::Identity;

/// The most bytes an upgrade request may take; a longer one is refused.
const MAX_REQUEST_LEN: usize = 8 * 1024;

/// What the authentication hook sees of a connection's upgrade request.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    peer: SocketAddr,
    pub(crate) resume: bool,
}

impl HandshakeRequest {
    pub(crate) fn new(
        path: String,
        query: Option<String>,
        headers: Vec<(String, String)>,
        peer: SocketAddr,
    ) -> Self {
        Self {
            path,
            query,
            headers,
            peer,
            resume: false,
        }
    }

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

    /// Whether the client asks to resume a session (its connection dropped and
    /// it comes back with the session's token) rather than to join. The hook runs
    /// for resumes too; whatever it returns for one, the player keeps the identity
    /// it joined with. A hook that checks single-use credentials can let a resume
    /// through on its token alone:
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig, Rejection};
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)]
    /// # pub struct Game;
    /// # fn redeem(ticket: &str) -> bool { ticket == "once" }
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.authenticate(|request| async move {
    ///     if request.is_resume() || request.query_param("ticket").is_some_and(|t| redeem(&t)) {
    ///         Ok(())
    ///     } else {
    ///         Err(Rejection::unauthorized("a ticket is required"))
    ///     }
    /// });
    /// ```
    #[must_use]
    pub fn is_resume(&self) -> bool {
        self.resume
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

/// The address a request comes from: its peer, or, when the peer is one of the
/// `trusted` proxies and names the player in `X-Forwarded-For`, the right-most
/// address there that is not a trusted proxy itself (port 0: the header has none).
/// Every `X-Forwarded-For` header counts, in order, as one comma-separated list.
pub(crate) fn forwarded_peer(request: &HandshakeRequest, trusted: &[IpAddr]) -> SocketAddr {
    let peer = request.peer;
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-forwarded-for"))
        .flat_map(|(_, value)| value.split(','))
        .filter_map(forwarded_ip)
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .or(forwarded.first())
        .map_or(peer, |ip| SocketAddr::new(*ip, 0))
}

/// One entry of `X-Forwarded-For`: an address, or one with a port
/// (`203.0.113.7:5123`, `[2001:db8::1]:5123`); `None` for anything else
/// (`unknown`, a name).
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

impl HandshakeRequest {
    /// The request as if it came from `peer` (the player behind a trusted proxy).
    pub(crate) fn with_peer(mut self, peer: SocketAddr) -> Self {
        self.peer = peer;
        self
    }
}

/// Reads the upgrade request's head (up to the blank line).
pub(crate) async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Vec<u8>> {
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

/// Writes a refusal, then closes: the stand-alone server's side of what an HTTP
/// server does for a router. One write, so a client that reads the head gets the
/// body with it.
pub(crate) async fn write_response<S: AsyncWrite + Unpin>(
    stream: &mut S,
    response: Response<String>,
) {
    let status = response.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Refused")
    );
    for (name, value) in response.headers() {
        if let Ok(value) = value.to_str() {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    let body = response.body();
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    if stream.write_all(out.as_bytes()).await.is_ok() {
        let _ = stream.shutdown().await;
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
    Some(HandshakeRequest::new(path, query, headers, peer))
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

impl<S> Replay<S> {
    /// The stream itself once everything read ahead has been replayed, so that
    /// what reads it next reads the stream alone.
    pub(crate) fn into_drained(self) -> Result<S, Self> {
        if self.position < self.read.len() {
            return Err(self);
        }
        Ok(self.inner)
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

    // A frame's header and its shared payload go out in one system call.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
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
    fn a_trusted_proxy_names_the_player() {
        let gateway: IpAddr = "10.0.0.7".parse().unwrap();
        let edge: IpAddr = "10.0.0.8".parse().unwrap();
        let from = |peer: &str, headers: &str| {
            let head = format!("GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
            parse_request(head.as_bytes(), peer.parse().unwrap()).unwrap()
        };
        let player = "203.0.113.7:0".parse::<SocketAddr>().unwrap();
        // From a trusted proxy: the player it names.
        let request = from("10.0.0.7:40000", "X-Forwarded-For: 203.0.113.7\r\n");
        assert_eq!(forwarded_peer(&request, &[gateway]), player);
        // What the player wrote itself is to the left of what the proxy added.
        let request = from(
            "10.0.0.7:40000",
            "X-Forwarded-For: 198.51.100.1, 203.0.113.7:5123\r\n",
        );
        assert_eq!(forwarded_peer(&request, &[gateway]), player);
        // Through two trusted proxies, in two headers.
        let request = from(
            "10.0.0.7:40000",
            "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 10.0.0.8\r\n",
        );
        assert_eq!(forwarded_peer(&request, &[gateway, edge]), player);
        // From anyone else, the header is not believed.
        let request = from("198.51.100.9:40000", "X-Forwarded-For: 203.0.113.7\r\n");
        assert_eq!(
            forwarded_peer(&request, &[gateway]),
            "198.51.100.9:40000".parse::<SocketAddr>().unwrap()
        );
        // A trusted proxy that names no one, or nonsense, is the peer.
        let request = from("10.0.0.7:40000", "X-Forwarded-For: unknown\r\n");
        assert_eq!(
            forwarded_peer(&request, &[gateway]),
            "10.0.0.7:40000".parse::<SocketAddr>().unwrap()
        );
        let request = from("[2001:db8::7]:1", "X-Forwarded-For: [2001:db8::1]:80\r\n");
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(
            forwarded_peer(&request, &[v6]).ip(),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
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
