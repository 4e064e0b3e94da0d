//! The floor: the bench game of the limit server (`nodelink_bench::hand_world`,
//! the same frames byte for byte), with nothing on the write path but socket
//! writes. The WebSocket handshake and the reading of client frames go through
//! tokio-tungstenite; after the handshake the world task writes each frame
//! itself, to each recipient's socket, as one vectored write of the WebSocket
//! header (built once per frame) and the shared payload: no queue, no writer
//! task, no WebSocket library. What is left is what the kernel costs, and the
//! world's own work.
//!
//! A write the socket does not take whole (its send buffer full) keeps the rest
//! for that connection, written before its next frame; a connection that holds
//! more than 1 MiB unwritten is dropped. The first such write is told on
//! standard error (a floor that defers writes is not measuring the floor).
//!
//! With `--writer-tasks` (`loadgen --target floor-tasks`), the world hands each
//! frame to the connection's queue instead, and the connection's task writes
//! it, the same way (one vectored write of header and shared payload, everything
//! queued at once): the floor plus a task and a queue per connection, which is
//! how nodelink and the limit server are built. The difference between the two
//! modes is what that structure costs, with no framework and no WebSocket
//! library on the write path.
//!
//! Run by `loadgen --target floor` (or `floor-tasks`); alone: `cargo run -p
//! nodelink-bench --release --bin bench-server-floor -- [PORT] [--room-size N]
//! [--writer-tasks]`.

