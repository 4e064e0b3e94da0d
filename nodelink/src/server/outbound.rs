//! Writing a connection's frames to its socket without a WebSocket library on the
//! way: after the upgrade, tungstenite keeps reading what the client sends (and
//! answering its pings and its close, into [`Control`]), while the connection's
//! writer sends each queued frame itself, as a WebSocket header and the frame's
//! shared payload in one vectored write: the payload, encoded once per tick for
//! all its recipients, is never copied into a per-connection buffer. Everything
//! queued when the writer wakes goes out in one write. A plain TCP connection is
//! split into its own halves, which need no lock between the reader and the
//! writer (and whose writing half the match may write itself while the writer is
//! idle: [`direct_write`](super::direct_write)); other streams share one behind
//! a lock.

use std::any::Any;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use tokio_tungstenite::WebSocketStream;

use crate::server::direct_write::SharedSocket;
use crate::server::game::ProcessBoard;
use crate::server::matchmaking::kinds::lock;
use crate::server::port::{Io, Outgoing};
use crate::server::transport::request::Replay;
use crate::wire::{CloseReason, WireFormat};

/// The most bytes of tungstenite's own answers (pongs, the close echo) waiting
/// for the writer; a client that makes more (a flood of pings with large
/// payloads, unread) loses its connection.
const MAX_CONTROL_BYTES: usize = 64 * 1024;

/// Frames gathered into one vectored write, at most (two slices each).
const FRAMES_PER_WRITE: usize = 32;

/// What tungstenite writes (its answers to the client's pings and close), kept
/// for the connection's writer to send between frames. The writer learns of
/// them from an [`Outgoing::Control`] item in its queue, so that it waits on
/// nothing but its queue.
#[derive(Debug, Default)]
pub(crate) struct Control {
    bytes: Mutex<Vec<u8>>,
    /// `bytes` holds something: the writer takes the lock only then.
    pending: AtomicBool,
    /// An [`Outgoing::Control`] item is queued for what `bytes` holds.
    announced: AtomicBool,
    /// The client closed: after tungstenite's answer, nothing more is sent.
    closed: AtomicBool,
}

impl Control {
    /// Whether the client closed the connection: the writer sends tungstenite's
    /// answer and nothing after it.
    fn peer_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn take(&self) -> Vec<u8> {
        if !self.pending.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut bytes = lock(&self.bytes);
        self.pending.store(false, Ordering::Release);
        self.announced.store(false, Ordering::Release);
        std::mem::take(&mut *bytes)
    }
}

/// A connection's byte stream for reading: a TCP socket's own half, or the
/// shared stream's.
enum ReadSocket {
    Tcp(OwnedReadHalf),
    Shared(ReadHalf<Io>),
}

/// A connection's byte stream for writing: a TCP socket's own half, the same
/// shared with the match (which writes to it while the writer is idle), or the
/// shared stream's.
enum WriteSocket {
    Tcp(OwnedWriteHalf),
    Direct(Arc<SharedSocket>),
    Shared(WriteHalf<Io>),
}

/// `io` as `T`, if it is one.
fn downcast<T: Any>(io: Io) -> Result<T, Io> {
    if !(&*io as &dyn Any).is::<T>() {
        return Err(io);
    }
    let any: Box<dyn Any> = io;
    match any.downcast::<T>() {
        Ok(inner) => Ok(*inner),
        Err(_) => unreachable!("the type was checked"),
    }
}

/// The TCP socket `io` is, if it is a plain one with nothing read ahead.
fn plain_tcp(io: Io) -> Result<TcpStream, Io> {
    let io = match downcast::<Replay<TcpStream>>(io) {
        Ok(replay) => {
            return replay
                .into_drained()
                .map_err(|replay| Box::new(replay) as Io)
        }
        Err(io) => io,
    };
    downcast::<TcpStream>(io)
}

