//! The only place that spawns tasks: each match's task, which drives the match
//! with its messages, commands and clock until it ends or the server shuts down,
//! and one task per connection. The stand-alone server, a server mounted on a
//! router and one hosted through a relay differ only in where their connections
//! come from.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinSet;
use tokio::time::{interval, MissedTickBehavior};

use crate::server::direct_write::DirectWrites;
use crate::server::error::RunError;
use crate::server::game::{Command, Match};
use crate::server::port::ToMatch;
use crate::server::serve::{BoxFuture, Transport};
use crate::server::transport::connection::Context;
use crate::Protocol;

/// Messages from connections handled per wake-up of a match's task at most.
const INBOUND_BATCH: usize = 64;

/// How often a draining process checks whether its last player has left (no
/// event tells it: players leave from their own matches' tasks).
const DRAIN_CHECK: Duration = Duration::from_millis(50);

/// How a match ends besides a shutdown: after how long empty (`None`: never, a
/// server's default match), and what to do once it has.
pub(crate) struct Lifetime {
    pub(crate) linger: Option<Duration>,
    pub(crate) on_end: Box<dyn FnOnce() + Send>,
}

/// A match and what reaches it: the messages of its connections, its handle's
/// commands, the server's shutdown signal, and how it ends.
pub(crate) struct MatchTask<P: Protocol, G> {
    game: Match<P, G>,
    inbox: mpsc::Receiver<ToMatch<P>>,
    commands: mpsc::UnboundedReceiver<Command<P>>,
    shutdown: watch::Receiver<bool>,
    lifetime: Lifetime,
}

impl<P: Protocol, G: Send + 'static> MatchTask<P, G> {
    /// What `tokio-console` calls the match's task: `match KIND CODE`.
    fn task_name(&self) -> String {
        let record = &self.game.state.record;
        format!("match {} {}", record.kind, record.code)
    }

    pub(crate) fn new(
        game: Match<P, G>,
        inbox: mpsc::Receiver<ToMatch<P>>,
        commands: mpsc::UnboundedReceiver<Command<P>>,
        shutdown: watch::Receiver<bool>,
        lifetime: Lifetime,
    ) -> Self {
        Self {
            game,
            inbox,
            commands,
            shutdown,
            lifetime,
        }
    }

    /// Drives the match until it ends (its handlers end it, or it stayed empty
    /// past its linger) or the server shuts down: each message it is sent, each
    /// command, and a tick at its tick rate, with the time passed in.
    ///
    /// Written as one poll rather than a `select!` in a loop: a match wakes for
    /// every message its players send, and each wake-up polls each source once
    /// to handle what is ready, then again only those that had something.
    async fn drive(self) {
        let Self {
            mut game,
            mut inbox,
            mut commands,
            shutdown,
            lifetime,
        } = self;
        let mut ticker = interval(game.tick_interval());
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let linger = lifetime.linger;
        // The shutdown signal's waiter is made once and polled only when the
        // signal has moved (or its sender is gone: nothing can stop the match
        // later, so it stops now), which the probe tells with one atomic load.
        let mut probe = shutdown.clone();
        let mut shutdown = shutdown;
        let stopping = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        tokio::pin!(stopping);
        let mut waiting_for_stop = false;
        let direct_writes = DirectWrites::for_match(game.tick_interval());
        std::future::poll_fn(|cx| {
            // First: even a match that ended before its first poll sends (its
            // goodbyes), under this match's budget, not the last one's here.
            direct_writes.begin_turn();
            // Only a match that ended before its first poll: afterwards, whatever
            // ends it returns at once below.
            if game.ending().is_some() {
                return Poll::Ready(());
            }
            if !waiting_for_stop || !matches!(probe.has_changed(), Ok(false)) {
                waiting_for_stop = true;
                probe.mark_unchanged();
                if stopping.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            // A source that answered "nothing yet" holds this task's waker until it
            // has something: it is polled again only at the next wake-up.
            let (mut tick_due, mut commands_due, mut inbox_due) = (true, true, true);
            // Whatever ends the match (a tick, a command, a message) is the last
            // thing it handles: what is still queued is refused below.
            loop {
                if tick_due {
                    match ticker.poll_tick(cx) {
                        Poll::Ready(now) => {
                            let now = now.into_std();
                            game.tick_at(now);
                            if let Some(linger) = linger {
                                game.end_if_empty(now, linger);
                            }
                            if game.settle() {
                                return Poll::Ready(());
                            }
                        }
                        Poll::Pending => tick_due = false,
                    }
                }
                // One command, then up to a batch of messages, each round: neither
                // source can hold the other up.
                if commands_due {
                    match commands.poll_recv(cx) {
                        Poll::Ready(Some(command)) => {
                            game.command(command);
                            if game.settle() {
                                return Poll::Ready(());
                            }
                        }
                        // Every handle is gone: no command will come.
                        Poll::Ready(None) | Poll::Pending => commands_due = false,
                    }
                }
                if inbox_due {
                    for _ in 0..INBOUND_BATCH {
                        match inbox.poll_recv(cx) {
                            Poll::Ready(Some(message)) => {
                                game.inbound(message);
                                if game.settle() {
                                    return Poll::Ready(());
                                }
                            }
                            Poll::Ready(None) | Poll::Pending => {
                                inbox_due = false;
                                break;
                            }
                        }
                    }
                    if inbox_due {
                        // A full batch: the clock and the commands get their turn.
                        (tick_due, commands_due) = (true, true);
                    }
                }
                if !(tick_due || commands_due || inbox_due) {
                    return Poll::Pending;
                }
            }
        })
        .await;
        game.end();
        // Connections still joining (resuming ones too) are refused.
        inbox.close();
        while let Ok(message) = inbox.try_recv() {
            game.refuse(message);
        }
        (lifetime.on_end)();
    }
}

