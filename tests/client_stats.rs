//! The clients' own statistics (`ClientStats` in Rust, `client.stats` in
//! TypeScript) against a real server, checked exactly against what crossed the
//! wire: each client talks to the server through a tap, a TCP relay that reads
//! the WebSocket frames going by and tallies every data message by kind as
//! PROTOCOL.md defines them (events, sync frames, snapshots from a `full` frame
//! to the first without `more`, the rest), and what the client sent. The tap
//! shares no code with either client.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nodelink::client::{ClientConfig, ClientStats, Reconnect};
use nodelink_examples::{ToClient, ToServer};
use nodelink_tests::{
    local_config, reporting_game, serve, typescript_package, ChildReports, Seen, Watcher,
};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Messages and their payload bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Count {
    messages: u64,
    bytes: u64,
}

impl Count {
    fn add(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }
}

/// What went through the tap, over all its connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    events: Count,
    syncs: Count,
    snapshots: Count,
    others: Count,
    sent: Count,
}

impl Tally {
    /// The same figures as a client counts them.
    fn matches(&self, stats: &ClientStats) -> bool {
        let pairs = [
            (
                self.events,
                stats.events_received,
                stats.event_bytes_received,
            ),
            (
                self.syncs,
                stats.sync_frames_received,
                stats.sync_bytes_received,
            ),
            (
                self.snapshots,
                stats.snapshot_frames_received,
                stats.snapshot_bytes_received,
            ),
            (
                self.others,
                stats.other_frames_received,
                stats.other_bytes_received,
            ),
            (self.sent, stats.frames_sent, stats.bytes_sent),
        ];
        pairs
            .iter()
            .all(|(count, messages, bytes)| (count.messages, count.bytes) == (*messages, *bytes))
    }

    /// The same figures as the TypeScript client reports them.
    fn as_reported(&self) -> Value {
        json!({
            "eventsReceived": self.events.messages,
            "eventBytesReceived": self.events.bytes,
            "syncFramesReceived": self.syncs.messages,
            "syncBytesReceived": self.syncs.bytes,
            "snapshotFramesReceived": self.snapshots.messages,
            "snapshotBytesReceived": self.snapshots.bytes,
            "otherFramesReceived": self.others.messages,
            "otherBytesReceived": self.others.bytes,
            "framesSent": self.sent.messages,
            "bytesSent": self.sent.bytes,
        })
    }
}

/// A TCP relay in front of the server that tallies the WebSocket messages it
/// passes, and can cut its connections.
struct Tap {
    addr: SocketAddr,
    tally: Arc<Mutex<Tally>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Tap {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tally = Arc::new(Mutex::new(Tally::default()));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (counting, kept) = (tally.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let up = pump(client_read, server_write, Direction::Up, counting.clone());
                let down = pump(server_read, client_write, Direction::Down, counting.clone());
                let task = tokio::spawn(async move {
                    tokio::join!(up, down);
                });
                kept.lock().unwrap().push(task);
            }
        });
        Self {
            addr,
            tally,
            connections,
            accept,
        }
    }

    fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    fn tally(&self) -> Tally {
        *self.tally.lock().unwrap()
    }

    /// Resets every connection open now: both ends see it lost.
    fn cut(&self) {
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to server: masked frames, every data message counted as sent.
    Up,
    /// Server to client: unmasked frames, counted by kind.
    Down,
}