fn split_socket(io: Io) -> (ReadSocket, WriteSocket) {
    match plain_tcp(io) {
        Ok(tcp) => {
            let (read, write) = tcp.into_split();
            (ReadSocket::Tcp(read), WriteSocket::Tcp(write))
        }
        Err(io) => {
            let (read, write) = tokio::io::split(io);
            (ReadSocket::Shared(read), WriteSocket::Shared(write))
        }
    }
}

impl AsyncRead for ReadSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(read) => Pin::new(read).poll_read(cx, buf),
            Self::Shared(read) => Pin::new(read).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for WriteSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(write) => Pin::new(write).poll_write(cx, buf),
            Self::Direct(shared) => shared.with_socket(|write| match write {
                Some(write) => Pin::new(write).poll_write(cx, buf),
                None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
            }),
            Self::Shared(write) => Pin::new(write).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(write) => Pin::new(write).poll_write_vectored(cx, bufs),
            Self::Direct(shared) => shared.with_socket(|write| match write {
                Some(write) => Pin::new(write).poll_write_vectored(cx, bufs),
                None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
            }),
            Self::Shared(write) => Pin::new(write).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(write) => write.is_write_vectored(),
            Self::Direct(_) => true,
            Self::Shared(write) => write.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(write) => Pin::new(write).poll_flush(cx),
            Self::Direct(shared) => shared.with_socket(|write| match write {
                Some(write) => Pin::new(write).poll_flush(cx),
                None => Poll::Ready(Ok(())),
            }),
            Self::Shared(write) => Pin::new(write).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(write) => Pin::new(write).poll_shutdown(cx),
            Self::Direct(shared) => shared.with_socket(|write| match write {
                Some(write) => Pin::new(write).poll_shutdown(cx),
                None => Poll::Ready(Ok(())),
            }),
            Self::Shared(write) => Pin::new(write).poll_shutdown(cx),
        }
    }
}

/// The reading side of a connection as tungstenite sees it: it reads from the
/// socket, and what it writes goes to [`Control`], announced to the writer by an
/// [`Outgoing::Control`] item in its queue (a queue it does not keep open).
pub(crate) struct ReadSide {
    read: ReadSocket,
    control: Arc<Control>,
    writer: mpsc::WeakSender<Outgoing>,
    /// Announcements enter the queue under its lock, as the match's items do.
    shared: Arc<SharedSocket>,
}

impl ReadSide {
    /// Tells the writer that the client closed: tungstenite's answer is the last
    /// frame to go out.
    pub(crate) fn closed_by_peer(&self) {
        self.control.closed.store(true, Ordering::Release);
    }
}

