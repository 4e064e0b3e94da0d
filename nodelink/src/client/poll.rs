//! The polling client: the connection runs on a background thread, and the game
//! loop drains what arrived once per frame.

use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::client::config::ClientConfig;
use crate::client::connection::{self, Deliver};
use crate::client::error::{ClientError, Disconnect};
use crate::client::sender::ClientSender;
use crate::client::stats::ClientStats;
use crate::client::world::{StateSync, World};
use crate::wire::{Settings, SyncFrame, Welcome};
use crate::{PlayerId, Protocol};

/// Something that happened since the last [`PollClient::poll`].
#[non_exhaustive]
pub enum ClientEvent<P: Protocol> {
    /// The server welcomed this client with its player id, in a new session.
    Connected {
        /// This client's player id.
        id: PlayerId,
    },
    /// The connection was lost and the client is resuming its session (see
    /// [`Client::on_pause`](super::Client::on_pause)); the world is kept.
    Paused(Disconnect),
    /// The session was resumed: the same player. The events missed meanwhile
    /// follow, then a snapshot.
    Resumed {
        /// This client's player id, the same as before.
        id: PlayerId,
    },
    /// An event from the server.
    Event(P::ToClient),
    /// A sync frame, already applied to [`PollClient::world`].
    StateSync(StateSync<P>),
    /// The connection was lost; this attempt to reconnect comes after `delay`.
    Reconnecting {
        /// The attempt number, from 1.
        attempt: u32,
        /// The wait before it.
        delay: Duration,
    },
    /// Something went wrong; the connection goes on.
    Error(ClientError),
    /// The connection ended (or could not be made: an [`Error`](Self::Error)
    /// comes first), or [`PollClient::disconnect`] stopped the client
    /// ([`Disconnect::Local`], even when no connection was open).
    Disconnected(Disconnect),
}

impl<P: Protocol> std::fmt::Debug for ClientEvent<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connected { id } => write!(f, "Connected({id})"),
            Self::Paused(reason) => write!(f, "Paused({reason})"),
            Self::Resumed { id } => write!(f, "Resumed({id})"),
            Self::Event(event) => write!(f, "Event({})", crate::Events::name(event)),
            Self::StateSync(sync) => write!(f, "StateSync(tick {})", sync.tick.0),
            Self::Error(error) => write!(f, "Error({error})"),
            Self::Disconnected(reason) => write!(f, "Disconnected({reason})"),
            Self::Reconnecting { attempt, delay } => {
                write!(f, "Reconnecting({attempt} in {delay:?})")
            }
        }
    }
}

enum Incoming<P: Protocol> {
    Connected(PlayerId, Settings),
    Paused(Disconnect),
    Resumed(PlayerId, Settings),
    Event(P::ToClient),
    Sync(SyncFrame<P>),
    Latency(Duration),
    Error(ClientError),
    Disconnected(Disconnect),
    Reconnecting(u32, Duration),
}

/// How many received items wait for the game loop. When the game stops polling,
/// the background thread stops reading, and the server treats this client as slow.
const INCOMING_CAPACITY: usize = 4096;

struct Forward<P: Protocol>(std_mpsc::SyncSender<Incoming<P>>);

impl<P: Protocol> Forward<P> {
    fn push(&self, item: Incoming<P>) {
        // Runs on the connection's own thread: blocking it is the backpressure.
        let _ = self.0.send(item);
    }
}

impl<P: Protocol> Deliver<P> for Forward<P> {
    fn connected(&mut self, welcome: Welcome, _: &ClientSender<P>) {
        self.push(Incoming::Connected(welcome.player, welcome.settings));
    }
    fn resumed(&mut self, welcome: Welcome, _: &ClientSender<P>) {
        self.push(Incoming::Resumed(welcome.player, welcome.settings));
    }
    fn paused(&mut self, reason: Disconnect) {
        self.push(Incoming::Paused(reason));
    }
    fn event(&mut self, event: P::ToClient, _: &ClientSender<P>) {
        self.push(Incoming::Event(event));
    }
    fn sync(&mut self, frame: SyncFrame<P>, _: &ClientSender<P>) {
        self.push(Incoming::Sync(frame));
    }
    fn latency(&mut self, rtt: Duration) {
        self.push(Incoming::Latency(rtt));
    }
    fn reconnecting(&mut self, attempt: u32, delay: Duration) {
        self.push(Incoming::Reconnecting(attempt, delay));
    }
    fn error(&mut self, error: ClientError) {
        self.push(Incoming::Error(error));
    }
    fn disconnected(&mut self, reason: Disconnect) {
        self.push(Incoming::Disconnected(reason));
    }
}

