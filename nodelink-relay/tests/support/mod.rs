//! Helpers for the relay's tests: a relay on `127.0.0.1:0`, bare WebSocket and HTTP
//! clients, a small native host on plain tokio-tungstenite, and a deadline on every
//! wait.

#![allow(dead_code, unreachable_pub)]
// each test file uses its own part
// A refusal is what most of these tests look at: returned as it is, not boxed.
#![allow(clippy::result_large_err)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nodelink_relay::{BoundRelay, GameInfo, Relay, RelayConfig, RelayHandle};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderMap, HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Awaits `future`, failing the test with `what` after [`DEADLINE`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
    }
}

/// Waits until `condition` holds, checking between other tasks' steps.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    })
    .await;
}

/// A relay config on loopback with a free port.
pub fn local() -> RelayConfig {
    RelayConfig::default().host("127.0.0.1").port(0)
}

/// A relay running in a task.
pub struct TestRelay {
    pub addr: SocketAddr,
    pub handle: RelayHandle,
    task: JoinHandle<()>,
}

impl TestRelay {
    pub async fn start(config: RelayConfig) -> Self {
        let relay: BoundRelay = Relay::new(config).bind().await.expect("binds");
        Self {
            addr: relay.local_addr(),
            handle: relay.handle(),
            task: tokio::spawn(relay.run()),
        }
    }

    /// `ws://addr` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub fn games(&self) -> Vec<GameInfo> {
        self.handle.games()
    }

    pub fn game(&self, code: &str) -> Option<GameInfo> {
        self.games().into_iter().find(|game| game.code == code)
    }

    /// Shuts the relay down and waits for `run` to return.
    pub async fn stop(self) {
        self.handle.shutdown();
        within("the relay to stop", self.task)
            .await
            .expect("the relay's task");
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a server answered an upgrade (or any HTTP request).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: HeaderMap,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Opens a WebSocket to `url` with extra request `headers`: the socket and the
/// 101's headers, or the refusal.
pub async fn upgrade(url: &str, headers: &[(&str, &str)]) -> Result<(Ws, Answer), Answer> {
    let mut request = url.into_client_request().expect("a ws:// url");
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        request
            .headers_mut()
            .insert(name, HeaderValue::from_str(value).expect("a header value"));
    }
    answered(
        within(url, tokio_tungstenite::connect_async(request)).await,
        url,
    )
}

/// A client handshake's outcome as the socket and the 101's headers, or the refusal.
fn answered(
    outcome: Result<
        (
            Ws,
            tokio_tungstenite::tungstenite::handshake::client::Response,
        ),
        WsError,
    >,
    what: &str,
) -> Result<(Ws, Answer), Answer> {
    match outcome {
        Ok((socket, response)) => {
            let answer = Answer {
                status: response.status().as_u16(),
                body: String::new(),
                headers: response.headers().clone(),
            };
            Ok((socket, answer))
        }
        Err(WsError::Http(response)) => Err(Answer {
            status: response.status().as_u16(),
            body: response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned(),
            headers: response.headers().clone(),
        }),
        Err(other) => panic!("unexpected handshake error for {what}: {other}"),
    }
}

/// Opens a WebSocket that must be accepted.
pub async fn connect(url: &str) -> Ws {
    match upgrade(url, &[]).await {
        Ok((socket, _)) => socket,
        Err(answer) => panic!("{url} refused: {} {}", answer.status, answer.body),
    }
}

/// Opens a WebSocket that must be refused; the refusal.
pub async fn refused(url: &str) -> Answer {
    match upgrade(url, &[]).await {
        Ok(_) => panic!("{url} was accepted"),
        Err(answer) => answer,
    }
}

/// The next data or close message, skipping pings and pongs.
pub async fn next_message(socket: &mut Ws, what: &str) -> Message {
    within(what, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(message)) => return message,
                Some(Err(error)) => panic!("connection failed before {what}: {error}"),
                None => panic!("connection ended before {what}"),
            }
        }
    })
    .await
}

/// The next message, which must be a JSON text message.
pub async fn next_json(socket: &mut Ws, what: &str) -> Value {
    match next_message(socket, what).await {
        Message::Text(text) => serde_json::from_str(&text).expect("JSON"),
        other => panic!("expected JSON text for {what}, got {other:?}"),
    }
}

/// The next message, which must be binary.
pub async fn next_binary(socket: &mut Ws, what: &str) -> Vec<u8> {
    match next_message(socket, what).await {
        Message::Binary(bytes) => bytes.to_vec(),
        other => panic!("expected a binary message for {what}, got {other:?}"),
    }
}

