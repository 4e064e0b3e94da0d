//! Tools for testing a game against the network's faults (feature `testing`).
//!
//! [`FaultyProxy`] sits between a game's clients and its server on loopback and
//! forwards bytes both ways until told to misbehave:
//!
//! - [`cut`](FaultyProxy::cut) resets both sides of every open connection, as a
//!   dropped Wi-Fi link or a closed laptop lid does, without a close frame;
//! - [`stall`](FaultyProxy::stall) stops forwarding, in both directions and on new
//!   connections too, while every socket stays open (a black hole: the peers see
//!   nothing, and their writes pile up in the kernel's buffers) until
//!   [`unstall`](FaultyProxy::unstall);
//! - [`delay`](FaultyProxy::delay) holds each chunk of bytes for a while before
//!   forwarding it.
//!
//! Enable the feature for tests only, in the game's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! nodelink = { version = "0.1", features = ["testing"] }
//! ```
//!
//! A test of what a player sees when its connection drops: the client, pointed at
//! the proxy, resumes its session as the same player.
//!
//! ```
//! use std::time::Duration;
//!
//! use nodelink::client::{Client, ClientConfig, Reconnect};
//! use nodelink::server::{Server, ServerConfig};
//! use nodelink::testing::FaultyProxy;
//! use nodelink::{Protocol, SyncState};
//! use tokio::sync::mpsc;
//! use tokio::time::timeout;
//!
//! #[derive(SyncState, Clone, Debug, Default, PartialEq)]
//! pub struct Avatar { pub x: f32 }
//!
//! #[nodelink::events]
//! pub enum ToServer { Move { x: f32 } }
//!
//! #[nodelink::events]
//! pub enum ToClient { Hello }
//!
//! #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
//! pub struct Game;
//!
//! #[derive(Debug, PartialEq)]
//! enum Seen { Connected(nodelink::PlayerId), Paused, Resumed(nodelink::PlayerId) }
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let server = Server::<Game>::new(ServerConfig::default().host("127.0.0.1").port(0));
//! let server = server.bind().await?;
//! let proxy = FaultyProxy::start(server.local_addr()).await?;
//! let handle = server.handle();
//! tokio::spawn(server.run());
//!
//! // A client that comes back quickly, through the proxy.
//! let reconnect = Reconnect::default().initial_delay(Duration::from_millis(20));
//! let mut client = Client::<Game>::with_config(&proxy.url(), ClientConfig::default().reconnect(reconnect));
//! let (seen, mut sees) = mpsc::unbounded_channel();
//! let on_connect = seen.clone();
//! client.on_connect(move |ctx| { let _ = on_connect.send(Seen::Connected(ctx.id())); });
//! let on_pause = seen.clone();
//! client.on_pause(move |_| { let _ = on_pause.send(Seen::Paused); });
//! client.on_resume(move |ctx| { let _ = seen.send(Seen::Resumed(ctx.id())); });
//! let sender = client.sender();
//! tokio::spawn(client.run());
//!
//! let deadline = Duration::from_secs(10);
//! let Some(Seen::Connected(me)) = timeout(deadline, sees.recv()).await? else { panic!("no welcome") };
//!
//! proxy.cut();
//! assert_eq!(timeout(deadline, sees.recv()).await?, Some(Seen::Paused));
//! assert_eq!(timeout(deadline, sees.recv()).await?, Some(Seen::Resumed(me)));
//! assert_eq!(proxy.accepted(), 2, "the client came back on a new connection");
//!
//! sender.disconnect();
//! handle.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What every connection of a proxy obeys.
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

/// A TCP proxy on `127.0.0.1`, between clients and one server, that cuts, stalls
/// and delays connections on demand; see the [module documentation](self).
///
/// It runs in tasks of the tokio runtime it was started in, and stops when
/// dropped, resetting the connections still open.
#[derive(Debug)]
pub struct FaultyProxy {
    addr: SocketAddr,
    control: Arc<Control>,
    accepting: JoinHandle<()>,
}

impl FaultyProxy {
    /// Listens on `127.0.0.1` on a free port and forwards every connection to
    /// `upstream`.
    ///
    /// # Errors
    /// When it cannot listen.
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let control = Arc::new(Control {
            stalled: watch::Sender::new(false),
            cuts: watch::Sender::new(0),
            delay: watch::Sender::new(Duration::ZERO),
            accepted: AtomicUsize::new(0),
        });
        let shared = control.clone();
        let accepting = tokio::spawn(async move {
            // A failed accept (out of file descriptors, say) ends the proxy's
            // listening; connections already open go on.
            while let Ok((client, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(forward(client, upstream, shared.clone()));
            }
        });
        Ok(Self {
            addr,
            control,
            accepting,
        })
    }

    /// Where the proxy listens.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's `ws://` URL, for a client to connect to instead of the server's.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// Resets both sides of every connection open now, with no close frame. Later
    /// connections go through (or stall, while the proxy is stalled).
    pub fn cut(&self) {
        self.control.cuts.send_modify(|cuts| *cuts += 1);
    }

    /// Stops forwarding in both directions, on open and new connections alike,
    /// while every socket stays open.
    pub fn stall(&self) {
        self.control.stalled.send_replace(true);
    }

    /// Forwards again, starting with whatever waited.
    pub fn unstall(&self) {
        self.control.stalled.send_replace(false);
    }

    /// Holds each chunk of bytes for `delay` before forwarding it, in both
    /// directions; `Duration::ZERO` forwards at once again.
    pub fn delay(&self, delay: Duration) {
        self.control.delay.send_replace(delay);
    }

    /// How many connections the proxy has accepted: a client that reconnected
    /// after a cut counts twice.
    #[must_use]
    pub fn accepted(&self) -> usize {
        self.control.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        // Open connections end too.
        self.cut();
    }
}

/// Forwards one connection until both directions end or a cut resets it.
async fn forward(mut client: TcpStream, upstream: SocketAddr, control: Arc<Control>) {
    let mut cuts = control.cuts.subscribe();
    let opened = *cuts.borrow_and_update();
    let cut = async {
        let _ = cuts.wait_for(|cuts| *cuts != opened).await;
    };
    tokio::pin!(cut);
    let mut server = tokio::select! {
        connected = TcpStream::connect(upstream) => match connected {
            Ok(server) => server,
            // The client sees its connection end, as it would if the server
            // were down.
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
async fn pump(from: &mut ReadHalf<'_>, to: &mut WriteHalf<'_>, control: &Control) {
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
            // The injected latency itself.
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