/// Spawns `task`, named `name` for `tokio-console` when built with
/// `--cfg tokio_unstable` (where tokio can name tasks).
fn spawn_named(name: &str, task: impl Future<Output = ()> + Send + 'static) {
    #[cfg(tokio_unstable)]
    {
        let named = tokio::task::Builder::new().name(name).spawn(task);
        if let Err(error) = named {
            tracing::error!("cannot start the task {name}: {error}");
        }
    }
    #[cfg(not(tokio_unstable))]
    {
        let _ = name;
        tokio::spawn(task);
    }
}

/// Spawns matches' tasks, and knows when every one has ended.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spawner {
    live: Arc<AtomicUsize>,
    ended: Arc<Notify>,
}

impl Spawner {
    /// Runs a match in its own task.
    pub(crate) fn spawn<P: Protocol, G: Send + 'static>(&self, game: MatchTask<P, G>) {
        self.live.fetch_add(1, Ordering::AcqRel);
        let done = self.clone();
        let name = game.task_name();
        spawn_named(&name, async move {
            // Counted down however the task ends, a panic included.
            let _ended = Ended(done);
            game.drive().await;
        });
    }

    /// Waits until no match runs.
    pub(crate) async fn all_ended(&self) {
        loop {
            let notified = self.ended.notified();
            if self.live.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// How many matches run.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

/// Counts a match's task out when dropped.
struct Ended(Spawner);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
        self.0.ended.notify_waiters();
    }
}

/// The connection tasks of a running server, and its matches' spawner.
pub(crate) struct Tasks {
    connections: JoinSet<()>,
    spawner: Spawner,
    shutdown: watch::Receiver<bool>,
    shutdown_timeout: Duration,
}

impl Tasks {
    pub(crate) fn new(
        spawner: Spawner,
        shutdown: watch::Receiver<bool>,
        shutdown_timeout: Duration,
    ) -> Self {
        Self {
            connections: JoinSet::new(),
            spawner,
            shutdown,
            shutdown_timeout,
        }
    }