impl AsyncRead for ReadSide {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadSide {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut bytes = lock(&self.control.bytes);
        if bytes.len() + buf.len() > MAX_CONTROL_BYTES {
            return Poll::Ready(Err(io::Error::other("too many control frames unsent")));
        }
        bytes.extend_from_slice(buf);
        self.control.pending.store(true, Ordering::Release);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let control = &self.control;
        if control.pending.load(Ordering::Acquire)
            && !control.announced.swap(true, Ordering::AcqRel)
        {
            // Announced only into an empty queue, so that the announcement never
            // takes a place the match counts on. A queue with frames in it needs
            // none: the reader and the writer share a task, so the writer has yet
            // to take those frames, and it sends the answer before them (after
            // the rest of a frame the match began, if one leads them).
            let mut sent = false;
            self.shared.queue_beside(|| {
                sent = self.writer.upgrade().is_some_and(|queue| {
                    queue.capacity() == queue.max_capacity()
                        && queue.try_send(Outgoing::Control).is_ok()
                });
                sent
            });
            if !sent {
                control.announced.store(false, Ordering::Release);
            }
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What [`split`] needs besides the socket: the queue its writer drains, the
/// socket's place shared with the match, and where frames the match writes
/// there are counted.
pub(crate) struct Outlet<'a> {
    pub(crate) writer: &'a mpsc::Sender<Outgoing>,
    pub(crate) shared: &'a Arc<SharedSocket>,
    pub(crate) process: &'a Arc<ProcessBoard>,
    pub(crate) wire: WireFormat,
}

/// A connection's two sides after the upgrade: tungstenite reading, and the
/// socket for [`Writer`], which drains the queue `outlet.writer` sends to. A
/// plain TCP connection's writing half goes to `outlet.shared`, for the match to
/// write to while the writer is idle (unless frames are masked: a client's
/// frames each need their own key).
pub(crate) async fn split(
    socket: WebSocketStream<Io>,
    role: Role,
    config: WebSocketConfig,
    outlet: Outlet<'_>,
) -> (WebSocketStream<ReadSide>, Writer) {
    let (read, write) = split_socket(socket.into_inner());
    // A client's frames are masked, each with its own key: copied, not shared.
    let masked = role == Role::Client;
    let write = match write {
        WriteSocket::Tcp(write) if !masked => {
            outlet
                .shared
                .install(write, outlet.process.clone(), outlet.wire);
            WriteSocket::Direct(outlet.shared.clone())
        }
        other => other,
    };
    let control = Arc::new(Control::default());
    let reader = WebSocketStream::from_raw_socket(
        ReadSide {
            read,
            control: control.clone(),
            writer: outlet.writer.downgrade(),
            shared: outlet.shared.clone(),
        },
        role,
        Some(config),
    )
    .await;
    let vectored = write.is_write_vectored() && !masked;
    let writer = Writer {
        socket: write,
        shared: outlet.shared.clone(),
        control,
        masked,
        vectored,
        copied: Vec::new(),
    };
    (reader, writer)
}

/// The one frame of a binary or text message: its opcode and payload.
pub(crate) fn single_frame(item: &Outgoing) -> Option<(u8, &[u8])> {
    match item {
        Outgoing::Binary(bytes) => Some((OPCODE_BINARY, bytes.as_ref())),
        Outgoing::Text(text) => Some((OPCODE_TEXT, text.as_bytes())),
        Outgoing::Batch(_) | Outgoing::Close(_) | Outgoing::Control | Outgoing::Rest(_) => None,
    }
}

/// The frames of queued items, in order: a binary or text message's opcode and
/// payload (a batch's frames one by one; a close, and the rest of a frame the
/// match began, are not frames here).
fn frames(items: &[Outgoing]) -> impl Iterator<Item = (u8, &[u8])> {
    items.iter().flat_map(|item| {
        let batch: &[Bytes] = match item {
            Outgoing::Batch(frames) => frames,
            _ => &[],
        };
        single_frame(item)
            .into_iter()
            .chain(batch.iter().map(|bytes| (OPCODE_BINARY, bytes.as_ref())))
    })
}

/// Writes frames to a connection's socket.
pub(crate) struct Writer {
    socket: WriteSocket,
    /// The socket's place shared with the match, which the writer tells when it
    /// is idle (if the match can write to the socket at all).
    shared: Arc<SharedSocket>,
    control: Arc<Control>,
    /// Whether frames are masked (this server is the client of a relay's data
    /// connection).
    masked: bool,
    /// Whether the socket takes several slices in one write; if not (a TLS
    /// stream, or masked frames), a batch is copied into `copied` and written
    /// whole.
    vectored: bool,
    copied: Vec<u8>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("vectored", &self.vectored)
            .finish_non_exhaustive()
    }
}

/// A frame's WebSocket header: FIN, `opcode`, no mask (a server's), the length.
pub(crate) fn header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    out[0] = 0x80 | opcode;
    let used = header_len(len);
    match used {
        2 => out[1] = len as u8,
        4 => {
            out[1] = 126;
            out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out[1] = 127;
            out[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        }
    }
    (out, used)
}

/// The length of [`header`]'s header for a payload of `len` bytes.
fn header_len(len: usize) -> usize {
    match len {
        0..126 => 2,
        126..=0xffff => 4,
        _ => 10,
    }
}

/// Appends a frame to `out`: its header and payload, or, `masked`, its header
/// with the mask bit and a fresh key, and the payload masked with it (RFC 6455,
/// 5.3).
fn append(out: &mut Vec<u8>, head: &[u8], payload: &[u8], masked: bool) {
    if !masked {
        out.extend_from_slice(head);
        out.extend_from_slice(payload);
        return;
    }
    let key = (crate::random::random_u64() as u32).to_be_bytes();
    out.push(head[0]);
    out.push(head[1] | 0x80);
    out.extend_from_slice(&head[2..]);
    out.extend_from_slice(&key);
    out.extend(
        payload
            .iter()
            .enumerate()
            .map(|(i, byte)| byte ^ key[i % 4]),
    );
}

/// Writes every byte of `slices`, as few system calls as the socket allows.
async fn write_all_vectored(
    socket: &mut WriteSocket,
    slices: &mut [IoSlice<'_>],
) -> io::Result<()> {
    let mut slices = slices;
    while !slices.is_empty() {
        let written = socket.write_vectored(slices).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut slices, written);
    }
    Ok(())
}

const OPCODE_TEXT: u8 = 0x1;
const OPCODE_BINARY: u8 = 0x2;
const OPCODE_CLOSE: u8 = 0x8;

impl Writer {
    /// Whether the client closed the connection: tungstenite's answer, once
    /// written, is the last frame.
    pub(crate) fn peer_closed(&self) -> bool {
        self.control.peer_closed()
    }

