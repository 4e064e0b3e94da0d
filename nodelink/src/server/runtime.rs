//! The only place that spawns tasks: each match's task, which drives the match
//! with its messages, commands and clock, and one task per connection, from start
//! to shutdown. The stand-alone server, a server mounted on a router and one
//! hosted through a relay differ only in where their connections come from.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{interval, MissedTickBehavior};

use crate::server::game::{Command, Match};
use crate::server::port::ToMatch;
use crate::Protocol;

/// Messages from connections handled per wake-up of a match's task at most.
const INBOUND_BATCH: usize = 64;

/// A match and what reaches it: the messages of its connections, its handle's
/// commands, and the signal it raises when it begins to shut down.
pub(crate) struct MatchTask<P: Protocol, G> {
    game: Match<P, G>,
    inbox: mpsc::Receiver<ToMatch<P>>,
    commands: mpsc::UnboundedReceiver<Command<P>>,
    /// The server's shutdown signal.
    shutdown: watch::Receiver<bool>,
    stopping: watch::Sender<bool>,
}

impl<P: Protocol, G: Send + 'static> MatchTask<P, G> {
    pub(crate) fn new(
        game: Match<P, G>,
        inbox: mpsc::Receiver<ToMatch<P>>,
        commands: mpsc::UnboundedReceiver<Command<P>>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            game,
            inbox,
            commands,
            shutdown,
            stopping: watch::Sender::new(false),
        }
    }

    /// Turns `true` when the match begins to shut down.
    fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Drives the match until the server shuts down: each message it is sent,
    /// each command, and a tick at its tick rate, with the time passed in.
    async fn drive(mut self) {
        let mut ticker = interval(self.game.tick_interval());
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // An error means every handle is gone: nothing can stop it later.
                _ = self.shutdown.wait_for(|stop| *stop) => break,
                Some(command) = self.commands.recv() => self.game.command(command),
                Some(message) = self.inbox.recv() => {
                    self.game.inbound(message);
                    // Whatever else is already queued goes through without a trip
                    // round the select (bounded, so ticks and commands stay prompt).
                    for _ in 1..INBOUND_BATCH {
                        let Ok(message) = self.inbox.try_recv() else { break };
                        self.game.settle();
                        self.game.inbound(message);
                    }
                }
                now = ticker.tick() => self.game.tick_at(now.into_std()),
            }
            self.game.settle();
        }
        let _ = self.stopping.send(true);
        self.game.shut_down();
        // Connections still handshaking (resuming ones too) are refused.
        self.inbox.close();
        while let Ok(message) = self.inbox.try_recv() {
            Match::<P, G>::refuse_after_shutdown(message);
        }
    }
}

/// A match's task and the connection tasks of a running server.
pub(crate) struct Tasks {
    game: JoinHandle<()>,
    connections: JoinSet<()>,
    stopping: watch::Receiver<bool>,
    shutdown_timeout: Duration,
}

impl Tasks {
    /// Starts the match's task.
    pub(crate) fn start<P: Protocol, G: Send + 'static>(
        game: MatchTask<P, G>,
        shutdown_timeout: Duration,
    ) -> Self {
        let stopping = game.stopping();
        Self {
            game: tokio::spawn(game.drive()),
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
                // An error means the match is gone: stopping too.
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
    /// still open after the shutdown timeout), then for the match's task.
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
        let _ = self.game.await;
    }
}