    /// Serves the connections `transports` take until the server stops (by its
    /// handle, `signal`, or a transport's error, which is returned), then
    /// [`stop`](Self::stop)s. `stop_server` is the handle's shutdown.
    pub(crate) async fn serve(
        mut self,
        transports: Vec<Box<dyn Transport>>,
        context: Context,
        signal: Option<BoxFuture<()>>,
        stop_server: impl Fn() + Send,
    ) -> Result<(), RunError> {
        let process = context.matchmaker.process().clone();
        let mut draining = process.draining.subscribe();
        let mut drain_checks = interval(DRAIN_CHECK);
        drain_checks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Once draining: when its deadline passes, the server stops; and whether
        // it was stopped for it already.
        let mut drain_deadline: Option<tokio::time::Instant> = None;
        let mut drained = false;
        let (connections, mut incoming) = mpsc::unbounded_channel();
        let mut accepting: FuturesUnordered<_> = transports
            .into_iter()
            .map(|transport| {
                transport.accept(Feed {
                    context: context.clone(),
                    connections: connections.clone(),
                    stopping: self.shutdown.clone(),
                })
            })
            .collect();
        drop((connections, context));
        let mut signal = signal;
        let mut failed = None;
        loop {
            let signalled = async {
                match signal.as_mut() {
                    Some(signal) => signal.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                connection = incoming.recv() => match connection {
                    Some(connection) => self.spawn(connection),
                    // Every transport returned (the server is stopping) and
                    // dropped its feed: nothing more can arrive.
                    None => break,
                },
                Some(result) = accepting.next(), if !accepting.is_empty() => {
                    if let Err(error) = result {
                        tracing::error!("{error}; shutting down");
                        failed.get_or_insert(error);
                        stop_server();
                    }
                }
                () = signalled => {
                    signal = None;
                    stop_server();
                }
                // A service's process drains before it stops (`Matchmaker::drain`).
                Ok(_) = draining.wait_for(|draining| *draining), if drain_deadline.is_none() => {
                    drain_deadline = Some(tokio::time::Instant::now() + self.shutdown_timeout);
                    tracing::info!("draining: no new matches; stopping once the players have left");
                }
                now = drain_checks.tick(), if drain_deadline.is_some() && !drained => {
                    let empty = process.online.load(Ordering::Acquire) == 0;
                    if empty || drain_deadline.is_some_and(|deadline| now >= deadline) {
                        drained = true;
                        // Draining already: this stops the server.
                        stop_server();
                    }
                }
                Some(_) = self.connections.join_next(), if !self.connections.is_empty() => {}
            }
        }
        // Transports that all returned on their own leave nothing to serve.
        stop_server();
        self.stop().await;
        failed.map_or(Ok(()), Err)
    }

    /// Runs a connection in its own task.
    pub(crate) fn spawn(&mut self, connection: impl Future<Output = ()> + Send + 'static) {
        // A finished task keeps its memory until joined: reap them all.
        while self.connections.try_join_next().is_some() {}
        #[cfg(tokio_unstable)]
        {
            let named = self
                .connections
                .build_task()
                .name("connection")
                .spawn(connection);
            if let Err(error) = named {
                tracing::error!("cannot start a connection's task: {error}");
            }
        }
        #[cfg(not(tokio_unstable))]
        self.connections.spawn(connection);
    }

    /// After shutdown began: waits for every connection to close (or aborts those
    /// still open after the shutdown timeout), then for every match to end.
    pub(crate) async fn stop(mut self) {
        let started = Instant::now();
        let connections = &mut self.connections;
        let drained = tokio::time::timeout(self.shutdown_timeout, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            connections.abort_all();
            while connections.join_next().await.is_some() {}
        }
        let left = self.shutdown_timeout.saturating_sub(started.elapsed());
        if tokio::time::timeout(left.max(Duration::from_secs(1)), self.spawner.all_ended())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} matches still running after the shutdown timeout",
                self.spawner.live()
            );
        }
    }
}

/// What a served transport hands its connections to, and learns from that the
/// server is stopping.
pub struct Feed {
    context: Context,
    connections: mpsc::UnboundedSender<BoxFuture<()>>,
    stopping: watch::Receiver<bool>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").finish_non_exhaustive()
    }
}

impl Feed {
    /// What the transport's connections are admitted and played with.
    pub(crate) fn context(&self) -> &Context {
        &self.context
    }

    /// Runs a connection in its own task.
    pub(crate) fn spawn(&self, connection: impl Future<Output = ()> + Send + 'static) {
        // Closed only once the server's loop has ended, after every feed was dropped.
        let _ = self.connections.send(Box::pin(connection));
    }

    /// Waits for `incoming` (the transport's next connection, say); `None` once
    /// the server is stopping, when the transport should wind up and return.
    pub(crate) async fn next<T>(&mut self, incoming: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            value = incoming => Some(value),
            // An error means every handle is gone: stopping too.
            _ = self.stopping.wait_for(|stopping| *stopping) => None,
        }
    }
}
