//! The gateway's own WebSocket to a game process: the player's request as the
//! process should see it (same path and query, the player's headers, its
//! address in `X-Forwarded-For`), written and read by hand so that a refusal's
//! whole response (status, reason, headers, body) reaches the player unchanged.

use std::net::IpAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::config::RelayConfig;
use crate::connection::{websocket_config, Socket};
use crate::http::{Replay, Request, MAX_HEAD_LEN};

/// The most bytes of a refusal's body the gateway reads and passes on: a
/// process's refusals are one line.
const MAX_REFUSAL_BODY_LEN: usize = 8 * 1024;

/// The player's headers the gateway does not pass on: those of the connection
/// between the player and the gateway, which the gateway's own request to the
/// process has afresh, and the one it writes itself.
const NOT_PASSED: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "content-length",
    "proxy-connection",
    "proxy-authorization",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "x-forwarded-for",
];

/// How a game process answered the gateway's upgrade.
pub(crate) enum Upstream {
    /// Upgraded: the connection (boxed: a WebSocket's state is large, and the
    /// refusals beside it are as common), and the subprotocol the process chose.
    Accepted {
        socket: Box<Socket<TcpStream>>,
        subprotocol: Option<String>,
    },
    /// Refused in HTTP.
    Refused(ProcessRefusal),
    /// Not reached, or not answering as a WebSocket server does: why.
    Unreachable(String),
}

/// A process's HTTP refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessRefusal {
    pub(crate) status: u16,
    /// Its `x-nodelink-refusal` close code, if it names one.
    pub(crate) code: Option<u16>,
    /// Its body, the refusal's reason.
    pub(crate) body: String,
    /// The response as the process sent it, head and body.
    pub(crate) bytes: Vec<u8>,
}

/// Where a process listens, from its directory address (`ws://host:port/path`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProcessAddr {
    /// `host:port`, to connect to and to name in `Host`.
    authority: String,
    /// The address's path without its trailing `/`: put before the request's.
    base_path: String,
}

impl ProcessAddr {
    fn parse(addr: &str) -> Result<Self, String> {
        let Some(rest) = addr.strip_prefix("ws://") else {
            return Err(if addr.starts_with("wss://") {
                format!("{addr}: this gateway reaches game processes over ws:// only")
            } else {
                format!("{addr}: not a ws:// URL")
            });
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Err(format!("{addr}: no host"));
        }
        let has_port = match authority.strip_prefix('[') {
            Some(v6) => v6.contains("]:"),
            None => authority.contains(':'),
        };
        let authority = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.trim_end_matches('/');
        let base_path = if path.is_empty() {
            String::new()
        } else {
            format!("/{path}")
        };
        Ok(Self {
            authority,
            base_path,
        })
    }

    /// The request target on the process: its base path, then the player's
    /// path and query.
    fn target(&self, request: &Request) -> String {
        let mut target = format!("{}{}", self.base_path, request.path);
        if let Some(query) = &request.query {
            target.push('?');
            target.push_str(query);
        }
        target
    }
}

/// The values offered in the player's `Sec-WebSocket-Protocol` headers, in order.
pub(crate) fn offered(request: &Request) -> Vec<String> {
    request
        .headers
        .iter()
        .filter(|(name, _)| name == "sec-websocket-protocol")
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The gateway's upgrade request to the process, for `request` from `player`,
/// offering `subprotocols`, with `key`.
fn upstream_request(
    addr: &ProcessAddr,
    request: &Request,
    player: IpAddr,
    subprotocols: &[String],
    key: &str,
) -> Vec<u8> {
    let mut head = format!(
        "GET {} HTTP/1.1\r\nhost: {}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-key: {key}\r\nsec-websocket-version: 13\r\n",
        addr.target(request),
        addr.authority
    );
    if !subprotocols.is_empty() {
        head.push_str(&format!(
            "sec-websocket-protocol: {}\r\n",
            subprotocols.join(", ")
        ));
    }
    for (name, value) in &request.headers {
        if !NOT_PASSED.contains(&name.as_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    // Proxies in front of the gateway named the player's way here already: the
    // player's own address goes last, where a process that trusts this gateway
    // reads it.
    let forwarded: Vec<&str> = request
        .headers
        .iter()
        .filter(|(name, _)| name == "x-forwarded-for")
        .map(|(_, value)| value.as_str())
        .collect();
    let mut forwarded = forwarded.join(", ");
    if !forwarded.is_empty() {
        forwarded.push_str(", ");
    }
    head.push_str(&format!("x-forwarded-for: {forwarded}{player}\r\n\r\n"));
    head.into_bytes()
}

/// Opens a WebSocket to the process at `addr` for `request` from `player`,
/// offering `subprotocols`. The caller bounds the time it takes.
pub(crate) async fn open(
    addr: &str,
    request: &Request,
    player: IpAddr,
    subprotocols: &[String],
    config: &RelayConfig,
) -> Upstream {
    let addr = match ProcessAddr::parse(addr) {
        Ok(addr) => addr,
        Err(reason) => return Upstream::Unreachable(reason),
    };
    let mut tcp = match TcpStream::connect(&addr.authority).await {
        Ok(tcp) => tcp,
        Err(error) => return Upstream::Unreachable(format!("{}: {error}", addr.authority)),
    };
    let _ = tcp.set_nodelay(true);
    let key = generate_key();
    let head = upstream_request(&addr, request, player, subprotocols, &key);
    if let Err(error) = tcp.write_all(&head).await {
        return Upstream::Unreachable(format!("{}: {error}", addr.authority));
    }
    let (head, rest) = match read_head(&mut tcp).await {
        Ok(read) => read,
        Err(reason) => return Upstream::Unreachable(format!("{}: {reason}", addr.authority)),
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    if !matches!(response.parse(&head), Ok(httparse::Status::Complete(_))) {
        return Upstream::Unreachable(format!("{}: not an HTTP response", addr.authority));
    }
    let status = response.code.unwrap_or(0);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .and_then(|header| std::str::from_utf8(header.value).ok())
            .map(str::trim)
    };
    if status != 101 {
        let code =
            header(nodelink::wire::handshake::REFUSAL_HEADER).and_then(|code| code.parse().ok());
        let length = header("content-length").and_then(|length| length.parse::<usize>().ok());
        let body = read_body(&mut tcp, rest, length).await;
        let mut bytes = head;
        bytes.extend_from_slice(&body);
        return Upstream::Refused(ProcessRefusal {
            status,
            code,
            body: String::from_utf8_lossy(&body).trim().to_owned(),
            bytes,
        });
    }
    if header("sec-websocket-accept") != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Upstream::Unreachable(format!(
            "{}: a 101 without the key's accept value",
            addr.authority
        ));
    }
    let subprotocol = header("sec-websocket-protocol").map(str::to_owned);
    if subprotocol
        .as_ref()
        .is_some_and(|chosen| !subprotocols.contains(chosen))
    {
        return Upstream::Unreachable(format!(
            "{}: chose a subprotocol that was not offered",
            addr.authority
        ));
    }
    let socket = WebSocketStream::from_raw_socket(
        Replay::new(rest, tcp),
        Role::Client,
        Some(websocket_config(config.max_host_frame_len)),
    )
    .await;
    Upstream::Accepted {
        socket: Box::new(socket),
        subprotocol,
    }
}

/// Reads a response head up to its blank line: the head, and the bytes read past
/// it.
async fn read_head(tcp: &mut TcpStream) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut bytes = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let read = tcp
            .read(&mut chunk)
            .await
            .map_err(|error| error.to_string())?;
        if read == 0 {
            return Err("closed before answering".to_owned());
        }
        bytes.extend_from_slice(&chunk[..read]);
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = bytes.split_off(end + 4);
            return Ok((bytes, rest));
        }
        if bytes.len() > MAX_HEAD_LEN {
            return Err("a response head over 8 KiB".to_owned());
        }
    }
}