/// Reads until the connection closes: the close frame's code and reason, or `None`
/// for an end without one. Reads on to the end, as a real client does, so that the
/// answer to the close frame goes out.
pub async fn closed(socket: &mut Ws, what: &str) -> Option<(u16, String)> {
    within(what, async {
        let mut close = None;
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(Some(frame)) = message {
                close = Some((u16::from(frame.code), frame.reason.to_string()));
            }
        }
        close
    })
    .await
}

pub async fn send_text(socket: &mut Ws, text: &str) {
    socket
        .send(Message::Text(text.into()))
        .await
        .expect("sends");
}

pub async fn send_json(socket: &mut Ws, value: &Value) {
    send_text(socket, &value.to_string()).await;
}

pub async fn send_binary(socket: &mut Ws, bytes: &[u8]) {
    socket
        .send(Message::Binary(bytes.to_vec().into()))
        .await
        .expect("sends");
}

/// Closes with `code` and `reason`.
pub async fn close_with(socket: &mut Ws, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    socket.close(Some(frame)).await.expect("closes");
}

/// Sends `request` as raw bytes over a new connection from `from` (an address on
/// loopback), and reads everything until the server closes.
pub async fn raw_exchange(addr: SocketAddr, from: &str, request: &str) -> Vec<u8> {
    within("the server to answer and close", async {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket
            .bind(format!("{from}:0").parse().expect("an address"))
            .expect("binds");
        let mut stream = socket.connect(addr).await.expect("connects");
        stream.write_all(request.as_bytes()).await.expect("writes");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        answer
    })
    .await
}

/// [`raw_exchange`], whose answer must be HTTP.
pub async fn raw_http(addr: SocketAddr, from: &str, request: &str) -> Answer {
    parse_answer(&raw_exchange(addr, from, request).await)
}

/// A WebSocket upgrade request for `path` as a client would send it.
pub fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Joins `path` from `from`, as a raw upgrade whose answer is read whole.
pub async fn join_from(relay: &TestRelay, from: &str, path: &str) -> Answer {
    raw_http(relay.addr, from, &upgrade_request(path)).await
}

pub fn parse_answer(answer: &[u8]) -> Answer {
    let answer = String::from_utf8_lossy(answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|status| status.parse().ok())
        .expect("a status");
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header");
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).expect("a header name"),
            HeaderValue::from_str(value.trim()).expect("a header value"),
        );
    }
    Answer {
        status,
        body: body.to_owned(),
        headers,
    }
}

/// A Python-protocol host on a bare WebSocket: what `RelayTransport` sends and
/// reads.
pub struct JsonHost {
    pub socket: Ws,
    pub code: String,
}

impl JsonHost {
    pub async fn register(relay: &TestRelay) -> Self {
        let mut socket = connect(&relay.url("/host")).await;
        let registered = next_json(&mut socket, "the registration").await;
        assert_eq!(registered["event"], "registered");
        let code = registered["data"]["code"]
            .as_str()
            .expect("a code")
            .to_owned();
        Self { socket, code }
    }

    /// The next event and its data.
    pub async fn next(&mut self, what: &str) -> (String, Value) {
        let mut message = next_json(&mut self.socket, what).await;
        let event = message["event"].as_str().expect("an event").to_owned();
        (event, message["data"].take())
    }

    /// The next event, which must be `event`; its data.
    pub async fn expect(&mut self, event: &str) -> Value {
        let (name, data) = self.next(event).await;
        assert_eq!(name, event, "{data}");
        data
    }

    pub async fn send(&mut self, event: &str, data: Value) {
        send_json(&mut self.socket, &json!({ "event": event, "data": data })).await;
    }
}

/// A native host on plain tokio-tungstenite: its control link and what it was
/// given.
pub struct NativeHost {
    pub control: Ws,
    pub code: String,
    pub token: String,
    pub grace_seconds: Value,
    /// The whole `registered` message.
    pub registered: Value,
    relay: SocketAddr,
}

impl NativeHost {
    pub async fn link(relay: &TestRelay) -> Self {
        Self::connect(relay.addr, &relay.url("/link")).await
    }

    pub async fn reclaim(relay: &TestRelay, token: &str) -> Self {
        Self::connect(relay.addr, &relay.url(&format!("/link?token={token}"))).await
    }

