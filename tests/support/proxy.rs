//! A faulty network for the tests: a TCP proxy on `127.0.0.1:0` between clients and
//! a server that forwards bytes both ways until told to misbehave.
//!
//! - [`cut`](Proxy::cut) resets both sides of every open connection (as a dropped
//!   Wi-Fi link or a closed laptop lid does, without a close frame);
//! - [`stall`](Proxy::stall) stops forwarding, in both directions and on new
//!   connections too, while every socket stays open (a black hole: the peers see
//!   nothing, and their writes pile up in the kernel's buffers) until
//!   [`unstall`](Proxy::unstall);
//! - [`delay`](Proxy::delay) holds each chunk for a while before forwarding it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What every connection of the proxy obeys.
#[derive(Debug)]
struct Control {
    /// Whether forwarding is stopped.
    stalled: watch::Sender<bool>,
    /// Bumped by each cut: connections opened before it are reset.
    cuts: watch::Sender<u64>,
    /// How long each chunk waits before it is forwarded.
    delay: watch::Sender<Duration>,
    /// Connections accepted so far.
    accepted: AtomicUsize,
}

/// A TCP proxy to one server; see the module documentation. Stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    control: Arc<Control>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `upstream`.
    ///
    /// # Panics
    /// If it cannot bind.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("an address");
        let control = Arc::new(Control {
            stalled: watch::Sender::new(false),
            cuts: watch::Sender::new(0),
            delay: watch::Sender::new(Duration::ZERO),
            accepted: AtomicUsize::new(0),
        });
        let shared = control.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(relay(client, upstream, shared.clone()));
            }
        });
        Self {
            addr,
            control,
            task,
        }
    }

    /// The proxy's `ws://` URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Resets both sides of every connection open now. Later connections go
    /// through (or stall, while the proxy is stalled).
    pub fn cut(&self) {
        self.control.cuts.send_modify(|cuts| *cuts += 1);
    }

    /// Stops forwarding in both directions, on open and new connections alike.
    pub fn stall(&self) {
        self.control.stalled.send_replace(true);
    }

    /// Forwards again, starting with whatever waited.
    pub fn unstall(&self) {
        self.control.stalled.send_replace(false);
    }

    /// Holds each chunk of bytes for `delay` before forwarding it.
    pub fn delay(&self, delay: Duration) {
        self.control.delay.send_replace(delay);
    }

    /// How many connections the proxy has accepted.
    #[must_use]
    pub fn accepted(&self) -> usize {
        self.control.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        // Open connections end too.
        self.cut();
    }
}

/// Forwards one connection until both directions end or a cut resets it.
async fn relay(mut client: TcpStream, upstream: SocketAddr, control: Arc<Control>) {
    let mut cuts = control.cuts.subscribe();
    let opened = *cuts.borrow_and_update();
    let cut = async {
        let _ = cuts.wait_for(|cuts| *cuts != opened).await;
    };
    tokio::pin!(cut);
    let mut server = tokio::select! {
        connected = TcpStream::connect(upstream) => match connected {
            Ok(server) => server,
            Err(_) => return,
        },
        () = &mut cut => return reset(&client),
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let reset_both = {
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        let up = pump(&mut client_read, &mut server_write, &control);
        let down = pump(&mut server_read, &mut client_write, &control);
        tokio::select! {
            _ = futures::future::join(up, down) => false,
            () = &mut cut => true,
        }
    };
    if reset_both {
        reset(&client);
        reset(&server);
    }
}

/// Makes dropping the socket send a reset rather than a clean end of stream.
fn reset(socket: &TcpStream) {
    let _ = socket.set_zero_linger();
}

/// Copies one direction, obeying stalls and delays; passes the end of stream on.
async fn pump(
    from: &mut tokio::net::tcp::ReadHalf<'_>,
    to: &mut tokio::net::tcp::WriteHalf<'_>,
    control: &Control,
) {
    let mut stalled = control.stalled.subscribe();
    let mut delay = control.delay.subscribe();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        if stalled.wait_for(|stalled| !*stalled).await.is_err() {
            return;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let wait = *delay.borrow_and_update();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        // Bytes read just before a stall wait for its end too.
        if stalled.wait_for(|stalled| !*stalled).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}
