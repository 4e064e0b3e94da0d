//! The stand-alone server's own listener: binding, and the accept loop that gives
//! each connection a task.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpSocket};

use crate::server::error::RunError;
use crate::server::runtime::Feed;
use crate::server::serve::sealed::Accept;
use crate::server::serve::{BoxFuture, Serve};
use crate::server::transport::admission::{IpCounts, IpSlot};
use crate::server::transport::connection;
use crate::server::{Server, ServerHandle};
use crate::Protocol;

/// How many connections the kernel queues before they are accepted. A storm of
/// joins (a thousand clients at once) overflows the usual 128, and each client
/// dropped from the queue waits a second for its SYN to be sent again. The kernel
/// caps it at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds a listening socket at `addr` (`host:port`, the first address it resolves
/// to that binds) with a backlog of [`LISTEN_BACKLOG`]: what [`Server::bind`] and
/// the relay use, for a listener of your own to [`Server::serve`].
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let listener = nodelink::server::listen("0.0.0.0:7000").await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// When `addr` does not resolve, or no address it resolves to can be bound.
pub async fn listen(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As std and tokio do: a restarted server binds its port again at once.
        socket.set_reuseaddr(true)?;
        match socket
            .bind(addr)
            .and_then(|()| socket.listen(LISTEN_BACKLOG))
        {
            Ok(listener) => return Ok(listener),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Binds the listening socket, so the address is known before serving.
    ///
    /// # Errors
    /// [`RunError::Bind`] when the address cannot be bound.
    pub async fn bind(self) -> Result<BoundServer<P, G>, RunError> {
        let addr = format!("{}:{}", self.config.host, self.config.port);
        let listener = listen(&addr).await.map_err(|source| RunError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| RunError::Bind { addr, source })?;
        Ok(BoundServer {
            server: self,
            listener,
            local_addr,
        })
    }

    /// Binds and serves until [`ServerHandle::shutdown`]: `bind().await?.run()`,
    /// a shortcut for [`serve`](Self::serve) on a listener bound to the config's
    /// address.
    ///
    /// # Errors
    /// [`RunError::Bind`] when the address cannot be bound.
    pub async fn run(self) -> Result<(), RunError> {
        self.bind().await?.run().await;
        Ok(())
    }

    /// Binds and serves on a new multi-threaded runtime, blocking until Ctrl-C or
    /// [`ServerHandle::shutdown`]. The typed twin of Python nodelink's `start()`.
    ///
    /// # Errors
    /// When the runtime cannot be built or the address cannot be bound.
    pub fn start(self) -> Result<(), RunError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(RunError::Runtime)?;
        runtime.block_on(async {
            let bound = self.bind().await?;
            tracing::info!("nodelink server listening on {}", bound.local_addr());
            bound
                .serve()
                .with_graceful_shutdown(async {
                    // Without a signal handler, only the handle stops the server.
                    if tokio::signal::ctrl_c().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                })
                .await
        })
    }
}

/// A server whose socket is bound: its address is known; [`run`](Self::run) serves.
pub struct BoundServer<P: Protocol, G = ()> {
    server: Server<P, G>,
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl<P: Protocol, G> std::fmt::Debug for BoundServer<P, G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol, G: Send + 'static> BoundServer<P, G> {
    /// The bound address (with the real port when the config asked for port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle to the server.
    #[must_use]
    pub fn handle(&self) -> ServerHandle<P> {
        self.server.handle()
    }

    /// The server served on its bound listener: [`Server::serve`], to add a
    /// graceful-shutdown future or another transport.
    pub fn serve(self) -> Serve<P, G> {
        self.server.serve(self.listener)
    }

    /// Serves until [`ServerHandle::shutdown`]; returns once every connection has
    /// closed (or the shutdown timeout passed and the rest were aborted).
    pub async fn run(self) {
        // A listener's accept loop never fails: it waits out accept errors.
        let _ = self.serve().await;
    }
}

/// The stand-alone server's transport: each connection the listener accepts is
/// served (over TLS when the config has it). Out of file descriptors, say, the
/// players already connected keep playing, and the loop waits before accepting
/// again rather than spinning (and logging) as fast as accept fails.
impl Accept for TcpListener {
    fn accept(self: Box<Self>, mut feed: Feed) -> BoxFuture<Result<(), RunError>> {
        Box::pin(async move {
            let listener = *self;
            let per_ip = IpCounts::default();
            let mut backoff = Backoff::default();
            while let Some(accepted) = feed.next(listener.accept()).await {
                match accepted {
                    Ok((stream, addr)) => {
                        backoff.reset();
                        let slot = IpSlot::take(&per_ip, addr.ip());
                        let context = feed.context().clone();
                        feed.spawn(connection::serve(stream, addr, context, slot));
                    }
                    Err(error) => {
                        let pause = backoff.next(&error);
                        if feed.next(tokio::time::sleep(pause)).await.is_none() {
                            break;
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

/// How long the accept loop waits after a failed accept: from 5 ms, doubling up to
/// a second while accepts keep failing; each run of failures is logged at its
/// first and then once a second at most.
#[derive(Debug, Default)]
struct Backoff {
    pause: Option<Duration>,
    failures: u64,
    logged: Option<Instant>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn next(&mut self, error: &std::io::Error) -> Duration {
        self.failures += 1;
        let now = Instant::now();
        if self
            .logged
            .is_none_or(|logged| now.duration_since(logged) >= Duration::from_secs(1))
        {
            tracing::warn!(
                failures = self.failures,
                "accept failed: {error}; waiting before accepting again"
            );
            self.logged = Some(now);
        }
        let pause = self
            .pause
            .map_or(Self::FIRST, |pause| (pause * 2).min(Self::MAX));
        self.pause = Some(pause);
        pause
    }

    fn reset(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting again");
        }
        *self = Self::default();
    }
}