/// A refusal's body: `length` bytes (what was read past the head first), or
/// what comes before the connection closes; at most [`MAX_REFUSAL_BODY_LEN`].
async fn read_body(tcp: &mut TcpStream, mut body: Vec<u8>, length: Option<usize>) -> Vec<u8> {
    let want = length
        .unwrap_or(MAX_REFUSAL_BODY_LEN)
        .min(MAX_REFUSAL_BODY_LEN);
    let mut chunk = [0u8; 1024];
    while body.len() < want {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => body.extend_from_slice(&chunk[..read]),
        }
    }
    body.truncate(want);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &str) -> Request {
        let head = format!("GET {target} HTTP/1.1\r\nHost: gateway.example\r\n{headers}\r\n");
        crate::http::parse(head.into_bytes()).expect("a request")
    }

    #[test]
    fn process_addresses_name_where_to_connect_and_a_base_path() {
        let addr = ProcessAddr::parse("ws://10.0.0.5:7001/").unwrap();
        assert_eq!(addr.authority, "10.0.0.5:7001");
        assert_eq!(addr.base_path, "");
        let addr = ProcessAddr::parse("ws://game.internal/play/").unwrap();
        assert_eq!(addr.authority, "game.internal:80");
        assert_eq!(addr.base_path, "/play");
        let addr = ProcessAddr::parse("ws://[fd00::5]:7001").unwrap();
        assert_eq!(addr.authority, "[fd00::5]:7001");
        assert!(ProcessAddr::parse("wss://10.0.0.5:7001/")
            .unwrap_err()
            .contains("ws:// only"));
        assert!(ProcessAddr::parse("http://x/").is_err());
        assert!(ProcessAddr::parse("ws:///").is_err());
    }

    #[test]
    fn the_process_sees_the_players_request_and_address() {
        let player = request(
            "/?match=join&code=K7MQ4P&ticket=t1",
            "Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: nodelink.3.99c9f3062e72a78a, nodelink.refusals\r\n\
             Origin: https://game.example\r\nCookie: session=abc\r\n\
             X-Forwarded-For: 198.51.100.1\r\n",
        );
        let addr = ProcessAddr::parse("ws://10.0.0.5:7001/").unwrap();
        let upstream_offer = vec!["nodelink.3.99c9f3062e72a78a".to_owned()];
        let head = upstream_request(
            &addr,
            &player,
            "203.0.113.7".parse().unwrap(),
            &upstream_offer,
            "AQIDBAUGBwgJCgsMDQ4PEA==",
        );
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "GET /?match=join&code=K7MQ4P&ticket=t1 HTTP/1.1\r\n\
             host: 10.0.0.5:7001\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
             sec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nsec-websocket-version: 13\r\n\
             sec-websocket-protocol: nodelink.3.99c9f3062e72a78a\r\n\
             origin: https://game.example\r\ncookie: session=abc\r\n\
             x-forwarded-for: 198.51.100.1, 203.0.113.7\r\n\r\n"
        );
        assert_eq!(
            offered(&player),
            ["nodelink.3.99c9f3062e72a78a", "nodelink.refusals"]
        );
    }
}