    async fn connect(relay: SocketAddr, url: &str) -> Self {
        Self::from_control(relay, connect(url).await).await
    }

    /// A host whose control link is `control`, registered by the relay at `relay`.
    pub async fn from_control(relay: SocketAddr, mut control: Ws) -> Self {
        let registered = next_json(&mut control, "the registration").await;
        assert_eq!(registered["type"], "registered", "{registered}");
        Self {
            control,
            code: registered["code"].as_str().expect("a code").to_owned(),
            token: registered["token"].as_str().expect("a token").to_owned(),
            grace_seconds: registered["grace_seconds"].clone(),
            registered,
            relay,
        }
    }

    /// Claims up to `count` match codes: the relay's `codes` answer.
    pub async fn claim(&mut self, count: usize) -> Value {
        send_json(
            &mut self.control,
            &json!({ "type": "claim", "count": count }),
        )
        .await;
        let answer = self.next("the codes").await;
        assert_eq!(answer["type"], "codes", "{answer}");
        answer
    }

    /// Claims `count` match codes, which must all be granted.
    pub async fn claim_codes(&mut self, count: usize) -> Vec<String> {
        let answer = self.claim(count).await;
        let codes: Vec<String> = answer["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|code| code.as_str().expect("a code").to_owned())
            .collect();
        assert_eq!(codes.len(), count, "{answer}");
        codes
    }

    /// Releases a match code.
    pub async fn release(&mut self, code: &str) {
        send_json(
            &mut self.control,
            &json!({ "type": "release", "code": code }),
        )
        .await;
    }

    /// The next control message.
    pub async fn next(&mut self, what: &str) -> Value {
        next_json(&mut self.control, what).await
    }

    /// The next control message, which must announce a player.
    pub async fn player(&mut self) -> Value {
        let player = self.next("a player").await;
        assert_eq!(player["type"], "player", "{player}");
        player
    }

    /// Opens the data connection that accepts `cid`.
    pub async fn accept(&self, cid: &str, subprotocol: Option<&str>) -> Ws {
        let mut path = format!("/link/accept/{cid}?token={}", self.token);
        if let Some(subprotocol) = subprotocol {
            path.push_str(&format!("&subprotocol={subprotocol}"));
        }
        connect(&format!("ws://{}{path}", self.relay)).await
    }

    pub async fn refuse(&mut self, cid: &str, status: u16, reason: &str, headers: Value) {
        let refuse = json!({
            "type": "refuse", "cid": cid, "status": status, "reason": reason, "headers": headers,
        });
        send_json(&mut self.control, &refuse).await;
    }
}

/// Starts a player's join in a task (a native host holds it until it answers).
pub fn start_join(
    url: String,
    headers: Vec<(&'static str, &'static str)>,
) -> JoinHandle<Result<(Ws, Answer), Answer>> {
    tokio::spawn(async move { upgrade(&url, &headers).await })
}

/// A player held, then accepted by `host` with no subprotocol: both ends.
pub async fn spliced_player(relay: &TestRelay, host: &mut NativeHost) -> (Ws, Ws, String) {
    let joining = start_join(relay.url(&format!("/join/{}", host.code)), Vec::new());
    let cid = host.player().await["cid"].as_str().unwrap().to_owned();
    let data = host.accept(&cid, None).await;
    let (player, _) = within("the player's upgrade", joining)
        .await
        .unwrap()
        .expect("accepted");
    (player, data, cid)
}

/// Opens a WebSocket to `path` from `from` (an address on loopback), optionally
/// with a tiny receive buffer, so that a peer that stops reading fills the relay's
/// queue quickly.
pub async fn upgrade_from(
    relay: SocketAddr,
    from: &str,
    path: &str,
    small_window: bool,
) -> Result<(Ws, Answer), Answer> {
    let socket = TcpSocket::new_v4().expect("a socket");
    if small_window {
        socket.set_recv_buffer_size(4096).expect("a small buffer");
    }
    socket
        .bind(format!("{from}:0").parse().expect("an address"))
        .expect("binds");
    let stream = within("the connection", socket.connect(relay))
        .await
        .expect("connects");
    let url = format!("ws://{relay}{path}");
    let upgrading = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream));
    answered(within("the upgrade", upgrading).await, path)
}

/// A connection that has sent nothing: it holds its place in the relay's counts.
pub async fn idle_connection(relay: SocketAddr, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .bind(format!("{from}:0").parse().expect("an address"))
        .expect("binds");
    within("the connection", socket.connect(relay))
        .await
        .expect("connects")
}
