//! The one way to run a server: [`Server::serve`] on one or more transports (a
//! bound listener, an axum mount, a relay), with a graceful-shutdown future, as
//! `axum::serve` has.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::server::error::RunError;
use crate::server::Server;
use crate::Protocol;

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Where a server's connections come from: a `tokio::net::TcpListener` (the
/// stand-alone server, TLS included when the config has it), a
/// [`Mount`](crate::server::Mount) on an axum router (feature `axum`), or a
/// [`Relay`](crate::server::Relay). Pass one to [`Server::serve`], more with
/// [`Serve::and`]. Implemented by the library only.
pub trait Transport: sealed::Accept + Send + 'static {}

pub(crate) mod sealed {
    use super::BoxFuture;
    use crate::server::error::RunError;
    use crate::server::matchmaking::Directory;
    use crate::server::runtime::Feed;
    use crate::server::service::ServiceLink;
    use std::sync::Arc;

    /// What a transport does once served: hands each connection it takes to the
    /// feed until the feed says the server is stopping.
    pub trait Accept {
        /// Where the server's match codes come from, when this transport decides
        /// (a relay's are its own).
        fn directory(&self) -> Option<Directory> {
            None
        }

        /// The service the server joins through this transport, if any.
        fn service(&self) -> Option<Arc<dyn ServiceLink>> {
            None
        }

        /// Runs the transport; an error stops the server and is what
        /// [`Serve`](super::Serve) returns.
        fn accept(self: Box<Self>, feed: Feed) -> BoxFuture<Result<(), RunError>>;
    }
}

impl<P: Protocol, G: Send + 'static> Server<P, G> {
    /// Serves the connections `transport` takes until
    /// [`ServerHandle::shutdown`](crate::server::ServerHandle::shutdown) or the future given to
    /// [`with_graceful_shutdown`](Serve::with_graceful_shutdown) completes; the
    /// returned [`Serve`] is awaited (or spawned). It returns once every
    /// connection has closed (or the shutdown timeout passed and the rest were
    /// aborted) and every match has ended.
    ///
    /// ```no_run
    /// use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{PlayerId, SyncState};
    /// # #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// # pub struct Avatar { pub x: f32 }
    /// # #[nodelink::events] pub enum ToServer { Ready }
    /// # #[nodelink::events] pub enum ToClient { Joined { id: PlayerId } }
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = Server::<Game>::new(ServerConfig::default());
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:5000").await?;
    /// server
    ///     .serve(listener)
    ///     .with_graceful_shutdown(async {
    ///         let _ = tokio::signal::ctrl_c().await;
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`run`](Self::run), [`start`](Self::start), [`bind`](Self::bind),
    /// `mount` and [`relay`](Self::relay) are shortcuts for it.
    pub fn serve(self, transport: impl Transport) -> Serve<P, G> {
        Serve {
            setup: Some(Box::new(Setup {
                server: self,
                transports: vec![Box::new(transport)],
                shutdown: None,
            })),
            running: None,
        }
    }
}

/// A server being served: a future to await or spawn, which completes once the
/// server has stopped. Made by [`Server::serve`].
#[must_use = "a server does nothing until awaited or spawned"]
pub struct Serve<P: Protocol, G = ()> {
    /// Until first polled.
    setup: Option<Box<Setup<P, G>>>,
    running: Option<BoxFuture<Result<(), RunError>>>,
}

struct Setup<P: Protocol, G> {
    server: Server<P, G>,
    transports: Vec<Box<dyn Transport>>,
    shutdown: Option<BoxFuture<()>>,
}

impl<P: Protocol, G> fmt::Debug for Serve<P, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("running", &self.running.is_some())
            .finish_non_exhaustive()
    }
}

impl<P: Protocol, G: Send + 'static> Serve<P, G> {
    /// Serves the connections of another transport too: one server, with its
    /// matches and limits, fed by several (a listener and a relay, say).
    pub fn and(mut self, transport: impl Transport) -> Self {
        if let Some(setup) = &mut self.setup {
            setup.transports.push(Box::new(transport));
        }
        self
    }

    /// Shuts the server down gracefully when `signal` completes, as
    /// [`ServerHandle::shutdown`](crate::server::ServerHandle::shutdown) does: new connections are refused, every player
    /// is closed with "server shutting down", and this future completes once
    /// they are gone.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        if let Some(setup) = &mut self.setup {
            setup.shutdown = Some(Box::pin(signal));
        }
        self
    }
}

impl<P: Protocol, G: Send + 'static> Future for Serve<P, G> {
    type Output = Result<(), RunError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(setup) = self.setup.take() {
            let Setup {
                server,
                transports,
                shutdown,
            } = *setup;
            let handle = server.handle();
            // Served through several relays, a server's codes are the first's.
            let directory = transports
                .iter()
                .find_map(|transport| transport.directory())
                .unwrap_or_default();
            let service = transports.iter().find_map(|transport| transport.service());
            let (context, tasks) = server.into_runtime_with(directory, service).run();
            self.running = Some(Box::pin(tasks.serve(
                transports,
                context,
                shutdown,
                move || handle.shutdown(),
            )));
        }
        match self.running.as_mut() {
            Some(running) => running.as_mut().poll(cx),
            // Polled after completion: it completed with its result already.
            None => Poll::Ready(Ok(())),
        }
    }
}

impl<T: sealed::Accept + Send + 'static> Transport for T {}
