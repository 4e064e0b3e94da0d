//! Frames a match writes to a player's socket itself. A connection's writer
//! task drains its queue into the socket ([`outbound`](super::outbound)); but
//! most of the time that queue is empty and the socket takes a frame whole, and
//! waking the connection's task for every frame then costs more than the write.
//! So, on a plain TCP connection, the match writes the frame straight to the
//! socket (the WebSocket header and the shared payload, one vectored write)
//! whenever the writer is idle: nothing queued, nothing half written. Otherwise
//! the frame is queued as before, and so is the rest of a frame the socket did
//! not take whole, which the writer sends first; from then on everything goes
//! through the queue, in order, until the writer has drained it and is idle
//! again. Every item that enters the queue does so under the same lock that the
//! writer holds when it finds the queue empty, so no frame overtakes another.
//!
//! Writing from the match moves the kernel's share of a frame onto the match's
//! task. With one worker that is only cheaper; with several, a match whose
//! writes take long (tens of thousands of players in one match) would keep on
//! one core what the writers spread over all of them. So, on a runtime with
//! more than one worker, a match writes directly only during the first quarter
//! of its tick interval of each turn of its task ([`DirectWrites::begin_turn`]),
//! and queues what it sends after that for the writers.

use std::cell::Cell;
use std::io::IoSlice;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::server::game::stats::WireTraffic;
use crate::server::game::ProcessBoard;
use crate::server::matchmaking::kinds::lock;
use crate::server::outbound::{header, single_frame};
use crate::server::port::Outgoing;
use crate::wire::WireFormat;

/// A connection's socket as its match and its writer share it.
#[derive(Debug, Default)]
pub(crate) struct SharedSocket {
    state: Mutex<SocketState>,
}

#[derive(Debug, Default)]
struct SocketState {
    /// The socket: a plain TCP connection's, once it is split, until its writer
    /// ends. Never set for other streams, nor for masked frames (a relay's data
    /// connection, where this server is the client).
    socket: Option<Installed>,
    /// The writer has nothing to write: its queue is empty and it is not
    /// writing. Only then does the match write.
    idle: bool,
    /// The writer takes no more frames (it is closing): never idle again.
    stopped: bool,
}

/// A socket's writing half, and where the frames the match writes to it are
/// counted.
#[derive(Debug)]
struct Installed {
    write: OwnedWriteHalf,
    process: Arc<ProcessBoard>,
    wire: WireFormat,
}

impl SharedSocket {
    /// Hands the socket over, once the connection is split; the writer is not
    /// idle until it first finds its queue empty ([`settle`](Self::settle)).
    pub(crate) fn install(
        &self,
        socket: OwnedWriteHalf,
        process: Arc<ProcessBoard>,
        wire: WireFormat,
    ) {
        lock(&self.state).socket = Some(Installed {
            write: socket,
            process,
            wire,
        });
    }

    /// Sends `item` to the connection: written at once if the writer is idle,
    /// the turn's budget allows it, and it is one frame; queued otherwise (with,
    /// for a frame the socket took only in part, its rest). A queue error is
    /// the queue's (full, or closed), with the item, and nothing of it was
    /// written.
    pub(crate) fn send(
        &self,
        item: Outgoing,
        queue: &mpsc::Sender<Outgoing>,
    ) -> Result<(), TrySendError<Outgoing>> {
        let mut state = lock(&self.state);
        if state.idle && DirectWrites::allowed() {
            if let (Some(socket), Some((opcode, payload))) = (&state.socket, single_frame(&item)) {
                // A place for the frame's rest, taken first: once part of it is
                // on the wire, the rest must follow (and a queue whose writer is
                // gone takes nothing, so nothing is written for nobody).
                let place = match queue.try_reserve() {
                    Ok(place) => place,
                    Err(TrySendError::Full(())) => return Err(TrySendError::Full(item)),
                    Err(TrySendError::Closed(())) => return Err(TrySendError::Closed(item)),
                };
                let (head, head_len) = header(opcode, payload.len());
                let total = head_len + payload.len();
                let slices = [IoSlice::new(&head[..head_len]), IoSlice::new(payload)];
                // A socket that would block, or fails, leaves the frame to the
                // queue: the writer waits for room, or meets the failure.
                if let Ok(written) = socket.write.try_write_vectored(&slices) {
                    WireTraffic::of(&socket.process.traffic, socket.wire)
                        .wrote(1, payload.len() as u64);
                    if written < total {
                        state.idle = false;
                        place.send(Outgoing::Rest(rest_of(&item, &head[..head_len], written)));
                    }
                    return Ok(());
                }
                place.send(item);
                state.idle = false;
                return Ok(());
            }
        }
        queue.try_send(item)?;
        state.idle = false;
        Ok(())
    }

