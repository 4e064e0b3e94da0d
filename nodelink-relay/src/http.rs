//! The HTTP request that opens every connection: read off the stream by hand, so
//! that the relay can route it, hold it while a host decides, and answer it with a
//! refusal or hand it (replayed) to the WebSocket layer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_tungstenite::tungstenite::http::StatusCode;

/// The most bytes an upgrade request's head may take; a longer one is dropped.
pub(crate) const MAX_HEAD_LEN: usize = 8 * 1024;

/// A parsed request head, with the bytes it came in (and any read past it).
#[derive(Debug)]
pub(crate) struct Request {
    /// The request line's target, as sent: `/join/K7MQ4P?name=ann`.
    pub(crate) target: String,
    /// The target's path, without the query.
    pub(crate) path: String,
    /// The raw query, without the `?`.
    pub(crate) query: Option<String>,
    /// Every header in order, names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
    /// Every byte read from the stream so far, to replay to the WebSocket layer.
    pub(crate) bytes: Vec<u8>,
}

impl Request {
    /// A header's value (the first, if repeated).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A query parameter's value, percent-decoded.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key) == name).then(|| percent_decode(value))
        })
    }

    /// Checks the headers that make a request a WebSocket upgrade (RFC 6455,
    /// 4.2.1), as a nodelink server does.
    pub(crate) fn check_upgrade(&self) -> Result<(), Refusal> {
        let has_token = |name: &str, token: &str| {
            self.headers
                .iter()
                .filter(|(key, _)| key == name)
                .flat_map(|(_, value)| value.split(','))
                .any(|value| value.trim().eq_ignore_ascii_case(token))
        };
        let not_an_upgrade = || Refusal::new(400, "not a WebSocket upgrade");
        if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
            return Err(not_an_upgrade());
        }
        if self.header("sec-websocket-key").is_none() {
            return Err(not_an_upgrade());
        }
        if self.header("sec-websocket-version") != Some("13") {
            return Err(
                Refusal::new(426, "unsupported WebSocket version: this relay speaks 13")
                    .with_header("sec-websocket-version", "13"),
            );
        }
        Ok(())
    }
}

/// Reads a request head (up to its blank line) and parses it; `None` for a stream
/// that ends first, sends more than [`MAX_HEAD_LEN`], or is not HTTP.
pub(crate) async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Request> {
    let mut bytes = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..read]);
        if bytes.windows(4).any(|w| w == b"\r\n\r\n") {
            return parse(bytes);
        }
        if bytes.len() > MAX_HEAD_LEN {
            return None;
        }
    }
}

/// Parses a request head read whole.
pub(crate) fn parse(bytes: Vec<u8>) -> Option<Request> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    request.parse(&bytes).ok()?;
    let target = request.path?.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (target.clone(), None),
    };
    let headers = request
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value).into_owned();
            (h.name.to_ascii_lowercase(), value)
        })
        .collect();
    Some(Request {
        target,
        path,
        query,
        headers,
        bytes,
    })
}

/// Decodes `%XX` escapes and `+`; malformed escapes stay as they are.
pub(crate) fn percent_decode(text: &str) -> String {
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

/// An HTTP answer other than the upgrade: the status and a one-line text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Refusal {
    pub(crate) fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The response's bytes, laid out as a nodelink server's refusals are.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let reason = StatusCode::from_u16(self.status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Refused");
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n",
            self.status
        );
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n{}",
            self.body.len(),
            self.body
        ));
        out.into_bytes()
    }

    /// Writes the response in one write, then closes the stream; counted in
    /// `counters`.
    pub(crate) async fn send<S: AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        counters: &crate::metrics::RelayCounters,
    ) {
        counters.refused(self.status);
        if stream.write_all(&self.to_bytes()).await.is_ok() {
            let _ = stream.shutdown().await;
        }
    }
}

/// Whether `name` and `value` can go into a response header as they are: a token
/// name and a value without control characters.
pub(crate) fn is_header_safe(name: &str, value: &str) -> bool {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    !name.is_empty()
        && name.bytes().all(token)
        && value
            .bytes()
            .all(|c| c == b'\t' || (c >= 0x20 && c != 0x7f))
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

    fn request(target: &str, headers: &str) -> Request {
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        parse(head.into_bytes()).expect("a request")
    }

    const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    #[test]
    fn the_target_splits_into_path_and_query() {
        let req = request(
            "/join/k7mq4p?name=ann%20b&x",
            "Origin: https://a.example\r\n",
        );
        assert_eq!(req.target, "/join/k7mq4p?name=ann%20b&x");
        assert_eq!(req.path, "/join/k7mq4p");
        assert_eq!(req.query_param("name").as_deref(), Some("ann b"));
        assert_eq!(req.query_param("x").as_deref(), Some(""));
        assert_eq!(req.query_param("y"), None);
        assert_eq!(req.header("origin"), Some("https://a.example"));
        assert_eq!(req.headers[0], ("host".to_owned(), "x".to_owned()));
    }

    #[test]
    fn percent_decoding_leaves_malformed_escapes() {
        assert_eq!(percent_decode("a%2Bb+c"), "a+b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn upgrades_are_checked_as_a_server_checks_them() {
        assert_eq!(request("/", UPGRADE).check_upgrade(), Ok(()));
        let plain = request("/", "");
        assert_eq!(plain.check_upgrade().unwrap_err().status, 400);
        let old = UPGRADE.replace("Version: 13", "Version: 8");
        let refusal = request("/", &old).check_upgrade().unwrap_err();
        assert_eq!(refusal.status, 426);
        assert_eq!(
            refusal.headers,
            [("sec-websocket-version".into(), "13".into())]
        );
    }

    #[test]
    fn refusals_are_laid_out_as_the_servers() {
        let refusal = Refusal::new(404, "unknown game code").with_header("x-a", "b");
        assert_eq!(
            String::from_utf8(refusal.to_bytes()).unwrap(),
            "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain; charset=utf-8\r\n\
             x-a: b\r\ncontent-length: 17\r\nconnection: close\r\n\r\nunknown game code"
        );
    }

    #[test]
    fn header_safety() {
        assert!(is_header_safe("x-nodelink-fingerprint", "4874c71316f5ad11"));
        assert!(!is_header_safe("bad name", "v"));
        assert!(!is_header_safe("x", "a\r\nset-cookie: y"));
        assert!(!is_header_safe("", "v"));
    }

    #[test]
    fn garbage_is_not_a_request() {
        assert!(parse(b"\x16\x03\x01garbage\r\n\r\n".to_vec()).is_none());
    }
}
