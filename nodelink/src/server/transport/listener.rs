//! The stand-alone server's own listener: binding, and the accept loop that gives
//! each connection a task.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::server::error::RunError;
use crate::server::runtime::Tasks;
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
        let (game, context) = self.server.into_match();
        let mut tasks = Tasks::start(game, context.config.shutdown_timeout);
        let per_ip = IpCounts::default();
        while let Some(accepted) = tasks.next(self.listener.accept()).await {
            match accepted {
                Ok((stream, addr)) => {
                    let slot = IpSlot::take(&per_ip, addr.ip());
                    tasks.spawn(connection::serve(stream, addr, context.clone(), slot));
                }
                // Running out of file descriptors and the like: keep serving the
                // players already connected.
                Err(error) => tracing::warn!("accept failed: {error}"),
            }
        }
        drop(context);
        drop(self.listener);
        tasks.stop().await;
    }
}