use std::io::{ErrorKind, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use nodelink_bench::hand_world::{self, Outlet, ToWorld};
use nodelink_bench::ServerArgs;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// The most bytes a connection may leave unwritten before it is dropped.
const MAX_PENDING: usize = 1 << 20;

/// Frames a connection's queue holds (`--writer-tasks`), as the limit server's.
const QUEUE_LEN: usize = 256;

/// Frames gathered into one vectored write by a writer task, at most.
const FRAMES_PER_WRITE: usize = 32;

/// Whether a socket has not taken a write whole yet, this run.
static DEFERRED: AtomicBool = AtomicBool::new(false);

/// A connection's socket, written by the world task.
struct Socket {
    write: OwnedWriteHalf,
    /// What the socket did not take yet, written before anything else.
    pending: Vec<u8>,
    /// Dropped: nothing more is written.
    dead: bool,
}

/// A server frame's WebSocket header: FIN and binary, no mask, the length.
fn header(len: usize, out: &mut [u8; 10]) -> usize {
    out[0] = 0x82;
    if len < 126 {
        out[1] = len as u8;
        2
    } else if len <= usize::from(u16::MAX) {
        out[1] = 126;
        out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        4
    } else {
        out[1] = 127;
        out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    }
}

impl Socket {
    /// Writes what is pending; `false` while some of it stays.
    fn flush_pending(&mut self) -> bool {
        while !self.pending.is_empty() {
            match self.write.try_write(&self.pending) {
                Ok(written) => {
                    self.pending.drain(..written);
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => return false,
                Err(_) => {
                    self.dead = true;
                    return false;
                }
            }
        }
        true
    }
}

impl Outlet for Socket {
    fn send(&mut self, frame: &Bytes) {
        if self.dead {
            return;
        }
        let mut head = [0u8; 10];
        let head_len = header(frame.len(), &mut head);
        if self.flush_pending() {
            let slices = [IoSlice::new(&head[..head_len]), IoSlice::new(frame)];
            let total = head_len + frame.len();
            match self.write.try_write_vectored(&slices) {
                Ok(written) if written == total => return,
                Ok(written) => {
                    // The rest, byte for byte, after what went.
                    let rest: Vec<u8> = head[..head_len]
                        .iter()
                        .chain(frame.iter())
                        .skip(written)
                        .copied()
                        .collect();
                    self.pending.extend_from_slice(&rest);
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => {
                    self.pending.extend_from_slice(&head[..head_len]);
                    self.pending.extend_from_slice(frame);
                }
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        } else {
            self.pending.extend_from_slice(&head[..head_len]);
            self.pending.extend_from_slice(frame);
        }
        if !DEFERRED.swap(true, Ordering::Relaxed) {
            eprintln!("floor: a socket's send buffer was full: writes deferred from now on");
        }
        if self.pending.len() > MAX_PENDING {
            self.dead = true;
            self.pending = Vec::new();
        }
    }
}

/// The read half as a stream tungstenite can own: what it would write (the
/// answer to a ping, to a close) is dropped, as the floor writes nothing but
/// game frames.
struct ReadOnly(OwnedReadHalf);

impl AsyncRead for ReadOnly {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadOnly {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

async fn connection(stream: TcpStream, world: mpsc::Sender<ToWorld<Socket>>) {
    let config = WebSocketConfig::default().read_buffer_size(512);
    let Some(socket) = hand_world::accept(stream, config).await else {
        return;
    };
    // The handshake is done: the socket is the world's to write, and tungstenite
    // reads what the client sends.
    let (read, write) = socket.into_inner().into_split();
    let outlet = Socket {
        write,
        pending: Vec::new(),
        dead: false,
    };
    let Some(id) = hand_world::join(&world, outlet).await else {
        return;
    };
    let reading =
        WebSocketStream::from_raw_socket(ReadOnly(read), Role::Server, Some(config)).await;
    hand_world::forward_requests(reading, id, &world).await;
    let _ = world.send(ToWorld::Leave(id)).await;
}

/// A connection whose frames its own task writes (`--writer-tasks`): the world
/// sends them to its queue.
async fn connection_with_writer(stream: TcpStream, world: mpsc::Sender<ToWorld<Queue>>) {
    let config = WebSocketConfig::default().read_buffer_size(512);
    let Some(socket) = hand_world::accept(stream, config).await else {
        return;
    };
    let (read, write) = socket.into_inner().into_split();
    let (queue, frames) = mpsc::channel::<Bytes>(QUEUE_LEN);
    let Some(id) = hand_world::join(&world, queue).await else {
        return;
    };
    let reading =
        WebSocketStream::from_raw_socket(ReadOnly(read), Role::Server, Some(config)).await;
    // One task for both directions, as nodelink's connections have.
    tokio::select! {
        () = write_frames(write, frames) => {}
        () = hand_world::forward_requests(reading, id, &world) => {}
    }
    let _ = world.send(ToWorld::Leave(id)).await;
}

/// A connection's queue, drained by its task.
type Queue = mpsc::Sender<Bytes>;

/// Writes every queued frame to `socket` until the queue closes or a write
/// fails: what is queued when the task wakes goes out in one vectored write
/// (header and shared payload of each frame), as nodelink's writer does.
async fn write_frames(mut socket: OwnedWriteHalf, mut frames: mpsc::Receiver<Bytes>) {
    let mut batch: Vec<Bytes> = Vec::with_capacity(FRAMES_PER_WRITE);
    while let Some(first) = frames.recv().await {
        batch.clear();
        batch.push(first);
        while batch.len() < FRAMES_PER_WRITE {
            match frames.try_recv() {
                Ok(frame) => batch.push(frame),
                Err(_) => break,
            }
        }
        let mut heads = [[0u8; 10]; FRAMES_PER_WRITE];
        let mut lens = [0usize; FRAMES_PER_WRITE];
        for (i, frame) in batch.iter().enumerate() {
            lens[i] = header(frame.len(), &mut heads[i]);
        }
        let mut slices = [IoSlice::new(&[]); 2 * FRAMES_PER_WRITE];
        for (i, frame) in batch.iter().enumerate() {
            slices[2 * i] = IoSlice::new(&heads[i][..lens[i]]);
            slices[2 * i + 1] = IoSlice::new(frame);
        }
        let mut slices = &mut slices[..2 * batch.len()];
        while !slices.is_empty() {
            match socket.write_vectored(slices).await {
                Ok(0) | Err(_) => return,
                Ok(written) => IoSlice::advance_slices(&mut slices, written),
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let writer_tasks = words.iter().any(|word| word == "--writer-tasks");
    words.retain(|word| word != "--writer-tasks");
    let args = ServerArgs::parse(words.into_iter())?;
    if writer_tasks {
        hand_world::serve("floor", &args, connection_with_writer).await
    } else {
        hand_world::serve("floor", &args, connection).await
    }
}