    /// Writes tungstenite's pending answers, if any.
    async fn write_control(&mut self) -> io::Result<()> {
        let bytes = self.control.take();
        if !bytes.is_empty() {
            self.socket.write_all(&bytes).await?;
        }
        Ok(())
    }

    /// The next item queued, if there is one now; if not, the writer is idle,
    /// and the match may write to the socket itself until it queues something.
    pub(crate) fn settle(&self, queue: &mut mpsc::Receiver<Outgoing>) -> Option<Outgoing> {
        self.shared.settle(queue)
    }

    /// The writer takes no more frames (it closes the connection): the match
    /// stops writing to the socket.
    pub(crate) fn stop(&self) {
        self.shared.stop();
    }

    /// Writes the frames of `items` ([`FRAMES_PER_WRITE`] to a system call) and
    /// tungstenite's pending answers, then flushes; returns how many frames and
    /// payload bytes went out (a frame the match began was counted by it). The
    /// rest of a frame the match began comes first, before anything else.
    pub(crate) async fn write(&mut self, items: &[Outgoing]) -> io::Result<(u64, u64)> {
        let items = match items.split_first() {
            Some((Outgoing::Rest(rest), after)) => {
                self.socket.write_all(rest).await?;
                after
            }
            _ => items,
        };
        self.write_control().await?;
        if self.control.peer_closed() {
            // Nothing goes after the answer to the client's close.
            return Ok((0, 0));
        }
        if let ([item], true) = (items, self.vectored) {
            if let Some((opcode, payload)) = single_frame(item) {
                // The common case, a tick's one frame: no arrays to fill. (Not a
                // batch, whose frames are several.)
                let (head, head_len) = header(opcode, payload.len());
                let mut slices = [IoSlice::new(&head[..head_len]), IoSlice::new(payload)];
                write_all_vectored(&mut self.socket, &mut slices).await?;
                self.socket.flush().await?;
                return Ok((1, payload.len() as u64));
            }
        }
        let (mut count, mut bytes) = (0usize, 0u64);
        for (_, payload) in frames(items) {
            count += 1;
            bytes += payload.len() as u64;
        }
        if self.vectored {
            self.write_vectored(items, count).await?;
        } else {
            let mut pending = frames(items);
            loop {
                self.copied.clear();
                for (opcode, payload) in pending.by_ref().take(FRAMES_PER_WRITE) {
                    let (head, head_len) = header(opcode, payload.len());
                    append(&mut self.copied, &head[..head_len], payload, self.masked);
                }
                if self.copied.is_empty() {
                    break;
                }
                self.socket.write_all(&self.copied).await?;
            }
        }
        self.socket.flush().await?;
        Ok((count as u64, bytes))
    }