/// Copies `from` to `to`, tallying the WebSocket messages after the HTTP head.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    direction: Direction,
    tally: Arc<Mutex<Tally>>,
) {
    let mut reader = Frames::new(direction);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for message in reader.feed(&chunk[..n]) {
            let mut tally = tally.lock().unwrap();
            match direction {
                Direction::Up => tally.sent.add(message.len()),
                Direction::Down => reader.classify(&message, &mut tally),
            }
        }
        if to.write_all(&chunk[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Reassembles one direction's WebSocket data messages.
struct Frames {
    direction: Direction,
    buffer: Vec<u8>,
    past_head: bool,
    message: Vec<u8>,
    in_snapshot: bool,
}

impl Frames {
    fn new(direction: Direction) -> Self {
        Self {
            direction,
            buffer: Vec::new(),
            past_head: false,
            message: Vec::new(),
            in_snapshot: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.buffer.extend_from_slice(bytes);
        if !self.past_head {
            let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                return Vec::new();
            };
            self.buffer.drain(..end + 4);
            self.past_head = true;
        }
        let mut messages = Vec::new();
        while let Some((fin, opcode, payload, used)) = self.frame() {
            self.buffer.drain(..used);
            // Control frames (close, ping, pong) are the WebSocket layer's.
            if opcode >= 8 {
                continue;
            }
            self.message.extend_from_slice(&payload);
            if fin {
                messages.push(std::mem::take(&mut self.message));
            }
        }
        messages
    }

    /// The next whole frame in the buffer: FIN, opcode, unmasked payload, and the
    /// bytes it took.
    fn frame(&self) -> Option<(bool, u8, Vec<u8>, usize)> {
        let b = &self.buffer;
        if b.len() < 2 {
            return None;
        }
        let (fin, opcode, masked) = (b[0] & 0x80 != 0, b[0] & 0x0f, b[1] & 0x80 != 0);
        assert_eq!(
            masked,
            self.direction == Direction::Up,
            "masking by direction"
        );
        let (len, mut at) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (usize::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (
                usize::try_from(u64::from_be_bytes(b[2..10].try_into().ok()?)).ok()?,
                10,
            ),
            126 | 127 => return None,
            len => (usize::from(len), 2),
        };
        let mask = if masked {
            let mask: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
            at += 4;
            Some(mask)
        } else {
            None
        };
        let mut payload = b.get(at..at + len)?.to_vec();
        if let Some(mask) = mask {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= mask[i % 4];
            }
        }
        Some((fin, opcode, payload, at + len))
    }

    /// Counts a message from the server by its kind (PROTOCOL.md, "Frames").
    fn classify(&mut self, message: &[u8], tally: &mut Tally) {
        let mut input = message;
        let array = msgpack_array_len(&mut input);
        let kind = array.and_then(|_| msgpack_uint(&mut input));
        match kind {
            Some(1) => tally.events.add(message.len()),
            Some(2) => {
                // [2, tick, online, flags, …]
                let flags = msgpack_uint(&mut input)
                    .and_then(|_| msgpack_uint(&mut input))
                    .and_then(|_| msgpack_uint(&mut input))
                    .expect("a sync frame's header");
                let (full, more) = (flags & 1 != 0, flags & 2 != 0);
                if full || self.in_snapshot {
                    self.in_snapshot = more;
                    tally.snapshots.add(message.len());
                } else {
                    tally.syncs.add(message.len());
                }
            }
            _ => tally.others.add(message.len()),
        }
    }
}

fn msgpack_array_len(input: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = input.split_first()?;
    *input = rest;
    match first {
        0x90..=0x9f => Some(u64::from(first & 0x0f)),
        0xdc => take_be(input, 2),
        0xdd => take_be(input, 4),
        _ => None,
    }
}

fn msgpack_uint(input: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = input.split_first()?;
    *input = rest;
    match first {
        0x00..=0x7f => Some(u64::from(first)),
        0xcc => take_be(input, 1),
        0xcd => take_be(input, 2),
        0xce => take_be(input, 4),
        0xcf => take_be(input, 8),
        _ => None,
    }
}

fn take_be(input: &mut &[u8], len: usize) -> Option<u64> {
    let bytes = input.get(..len)?;
    *input = &input[len..];
    Some(bytes.iter().fold(0, |n, byte| n << 8 | u64::from(*byte)))
}

fn my_move(x: f32) -> ToServer {
    ToServer::Move { x, y: -2.0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_counts_exactly_what_crossed_the_wire() {
    // No pings: after the last awaited frame, nothing more crosses until asked.
    let config = local_config().ping_interval(Duration::ZERO);
    let (server, _errors) = reporting_game(config);
    let running = serve(server).await;
    let tap = Tap::start(running.addr).await;
    let other = Watcher::connect(&running.url()).await;
    let other_id = other.id.unwrap();

    let policy = Reconnect::default().initial_delay(Duration::from_millis(20));
    // Before it runs, a client has counted nothing.
    let mut before = None;
    let mut client = Watcher::start_with(
        &tap.url(),
        ClientConfig::default().reconnect(policy),
        |client| before = Some(client.sender().stats()),
    );
    assert_eq!(before, Some(ClientStats::default()));
    let me = client.connected().await;
    client
        .world_where("the snapshot", |world| world.contains_key(&other_id))
        .await;
    client
        .sender
        .send(ToServer::Chat { msg: "hi".into() })
        .unwrap();
    client.sender.send(my_move(1.5)).unwrap();
    client
        .next_where("its chat", |seen| match seen {
            Seen::Event(ToClient::Chat { msg, .. }) if msg == "hi" => Some(()),
            _ => None,
        })
        .await;
    client
        .world_where("its move", |world| {
            world.get(&me).is_some_and(|a| a.x == 1.5)
        })
        .await;
    let stats = client.sender.stats();
    let tally = tap.tally();
    assert!(
        tally.matches(&stats),
        "the wire: {tally:?}\nthe client: {stats:?}"
    );
    assert_eq!(
        (
            stats.events_received,
            stats.frames_sent,
            stats.other_frames_received
        ),
        (1, 2, 1),
        "its chat; its chat and move; the welcome"
    );
    assert!(stats.snapshot_frames_received >= 1 && stats.sync_frames_received >= 1);
    assert_eq!((stats.resumes, stats.reconnects), (0, 0));
    let chat = nodelink::wire::encode_event(&ToClient::Chat {
        from: me,
        msg: "hi".into(),
    })
    .unwrap();
    assert_eq!(stats.event_bytes_received, chat.len() as u64);

    // The connection is cut: the client resumes, as the same player, on a new one.
    tap.cut();
    client
        .next_where("the resume", |seen| {
            matches!(seen, Seen::Resumed(_)).then_some(())
        })
        .await;
    client.sender.send(my_move(2.5)).unwrap();
    client
        .world_where("the move after the resume", |world| {
            world.get(&me).is_some_and(|a| a.x == 2.5)
        })
        .await;
    let stats = client.sender.stats();
    let tally = tap.tally();
    assert!(
        tally.matches(&stats),
        "the wire: {tally:?}\nthe client: {stats:?}"
    );
    assert_eq!((stats.resumes, stats.reconnects), (1, 1));
    assert_eq!(stats.other_frames_received, 2, "two welcomes");
    client.sender.disconnect();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typescript_client_counts_exactly_what_crossed_the_wire() {
    let config = local_config().ping_interval(Duration::ZERO);
    let (server, _errors) = reporting_game(config);
    let running = serve(server).await;
    let tap = Tap::start(running.addr).await;
    let _other = Watcher::connect(&running.url()).await;

    let script = typescript_package().join("dist/test/e2e/interop-client.js");
    let mut command = tokio::process::Command::new("node");
    command.arg(script).arg(tap.url());
    let mut ts = ChildReports::spawn("the TypeScript client", &mut command, true);
    ts.command(&json!({ "cmd": "connect" })).await;
    let me = ts.expect("connect").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ts.expect("snapshot").await;
    ts.command(&json!({ "cmd": "send", "event": "chat", "data": { "msg": "hi" } }))
        .await;
    ts.command(&json!({ "cmd": "send", "event": "move", "data": { "x": 1.5, "y": -2 } }))
        .await;
    ts.expect_where("event", |event| {
        (event["data"]["msg"] == "hi").then_some(())
    })
    .await;
    ts.expect_where("sync", |sync| {
        (sync["world"][&me]["x"] == 1.5).then_some(())
    })
    .await;
    ts.command(&json!({ "cmd": "stats" })).await;
    let stats = ts.expect("stats").await;
    let tally = tap.tally();
    let mut expected = tally.as_reported();
    expected["kind"] = json!("stats");
    expected["resumes"] = json!(0);
    expected["reconnects"] = json!(0);
    assert_eq!(stats, expected, "the wire: {tally:?}");
    assert_eq!(
        (
            &stats["eventsReceived"],
            &stats["framesSent"],
            &stats["otherFramesReceived"]
        ),
        (&json!(1), &json!(2), &json!(1))
    );

    // Cut: the client resumes its session on a new connection.
    tap.cut();
    ts.expect("resume").await;
    ts.command(&json!({ "cmd": "send", "event": "move", "data": { "x": 2.5, "y": -2 } }))
        .await;
    ts.expect_where("sync", |sync| {
        (sync["world"][&me]["x"] == 2.5).then_some(())
    })
    .await;
    ts.command(&json!({ "cmd": "stats" })).await;
    let stats = ts.expect("stats").await;
    let tally = tap.tally();
    let mut expected = tally.as_reported();
    expected["kind"] = json!("stats");
    expected["resumes"] = json!(1);
    expected["reconnects"] = json!(1);
    assert_eq!(stats, expected, "the wire: {tally:?}");
    ts.command(&json!({ "cmd": "exit" })).await;
    ts.exited().await;
    running.stop().await;
}
