//! A running server's tasks: the world task and one task per connection, from
//! start to shutdown. The stand-alone server and a server mounted on a router
//! differ only in where their connections come from.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::server::world::World;
use crate::Protocol;

/// The world task and the connection tasks of a running server.
pub(crate) struct Tasks {
    world: JoinHandle<()>,
    connections: JoinSet<()>,
    stopping: watch::Receiver<bool>,
    shutdown_timeout: Duration,
}

impl Tasks {
    /// Starts the world task; `stopping` turns `true` when it begins to shut down.
    pub(crate) fn start<P: Protocol, G: Send + 'static>(
        world: World<P, G>,
        stopping: watch::Receiver<bool>,
        shutdown_timeout: Duration,
    ) -> Self {
        Self {
            world: tokio::spawn(world.run()),
            connections: JoinSet::new(),
            stopping,
            shutdown_timeout,
        }
    }

    /// Waits for `incoming` (the next connection), reaping finished connection
    /// tasks meanwhile; `None` once the server is shutting down.
    pub(crate) async fn next<T>(&mut self, incoming: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(incoming);
        loop {
            tokio::select! {
                value = &mut incoming => return Some(value),
                Some(_) = self.connections.join_next(), if !self.connections.is_empty() => {}
                // An error means the world is gone: stopping too.
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
            }
        }
    }

    /// Runs a connection in its own task.
    pub(crate) fn spawn(&mut self, connection: impl Future<Output = ()> + Send + 'static) {
        // A finished task keeps its memory until joined: reap them all.
        while self.connections.try_join_next().is_some() {}
        self.connections.spawn(connection);
    }

    /// After shutdown began: waits for every connection to close (or aborts those
    /// still open after the shutdown timeout), then for the world task.
    pub(crate) async fn stop(mut self) {
        let connections = &mut self.connections;
        let drained = tokio::time::timeout(self.shutdown_timeout, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            connections.abort_all();
            while connections.join_next().await.is_some() {}
        }
        let _ = self.world.await;
    }
}