    /// Writes the `count` frames of `items`, [`FRAMES_PER_WRITE`] to a system
    /// call, each as its header and its shared payload. The slices are made anew
    /// in each poll rather than kept across it: a connection's future stays small
    /// however many frames it writes at once.
    async fn write_vectored(&mut self, items: &[Outgoing], count: usize) -> io::Result<()> {
        // Frames wholly written, and bytes written of the next.
        let (mut sent, mut partly) = (0usize, 0usize);
        while sent < count {
            let written = std::future::poll_fn(|cx| {
                let mut payloads: [&[u8]; FRAMES_PER_WRITE] = [&[]; FRAMES_PER_WRITE];
                let mut heads = [([0u8; 10], 0usize); FRAMES_PER_WRITE];
                let mut chunk = 0;
                for (opcode, payload) in frames(items).skip(sent).take(FRAMES_PER_WRITE) {
                    heads[chunk] = header(opcode, payload.len());
                    payloads[chunk] = payload;
                    chunk += 1;
                }
                let mut slices = [IoSlice::new(&[]); 2 * FRAMES_PER_WRITE];
                for (i, (payload, (head, head_len))) in payloads.iter().zip(&heads).enumerate() {
                    slices[2 * i] = IoSlice::new(&head[..*head_len]);
                    slices[2 * i + 1] = IoSlice::new(payload);
                }
                let mut slices = &mut slices[..2 * chunk];
                IoSlice::advance_slices(&mut slices, partly);
                Pin::new(&mut self.socket).poll_write_vectored(cx, slices)
            })
            .await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            let mut left = partly + written;
            for (_, payload) in frames(items).skip(sent) {
                let len = header_len(payload.len()) + payload.len();
                if left < len {
                    break;
                }
                left -= len;
                sent += 1;
            }
            partly = left;
        }
        Ok(())
    }

    /// Writes a close frame with `reason`'s code and description, after
    /// tungstenite's pending answers, then shuts the socket's writing down.
    pub(crate) async fn close(&mut self, reason: CloseReason) -> io::Result<()> {
        if self.control.peer_closed() {
            // The client closed first: the echo of its close is the last frame.
            return self.finish().await;
        }
        self.write_control().await?;
        let text = reason.description().as_bytes();
        let text = &text[..text.len().min(123)];
        let mut payload = Vec::with_capacity(2 + text.len());
        payload.extend_from_slice(&reason.code().to_be_bytes());
        payload.extend_from_slice(text);
        let (head, head_len) = header(OPCODE_CLOSE, payload.len());
        let mut frame = Vec::with_capacity(head_len + 4 + payload.len());
        append(&mut frame, &head[..head_len], &payload, self.masked);
        self.socket.write_all(&frame).await?;
        self.socket.flush().await?;
        self.socket.shutdown().await
    }