    /// Runs `announce` (which queues an item, or not) so that it cannot cross
    /// a direct write: for items queued from elsewhere than the match.
    pub(crate) fn queue_beside(&self, announce: impl FnOnce() -> bool) {
        let mut state = lock(&self.state);
        if announce() {
            state.idle = false;
        }
    }

    /// The writer's check after a write: the next queued item if there is one;
    /// if not, the writer is idle, and the match may write, until it queues
    /// something again.
    pub(crate) fn settle(&self, queue: &mut mpsc::Receiver<Outgoing>) -> Option<Outgoing> {
        let mut state = lock(&self.state);
        match queue.try_recv() {
            Ok(item) => Some(item),
            Err(_) => {
                state.idle = state.socket.is_some() && !state.stopped;
                None
            }
        }
    }

    /// The writer has stopped taking frames (it closes the connection): the
    /// match writes no more.
    pub(crate) fn stop(&self) {
        let mut state = lock(&self.state);
        state.idle = false;
        state.stopped = true;
    }

    /// The socket's writing half, for the writer to write with.
    pub(crate) fn with_socket<T>(&self, write: impl FnOnce(Option<&mut OwnedWriteHalf>) -> T) -> T {
        write(
            lock(&self.state)
                .socket
                .as_mut()
                .map(|socket| &mut socket.write),
        )
    }

    /// Drops the socket's writing half (the writer ended): the match's handle
    /// keeps it open no longer.
    pub(crate) fn release(&self) {
        let mut state = lock(&self.state);
        state.idle = false;
        state.stopped = true;
        state.socket = None;
    }
}

/// What is left of `item`'s frame (`head` and its payload) after its first
/// `written` bytes: the payload's rest shared, unless the header itself was
/// cut (the socket had room for less than a header), when both are copied.
fn rest_of(item: &Outgoing, head: &[u8], written: usize) -> Bytes {
    let payload = match item {
        Outgoing::Binary(bytes) => bytes.clone(),
        Outgoing::Text(text) => Bytes::from(text.clone()),
        _ => unreachable!("only a single frame is written directly"),
    };
    if written >= head.len() {
        return payload.slice(written - head.len()..);
    }
    let mut rest = Vec::with_capacity(head.len() - written + payload.len());
    rest.extend_from_slice(&head[written..]);
    rest.extend_from_slice(&payload);
    rest.into()
}