/// A client for game loops: [`poll`](Self::poll) once per frame, read
/// [`world`](Self::world), [`send`](Self::send) inputs. No callbacks, no locks: the
/// mirror lives on the game's thread and changes only inside `poll`.
pub struct PollClient<P: Protocol> {
    incoming: std_mpsc::Receiver<Incoming<P>>,
    world: World<P>,
    me: Option<PlayerId>,
    latency: Option<Duration>,
    settings: Option<Settings>,
    connected: bool,
    sender: ClientSender<P>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<P: Protocol> std::fmt::Debug for PollClient<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollClient")
            .field("me", &self.me)
            .field("connected", &self.connected)
            .field("players", &self.world.len())
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> PollClient<P> {
    pub(crate) fn start(
        url: String,
        config: ClientConfig,
        sender: ClientSender<P>,
        mut queue: mpsc::Receiver<Bytes>,
    ) -> Result<Self, ClientError> {
        let (tx, incoming) = std_mpsc::sync_channel(INCOMING_CAPACITY);
        let thread_sender = sender.clone();
        let thread = std::thread::Builder::new()
            .name("nodelink-client".into())
            .spawn(move || {
                let mut forward = Forward(tx);
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        forward.push(Incoming::Error(ClientError::Runtime(error.to_string())));
                        return forward
                            .push(Incoming::Disconnected(Disconnect::Lost(error.to_string())));
                    }
                };
                let result = runtime.block_on(connection::run(
                    &url,
                    &config,
                    &mut queue,
                    &thread_sender,
                    &mut forward,
                ));
                if let Err(error) = result {
                    let reason = Disconnect::Lost(error.to_string());
                    forward.push(Incoming::Error(error));
                    forward.push(Incoming::Disconnected(reason));
                }
            })
            .map_err(|error| ClientError::Runtime(error.to_string()))?;
        Ok(Self {
            incoming,
            world: World::default(),
            me: None,
            latency: None,
            settings: None,
            connected: false,
            sender,
            thread: Some(thread),
        })
    }

    /// Everything that arrived since the last call, oldest first; sync frames are
    /// applied to [`world`](Self::world) as they are returned. Never blocks.
    pub fn poll(&mut self) -> Vec<ClientEvent<P>> {
        let mut events = Vec::new();
        while let Ok(item) = self.incoming.try_recv() {
            events.extend(self.absorb(item));
        }
        events
    }

    /// Like [`poll`](Self::poll), but waits up to `timeout` for something to
    /// arrive when nothing has. For loops that have nothing else to do.
    pub fn wait(&mut self, timeout: Duration) -> Vec<ClientEvent<P>> {
        let deadline = Instant::now() + timeout;
        let mut events = Vec::new();
        while events.is_empty() {
            match self
                .incoming
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(item) => events.extend(self.absorb(item)),
                Err(_) => return events,
            }
        }
        events.extend(self.poll());
        events
    }

    /// Applies an item to the client's own view; returns the event to report, if any.
    fn absorb(&mut self, item: Incoming<P>) -> Option<ClientEvent<P>> {
        Some({
            match item {
                Incoming::Latency(rtt) => {
                    self.latency = Some(rtt);
                    return None;
                }
                Incoming::Reconnecting(attempt, delay) => {
                    ClientEvent::Reconnecting { attempt, delay }
                }
                Incoming::Connected(id, settings) => {
                    self.me = Some(id);
                    self.settings = Some(settings);
                    self.connected = true;
                    ClientEvent::Connected { id }
                }
                Incoming::Paused(reason) => {
                    self.connected = false;
                    ClientEvent::Paused(reason)
                }
                Incoming::Resumed(id, settings) => {
                    self.me = Some(id);
                    self.settings = Some(settings);
                    self.connected = true;
                    ClientEvent::Resumed { id }
                }
                Incoming::Event(event) => ClientEvent::Event(event),
                Incoming::Sync(frame) => ClientEvent::StateSync(self.world.apply(frame)),
                Incoming::Error(error) => ClientEvent::Error(error),
                Incoming::Disconnected(reason) => {
                    self.connected = false;
                    self.world.clear();
                    ClientEvent::Disconnected(reason)
                }
            }
        })
    }

    /// Every mirrored player's state, and the shared server state, as of the last
    /// [`poll`](Self::poll).
    #[must_use]
    pub fn world(&self) -> &World<P> {
        &self.world
    }

    /// The round-trip time to the server, as the server last measured it.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// The limits and timings the server announced in the last welcome polled
    /// (see [`ClientCtx::settings`](super::ClientCtx::settings)); `None` before
    /// the first.
    #[must_use]
    pub fn settings(&self) -> Option<&Settings> {
        self.settings.as_ref()
    }

    /// The code of the match the client joined (see
    /// [`ClientCtx::match_code`](super::ClientCtx::match_code)); `None` before the
    /// first welcome is polled.
    #[must_use]
    pub fn match_code(&self) -> Option<&str> {
        self.settings.as_ref()?.match_code.as_deref()
    }

    /// This client's player id, once the welcome has been polled.
    #[must_use]
    pub fn id(&self) -> Option<PlayerId> {
        self.me
    }

    /// Whether the connection is open, as of the last [`poll`](Self::poll).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Queues an event for the server.
    ///
    /// # Errors
    /// As [`ClientSender::send`].
    pub fn send(&self, event: P::ToServer) -> Result<(), ClientError> {
        self.sender.send(event)
    }

    /// What the client has received and sent so far, counted on the connection's
    /// thread as frames arrive: it may be ahead of what [`poll`](Self::poll) has
    /// returned, never behind. See [`ClientStats`].
    #[must_use]
    pub fn stats(&self) -> ClientStats {
        self.sender.stats()
    }

    /// A sender for other threads.
    #[must_use]
    pub fn sender(&self) -> ClientSender<P> {
        self.sender.clone()
    }

    /// Stops the client: closes the connection, or abandons the attempt to open
    /// one; a [`ClientEvent::Disconnected`] with [`Disconnect::Local`] follows
    /// either way. See [`ClientSender::disconnect`].
    pub fn disconnect(&self) {
        self.sender.disconnect();
    }
}

impl<P: Protocol> Drop for PollClient<P> {
    fn drop(&mut self) {
        self.sender.disconnect();
        // Dropping the receiver unblocks the background thread if it waits for room.
        let (_, closed) = std_mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.incoming, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