    /// Writes tungstenite's pending answers (after the client's close, its echo),
    /// then shuts the socket's writing down.
    pub(crate) async fn finish(&mut self) -> io::Result<()> {
        self.write_control().await?;
        self.socket.flush().await?;
        self.socket.shutdown().await
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The match may keep its handle for a while (a paused player's link):
        // the socket closes now, as it would if the writer owned it alone.
        self.shared.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes at most `step` bytes a write, recording them.
    struct Trickle {
        step: usize,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut written = self.written.lock().unwrap();
            let mut taken = 0;
            for buf in bufs {
                let n = buf.len().min(self.step - taken);
                written.extend_from_slice(&buf[..n]);
                taken += n;
                if taken == self.step {
                    break;
                }
            }
            Poll::Ready(Ok(taken))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A writer over a [`Trickle`] of `step` bytes a write, and what it wrote.
    fn trickle_writer(step: usize) -> (Writer, Arc<Mutex<Vec<u8>>>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let io: Io = Box::new(Trickle {
            step,
            written: written.clone(),
        });
        let (_, socket) = split_socket(io);
        let writer = Writer {
            vectored: socket.is_write_vectored(),
            socket,
            shared: Arc::default(),
            control: Arc::default(),
            masked: false,
            copied: Vec::new(),
        };
        (writer, written)
    }

    #[tokio::test]
    async fn frames_written_a_few_bytes_at_a_time_arrive_whole_and_in_order() {
        // Payloads on both sides of the two- and four-byte header lengths, more
        // frames than one system call takes.
        let payloads: Vec<Bytes> = (0..80u32)
            .map(|i| Bytes::from(vec![i as u8; [0, 1, 125, 126, 300][i as usize % 5]]))
            .collect();
        let items = vec![
            Outgoing::Binary(payloads[0].clone()),
            Outgoing::Batch(payloads[1..70].to_vec()),
            Outgoing::Control,
            Outgoing::Text("hello".into()),
            Outgoing::Batch(payloads[70..].to_vec()),
        ];
        let mut expected = Vec::new();
        for (opcode, payload) in frames(&items) {
            let (head, used) = header(opcode, payload.len());
            append(&mut expected, &head[..used], payload, false);
        }
        for step in [1, 7, 64, 100_000] {
            let (mut writer, written) = trickle_writer(step);
            assert!(writer.vectored);
            let (count, bytes) = writer.write(&items).await.expect("written");
            assert_eq!(count, 81);
            assert_eq!(
                bytes,
                payloads.iter().map(|p| p.len() as u64).sum::<u64>() + 5
            );
            assert!(*written.lock().unwrap() == expected, "{step} bytes a write");
        }
    }

    #[tokio::test]
    async fn a_lone_batch_goes_out_whole() {
        let payloads: Vec<Bytes> = (0..3u8).map(|i| Bytes::from(vec![i; 10])).collect();
        let items = [Outgoing::Batch(payloads.clone())];
        let mut expected = Vec::new();
        for payload in &payloads {
            let (head, used) = header(OPCODE_BINARY, payload.len());
            append(&mut expected, &head[..used], payload, false);
        }
        let (mut writer, written) = trickle_writer(100_000);
        assert_eq!(writer.write(&items).await.expect("written"), (3, 30));
        assert_eq!(*written.lock().unwrap(), expected);
    }

    #[test]
    fn header_lengths_are_the_headers_lengths() {
        for len in [0, 1, 125, 126, 127, 65_535, 65_536, 1 << 20] {
            assert_eq!(header(2, len).1, header_len(len), "{len}");
        }
    }

    #[test]
    fn a_client_frame_is_masked_with_the_key_it_carries() {
        let (head, used) = header(2, 3);
        let mut out = Vec::new();
        append(&mut out, &head[..used], &[1, 2, 3], true);
        assert_eq!(out[..2], [0x82, 0x80 | 3]);
        let key = &out[2..6];
        let unmasked: Vec<u8> = out[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        assert_eq!(unmasked, [1, 2, 3]);
    }

    #[test]
    fn headers_carry_the_length_as_rfc_6455_says() {
        let (short, used) = header(2, 125);
        assert_eq!(&short[..used], [0x82, 125]);
        let (medium, used) = header(2, 126);
        assert_eq!(&medium[..used], [0x82, 126, 0, 126]);
        let (medium, used) = header(1, 65_535);
        assert_eq!(&medium[..used], [0x81, 126, 0xff, 0xff]);
        let (long, used) = header(2, 65_536);
        assert_eq!(&long[..used], [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