thread_local! {
    /// Until when the match polled on this thread may write directly.
    static WRITE_UNTIL: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How long a match may spend writing directly in each turn of its task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirectWrites {
    /// None: no limit (one worker, where the writers would run on the same core).
    budget: Option<Duration>,
}

impl DirectWrites {
    /// The budget of a match ticking every `tick_interval` on the current
    /// runtime.
    pub(crate) fn for_match(tick_interval: Duration) -> Self {
        let workers = tokio::runtime::Handle::try_current()
            .map_or(1, |runtime| runtime.metrics().num_workers());
        Self {
            budget: (workers > 1).then_some(tick_interval / 4),
        }
    }

    /// Starts a turn of the match's task on this thread.
    pub(crate) fn begin_turn(self) {
        let until = self.budget.map(|budget| Instant::now() + budget);
        WRITE_UNTIL.with(|cell| cell.set(until));
    }

    fn allowed() -> bool {
        WRITE_UNTIL
            .with(Cell::get)
            .is_none_or(|until| Instant::now() < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};

    /// A connected pair on loopback: the server side's writing half installed
    /// in a shared socket (its reading half kept open beside it), and the
    /// client side.
    async fn installed() -> (Arc<SharedSocket>, tokio::net::tcp::OwnedReadHalf, TcpStream) {
        // Small buffers on both sides, so that a few frames fill them whatever
        // the host's defaults.
        let listening = TcpSocket::new_v4().expect("socket");
        listening
            .set_send_buffer_size(64 * 1024)
            .expect("send buffer");
        listening
            .bind("127.0.0.1:0".parse().expect("address"))
            .expect("bound");
        let listener = listening.listen(8).expect("listening");
        let connecting = TcpSocket::new_v4().expect("socket");
        connecting
            .set_recv_buffer_size(64 * 1024)
            .expect("receive buffer");
        let client = connecting
            .connect(listener.local_addr().expect("address"))
            .await
            .expect("connected");
        let (server, _) = listener.accept().await.expect("accepted");
        let (read, write) = server.into_split();
        let shared = Arc::new(SharedSocket::default());
        shared.install(write, Arc::default(), WireFormat::Native);
        (shared, read, client)
    }

    /// The payloads of the binary frames in `bytes`, which must hold nothing
    /// but whole unmasked frames.
    fn payloads(mut bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut found = Vec::new();
        while !bytes.is_empty() {
            assert_eq!(bytes[0], 0x82, "a binary frame");
            let (len, at) = match bytes[1] {
                126 => (usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
                127 => (
                    u64::from_be_bytes(bytes[2..10].try_into().expect("8 bytes")) as usize,
                    10,
                ),
                len => (usize::from(len), 2),
            };
            found.push(bytes[at..at + len].to_vec());
            bytes = &bytes[at + len..];
        }
        found
    }

    #[tokio::test]
    async fn a_frame_goes_straight_out_only_while_the_writer_is_idle() {
        let (shared, _read, mut client) = installed().await;
        let (queue, mut queued) = mpsc::channel(8);
        // Not idle before the writer first finds its queue empty.
        shared
            .send(Outgoing::Binary(Bytes::from_static(b"first")), &queue)
            .expect("queued");
        let first = shared.settle(&mut queued).expect("the queued frame");
        assert!(matches!(first, Outgoing::Binary(ref b) if b == "first"));
        assert!(shared.settle(&mut queued).is_none(), "idle now");
        shared
            .send(Outgoing::Binary(Bytes::from_static(b"second")), &queue)
            .expect("sent");
        assert!(queued.try_recv().is_err(), "written, not queued");
        let mut received = [0u8; 8];
        client.read_exact(&mut received).await.expect("read");
        assert_eq!(received, *b"\x82\x06second");
        // An item queued from beside the match ends the idle time.
        shared.queue_beside(|| queue.try_send(Outgoing::Control).is_ok());
        shared
            .send(Outgoing::Binary(Bytes::from_static(b"third")), &queue)
            .expect("queued");
        assert!(matches!(queued.try_recv(), Ok(Outgoing::Control)));
        assert!(matches!(queued.try_recv(), Ok(Outgoing::Binary(_))));
        // A writer that stopped never goes idle again.
        shared.stop();
        assert!(shared.settle(&mut queued).is_none());
        shared
            .send(Outgoing::Binary(Bytes::from_static(b"fourth")), &queue)
            .expect("queued");
        assert!(matches!(queued.try_recv(), Ok(Outgoing::Binary(_))));
        // Nor does the match write for a writer whose queue is gone.
        let (gone, closed) = mpsc::channel(8);
        drop(closed);
        let (other, _read, _client) = installed().await;
        let (_, mut empty) = mpsc::channel::<Outgoing>(1);
        assert!(other.settle(&mut empty).is_none(), "idle");
        assert!(matches!(
            other.send(Outgoing::Binary(Bytes::from_static(b"lost")), &gone),
            Err(TrySendError::Closed(_))
        ));
    }

    #[tokio::test]
    async fn a_frame_the_socket_takes_in_part_is_finished_first_and_nothing_overtakes_it() {
        let (shared, _read, mut client) = installed().await;
        let (queue, mut queued) = mpsc::channel(128);
        assert!(shared.settle(&mut queued).is_none(), "idle");
        // The client reads nothing yet: large frames fill the socket until one
        // goes out only in part, and the frames after it are queued.
        let sent: Vec<Bytes> = (0..100u8).map(|i| Bytes::from(vec![i; 30_000])).collect();
        for payload in &sent {
            shared
                .send(Outgoing::Binary(payload.clone()), &queue)
                .expect("sent or queued");
        }
        let mut items = Vec::new();
        while let Ok(item) = queued.try_recv() {
            items.push(item);
        }
        // Some went straight out, until the socket filled up; then the rest of
        // the frame it took in part came first (unless it took nothing of it,
        // when that frame is queued whole), and only whole frames after it.
        assert!(!items.is_empty(), "the socket filled up");
        assert!(
            items.len() < sent.len(),
            "the first frames went straight out"
        );
        assert!(matches!(items[0], Outgoing::Rest(_) | Outgoing::Binary(_)));
        assert!(items[1..]
            .iter()
            .all(|item| matches!(item, Outgoing::Binary(_))));
        // The writer's part, as a writer does it: the rest as it is, then each
        // frame; meanwhile the client reads everything.
        let reading = tokio::spawn(async move {
            let mut all = Vec::new();
            client.read_to_end(&mut all).await.expect("read");
            all
        });
        let mut socket = lock(&shared.state).socket.take().expect("the socket").write;
        for item in &items {
            match item {
                Outgoing::Rest(rest) => socket.write_all(rest).await.expect("written"),
                Outgoing::Binary(payload) => {
                    let (head, used) = header(0x2, payload.len());
                    socket.write_all(&head[..used]).await.expect("written");
                    socket.write_all(payload).await.expect("written");
                }
                _ => unreachable!("only frames were sent"),
            }
        }
        socket.shutdown().await.expect("shut down");
        drop(socket);
        let received = tokio::time::timeout(Duration::from_secs(10), reading)
            .await
            .expect("in time")
            .expect("no panic");
        let expected: Vec<Vec<u8>> = sent.iter().map(|p| p.to_vec()).collect();
        assert!(
            payloads(&received) == expected,
            "every frame whole and in order"
        );
    }

    #[test]
    fn the_rest_of_a_frame_shares_its_payload_unless_the_header_was_cut() {
        let payload = Bytes::from_static(b"payload");
        let item = Outgoing::Binary(payload.clone());
        let (head, used) = header(0x2, payload.len());
        let rest = rest_of(&item, &head[..used], used + 3);
        assert_eq!(rest, "load");
        assert_eq!(rest.as_ptr(), payload[3..].as_ptr(), "shared, not copied");
        let cut = rest_of(&item, &head[..used], 1);
        assert_eq!(cut[..], [&head[1..used], &payload[..]].concat()[..]);
        let text = Outgoing::Text("héllo".into());
        let (head, used) = header(0x1, "héllo".len());
        assert_eq!(rest_of(&text, &head[..used], used + 1), "éllo".as_bytes());
    }

    #[test]
    fn a_spent_budget_stops_direct_writes_until_the_next_turn() {
        DirectWrites { budget: None }.begin_turn();
        assert!(DirectWrites::allowed());
        DirectWrites {
            budget: Some(Duration::ZERO),
        }
        .begin_turn();
        assert!(!DirectWrites::allowed());
        DirectWrites {
            budget: Some(Duration::from_secs(60)),
        }
        .begin_turn();
        assert!(DirectWrites::allowed());
    }
}
