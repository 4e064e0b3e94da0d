//! The hand-written limit server, the floor (its game written to the sockets by
//! hand) and the nodelink bench server send the same bytes for the same game: the
//! same moves, joins, chat lines and departures, played
//! one step at a time against both, give byte-identical frames (but for the tick
//! number, which depends on when each server ticked), in scope `Everyone` and in
//! rooms. The limit server has no sessions, so the nodelink server runs without
//! them here (`--resume-grace 0`): with them, its welcome also carries a resume
//! token.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nodelink::wire::{encode_event, handshake};
use nodelink::Protocol;
use nodelink_examples::{Game, ToServer};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const DEADLINE: Duration = Duration::from_secs(15);
const KIND_PING: u8 = 3;
const KIND_SYNC: u8 = 2;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A bench server process, killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    fn start(binary: &str, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .arg("0")
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the bench server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("its first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("`listening on ADDR` first, got {line:?}"));
        Self {
            url: format!("ws://{addr}/"),
            child,
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(url: &str) -> Socket {
    let mut request = url.into_client_request().unwrap();
    let offer = handshake::subprotocol(Game::FINGERPRINT);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offer.parse().unwrap());
    let (socket, response) =
        tokio::time::timeout(DEADLINE, tokio_tungstenite::connect_async(request))
            .await
            .expect("connects in time")
            .expect("connects");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        offer.as_str(),
        "the subprotocol is echoed"
    );
    socket
}

/// The next frame that is not a ping (nodelink pings; the limit server does not),
/// with a sync frame's tick replaced by 0.
async fn next_frame(socket: &mut Socket) -> Vec<u8> {
    loop {
        let message = tokio::time::timeout(DEADLINE, socket.next())
            .await
            .expect("a frame in time")
            .expect("a frame")
            .expect("a good frame");
        let Message::Binary(bytes) = message else {
            continue;
        };
        match bytes.get(1).copied() {
            Some(KIND_PING) => continue,
            Some(KIND_SYNC) => return without_tick(&bytes),
            _ => return bytes.to_vec(),
        }
    }
}

/// A sync frame with its tick (the second element) written as 0.
fn without_tick(frame: &[u8]) -> Vec<u8> {
    let mut rest = frame;
    let len = rmp::decode::read_array_len(&mut rest).unwrap();
    let kind: u8 = rmp::decode::read_int(&mut rest).unwrap();
    let _tick: u64 = rmp::decode::read_int(&mut rest).unwrap();
    let mut out = Vec::new();
    rmp::encode::write_array_len(&mut out, len).unwrap();
    rmp::encode::write_uint(&mut out, kind.into()).unwrap();
    rmp::encode::write_uint(&mut out, 0).unwrap();
    out.extend_from_slice(rest);
    out
}

/// Plays the script against one server; returns every frame each client got, in
/// order, labelled.
async fn play(url: &str) -> Vec<(String, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut log = |who: &str, what: &str, frame: Vec<u8>| {
        frames.push((format!("{who}: {what}"), frame));
    };
    let send = |event: ToServer| Message::Binary(encode_event(&event).unwrap());

    let mut ada = connect(url).await;
    log("ada", "welcome", next_frame(&mut ada).await);
    log("ada", "snapshot", next_frame(&mut ada).await);
    log("ada", "announces herself", next_frame(&mut ada).await);

    let mut bob = connect(url).await;
    log("bob", "welcome", next_frame(&mut bob).await);
    log("bob", "snapshot", next_frame(&mut bob).await);
    log("bob", "announced", next_frame(&mut bob).await);
    log("ada", "bob announced", next_frame(&mut ada).await);

    ada.send(send(ToServer::Move { x: 1.5, y: -2.0 }))
        .await
        .unwrap();
    log("ada", "her move", next_frame(&mut ada).await);
    log("bob", "ada's move", next_frame(&mut bob).await);

    // Only y differs: only y goes out.
    ada.send(send(ToServer::Move { x: 1.5, y: 3.0 }))
        .await
        .unwrap();
    log("bob", "ada's y", next_frame(&mut bob).await);
    log("ada", "her y", next_frame(&mut ada).await);

    bob.send(send(ToServer::Chat { msg: "hi".into() }))
        .await
        .unwrap();
    log("ada", "bob's chat", next_frame(&mut ada).await);
    log("bob", "his chat", next_frame(&mut bob).await);

    let mut carl = connect(url).await;
    log("carl", "welcome", next_frame(&mut carl).await);
    log("carl", "snapshot", next_frame(&mut carl).await);
    log("carl", "announced", next_frame(&mut carl).await);
    log("ada", "carl announced", next_frame(&mut ada).await);

    bob.close(None).await.unwrap();
    log("ada", "bob left", next_frame(&mut ada).await);
    log("carl", "bob left", next_frame(&mut carl).await);

    // Bob's net id is free again: dave takes it.
    let mut dave = connect(url).await;
    log("dave", "welcome", next_frame(&mut dave).await);
    log("dave", "snapshot", next_frame(&mut dave).await);
    log("dave", "announced", next_frame(&mut dave).await);
    log("carl", "dave announced", next_frame(&mut carl).await);
    frames
}

/// Plays the room script (rooms of 2) against one server.
async fn play_rooms(url: &str) -> Vec<(String, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut log = |who: &str, what: &str, frame: Vec<u8>| {
        frames.push((format!("{who}: {what}"), frame));
    };
    let send = |event: ToServer| Message::Binary(encode_event(&event).unwrap());

    let mut ada = connect(url).await;
    log("ada", "welcome", next_frame(&mut ada).await);
    log("ada", "snapshot, herself", next_frame(&mut ada).await);
    let mut bob = connect(url).await;
    log("bob", "welcome", next_frame(&mut bob).await);
    log("bob", "snapshot, himself", next_frame(&mut bob).await);
    log("bob", "meets ada", next_frame(&mut bob).await);
    log("ada", "meets bob", next_frame(&mut ada).await);
    // Carl opens the second room: he sees no one else.
    let mut carl = connect(url).await;
    log("carl", "welcome", next_frame(&mut carl).await);
    log("carl", "snapshot, himself", next_frame(&mut carl).await);

    ada.send(send(ToServer::Move { x: 4.0, y: 0.0 }))
        .await
        .unwrap();
    log("bob", "ada's x", next_frame(&mut bob).await);
    log("ada", "her x", next_frame(&mut ada).await);
    carl.send(send(ToServer::Move { x: 1.0, y: 1.0 }))
        .await
        .unwrap();
    log("carl", "his own move only", next_frame(&mut carl).await);
    bob.close(None).await.unwrap();
    log("ada", "bob left the room", next_frame(&mut ada).await);
    frames
}

/// `frame` with the match code a welcome's settings carry blanked: nodelink's
/// server draws its default match's code at random.
fn without_match_code(frame: &[u8]) -> Vec<u8> {
    let mut frame = frame.to_vec();
    // "match_code" as a MessagePack string, then a string of 6 bytes.
    let key = b"\xaamatch_code\xa6";
    if let Some(at) = frame.windows(key.len()).position(|window| window == key) {
        let code = at + key.len();
        if let Some(code) = frame.get_mut(code..code + 6) {
            code.fill(b'-');
        }
    }
    frame
}

fn compare(nodelink: &[(String, Vec<u8>)], limit: &[(String, Vec<u8>)]) {
    assert_eq!(nodelink.len(), limit.len());
    for ((step, ours), (_, theirs)) in nodelink.iter().zip(limit) {
        let (ours, theirs) = (&without_match_code(ours), &without_match_code(theirs));
        assert_eq!(
            ours, theirs,
            "{step}: nodelink sent {ours:02x?}, the limit server {theirs:02x?}"
        );
    }
}

#[tokio::test]
async fn the_limit_server_sends_nodelink_s_bytes() {
    let nodelink = ServerProcess::start(
        env!("CARGO_BIN_EXE_bench-server-nodelink"),
        &["--resume-grace", "0"],
    );
    let limit = ServerProcess::start(env!("CARGO_BIN_EXE_bench-server-limit"), &[]);
    compare(&play(&nodelink.url).await, &play(&limit.url).await);
}

#[tokio::test]
async fn the_limit_server_sends_nodelink_s_bytes_in_rooms() {
    let args = ["--room-size", "2"];
    let nodelink = ServerProcess::start(
        env!("CARGO_BIN_EXE_bench-server-nodelink"),
        &["--room-size", "2", "--resume-grace", "0"],
    );
    let limit = ServerProcess::start(env!("CARGO_BIN_EXE_bench-server-limit"), &args);
    compare(
        &play_rooms(&nodelink.url).await,
        &play_rooms(&limit.url).await,
    );
}

#[tokio::test]
async fn the_floor_sends_nodelink_s_bytes() {
    let nodelink = ServerProcess::start(
        env!("CARGO_BIN_EXE_bench-server-nodelink"),
        &["--resume-grace", "0"],
    );
    let floor = ServerProcess::start(env!("CARGO_BIN_EXE_bench-server-floor"), &[]);
    compare(&play(&nodelink.url).await, &play(&floor.url).await);
}

#[tokio::test]
async fn the_floor_sends_nodelink_s_bytes_in_rooms() {
    let nodelink = ServerProcess::start(
        env!("CARGO_BIN_EXE_bench-server-nodelink"),
        &["--room-size", "2", "--resume-grace", "0"],
    );
    let floor = ServerProcess::start(
        env!("CARGO_BIN_EXE_bench-server-floor"),
        &["--room-size", "2"],
    );
    compare(
        &play_rooms(&nodelink.url).await,
        &play_rooms(&floor.url).await,
    );
}
