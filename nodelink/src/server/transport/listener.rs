//! The stand-alone server's own listener: binding, and the accept loop that gives
//! each connection a task.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;

use crate::server::error::RunError;
use crate::server::transport::admission::{IpCounts, IpSlot};
use crate::server::transport::connection;
use crate::server::{Server, ServerHandle};
use crate::Protocol;

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Binds the listening socket, so the address is known before serving.
    ///
    /// # Errors
    /// [`RunError::Bind`] when the address cannot be bound.
    pub async fn bind(self) -> Result<BoundServer<P, G>, RunError> {
        let addr = format!("{}:{}", self.config.host, self.config.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| RunError::Bind {
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

    /// Binds and serves until [`ServerHandle::shutdown`].
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
            let handle = self.handle();
            let bound = self.bind().await?;
            tracing::info!("nodelink server listening on {}", bound.local_addr());
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    handle.shutdown();
                }
            });
            bound.run().await;
            Ok(())
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

    /// Serves until [`ServerHandle::shutdown`]; returns once every connection has
    /// closed (or the shutdown timeout passed and the rest were aborted).
    pub async fn run(self) {
        let (context, mut tasks) = self.server.into_runtime().run();
        let per_ip = IpCounts::default();
        let mut backoff = Backoff::default();
        while let Some(accepted) = tasks.next(self.listener.accept()).await {
            match accepted {
                Ok((stream, addr)) => {
                    backoff.reset();
                    let slot = IpSlot::take(&per_ip, addr.ip());
                    tasks.spawn(connection::serve(stream, addr, context.clone(), slot));
                }
                // Out of file descriptors, say: the players already connected keep
                // playing, and the loop waits before trying again rather than
                // spinning (and logging) as fast as accept fails.
                Err(error) => {
                    let pause = backoff.next(&error);
                    if tasks.next(tokio::time::sleep(pause)).await.is_none() {
                        break;
                    }
                }
            }
        }
        drop(context);
        drop(self.listener);
        tasks.stop().await;
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
