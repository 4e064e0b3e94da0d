//! A player, connected or paused: identity, tracked state, timestamps and its send
//! queue.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;

use crate::id_map::{IdMap, IdSet};
use crate::server::direct_write::SharedSocket;
use crate::server::error::SendError;
use crate::server::game::frame::{Frame, Wires};
use crate::server::game::session::Session;
use crate::server::port::Identity;
use crate::server::port::{HardClose, Outgoing, Seat};
use crate::sync::{FieldMask, Tracked};
use crate::wire::{encode_event, json, CloseReason, NetId, WireFormat};
use crate::{EntityId, PlayerId, Protocol, SyncState};

/// A player, as handlers see it: connected, or [paused](Self::is_paused) while its
/// client may resume it after a lost connection.
///
/// The typed twin of Python nodelink's `Player`: `player.id`, `player.state`,
/// `set_state(key, value)` (here `state_mut().set_x(value)`), `update_state`,
/// `clear_state`, `send`, `connected_at`, `last_seen`.
pub struct Player<P: Protocol> {
    pub(crate) id: PlayerId,
    pub(crate) net_id: NetId,
    pub(crate) state: Tracked<P::State>,
    pub(crate) addr: SocketAddr,
    pub(crate) wire: WireFormat,
    pub(crate) connected_at: SystemTime,
    /// When the player connected, on the monotonic clock.
    pub(crate) joined: Instant,
    /// When the last frame from this player arrived: the idle timeout's clock, and
    /// `last_seen` (one clock read per frame, not two).
    pub(crate) heard: Instant,
    /// The connection, while there is one: `None` while the player is paused.
    pub(crate) link: Option<Link>,
    /// What its client needs to resume it after a lost connection; `None` when the
    /// player cannot be resumed (a JSON client, or resuming disabled).
    pub(crate) session: Option<RefCell<Session>>,
    /// What the authentication hook attached.
    pub(crate) identity: Option<Identity>,
    /// The player's place in its match and in the server's count, given back
    /// when the player is dropped.
    _seat: Seat,
    /// This player missed a sync frame (its queue was full) and is owed a snapshot.
    pub(crate) needs_snapshot: bool,
    /// Since when the send queue has been full, if it is.
    pub(crate) full_since: Cell<Option<Instant>>,
    /// An event (not state) did not fit the send queue, or, while paused, the
    /// session's buffer: the player is a slow consumer, or its session can no
    /// longer be resumed, and it is disconnected at the next tick.
    pub(crate) overflowed: Cell<bool>,
    /// While `on_join` runs: what it sent this player, queued after the snapshot
    /// so that the client's first frame after its welcome is its first mirror.
    held: RefCell<Option<Vec<Outgoing>>>,
    /// The rooms this player is in, by name.
    pub(crate) rooms: Vec<String>,
    /// With room-scoped sync or a player visibility rule: the other players this
    /// player's client mirrors.
    pub(crate) visible: IdSet,
    /// The tagged fields of other players this player's client receives, by
    /// player (with a rule for some tag).
    pub(crate) tag_sight: IdMap<FieldMask>,
    /// With a player visibility rule: its join snapshot was taken in the middle
    /// of a tick, so it already shows changes the tick's frames would send again;
    /// its next view announces everyone it sees afresh instead.
    pub(crate) fresh_view: bool,
    /// With an entity visibility hook: the entities this player's client mirrors.
    pub(crate) seen_entities: BTreeSet<EntityId>,
    /// The last measured round trip.
    pub(crate) ping: Option<Duration>,
    /// The ping awaiting its pong: sequence number and when it was queued.
    pub(crate) ping_pending: Option<(u32, Instant)>,
    pub(crate) ping_seq: u32,
}

impl<P: Protocol> std::fmt::Debug for Player<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .field("dirty", &self.state.dirty())
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Player<P> {
    pub(crate) fn new(
        id: PlayerId,
        net_id: NetId,
        connection: Connection,
        session: Option<Session>,
    ) -> Self {
        let now = SystemTime::now();
        Self {
            id,
            net_id,
            state: Tracked::new(P::State::default()),
            addr: connection.addr,
            wire: connection.wire,
            connected_at: now,
            joined: Instant::now(),
            heard: Instant::now(),
            link: Some(connection.link),
            session: session.map(RefCell::new),
            identity: connection.identity,
            _seat: connection.seat,
            needs_snapshot: false,
            full_since: Cell::new(None),
            overflowed: Cell::new(false),
            held: RefCell::new(None),
            rooms: Vec::new(),
            visible: IdSet::default(),
            tag_sight: IdMap::default(),
            fresh_view: false,
            seen_entities: BTreeSet::new(),
            ping: None,
            ping_pending: None,
            ping_seq: 0,
        }
    }

    /// The player's id.
    #[must_use]
    pub fn id(&self) -> PlayerId {
        self.id
    }

    /// The player's synced state.
    #[must_use]
    pub fn state(&self) -> &P::State {
        self.state.get()
    }

    /// The state's typed setters (`set_x(…)`); each marks its field for the next
    /// sync only when the value changes. For a state `Avatar`, this is the
    /// `AvatarMut<'_>` its derive generates beside it, the type a helper function
    /// takes:
    ///
    /// ```no_run
    /// # use nodelink::{Protocol, SyncState};
    /// # #[nodelink::events] pub enum ToServer { Move { x: f32 } }
    /// # #[nodelink::events] pub enum ToClient {}
    /// # #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
    /// # pub struct Game;
    /// use nodelink::server::{Server, ServerConfig};
    ///
    /// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
    /// pub struct Avatar {
    ///     pub x: f32,
    /// }
    ///
    /// /// A rule of the game, apart from the handler that applies it.
    /// fn walk(mut avatar: AvatarMut<'_>, x: f32) {
    ///     avatar.set_x(x.clamp(0.0, 800.0));
    /// }
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.on_move(|ctx, ToServerMove { x }| walk(ctx.player().state_mut(), x));
    /// ```
    pub fn state_mut(&mut self) -> <P::State as SyncState>::Mut<'_> {
        self.state.state_mut()
    }

    /// Changes several fields in one closure; the changed ones are synced.
    pub fn update_state(&mut self, change: impl FnOnce(&mut P::State)) {
        self.state.update(change);
    }

    /// Replaces the whole state; the fields that differ are synced.
    pub fn set_state(&mut self, state: P::State) {
        self.state.set(state);
    }

    /// Resets the state to its `Default`; the fields that differ are synced.
    pub fn clear_state(&mut self) {
        self.state.clear();
    }

    /// Sends an event to this player only. While the player is
    /// [paused](Self::is_paused), the event is kept for its client, which gets it
    /// when it resumes.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] when the player is not reading fast enough (the event
    /// is dropped), [`SendError::Disconnected`] when it is gone.
    pub fn send(&self, event: P::ToClient) -> Result<(), SendError> {
        let frame = Frame::encode(
            Wires::one(self.wire),
            || encode_event(&event),
            || json::encode_event(&event),
        )?;
        self.send_event_frame(&frame)
    }

    /// Queues an event's frame; an event that does not fit marks the player a slow
    /// consumer, to be disconnected. A resumable player's session keeps the frame
    /// too, so that it reaches the client even if this connection drops before
    /// delivering it, or is gone already (the player is paused).
    pub(crate) fn send_event_frame(&self, frame: &Frame) -> Result<(), SendError> {
        let sent = self.send_frame(frame);
        if sent == Err(SendError::QueueFull) {
            self.overflowed.set(true);
        }
        let Some(session) = &self.session else {
            return sent;
        };
        if let Some(bytes) = frame.native() {
            if !session.borrow_mut().record(bytes) {
                self.overflowed.set(true);
            }
        }
        match sent {
            Err(SendError::Disconnected) => Ok(()),
            other => other,
        }
    }

    /// Queues a frame in this player's wire format.
    pub(crate) fn send_frame(&self, frame: &Frame) -> Result<(), SendError> {
        match frame.for_wire(self.wire) {
            Some(item) => self.send_item(item),
            None => {
                // Frames are encoded for the wires of their recipients; a miss is a
                // bug, and the player would only lose this frame.
                tracing::error!(player = %self.id, wire = ?self.wire, "frame not encoded for this player's wire");
                Ok(())
            }
        }
    }

    /// How many frames the queue takes now, and at most: a snapshot of several
    /// frames is queued only when all of them fit. `(0, 0)` once disconnected.
    pub(crate) fn queue_room(&self) -> (usize, usize) {
        let Some(link) = &self.link else {
            return (0, 0);
        };
        let max = link.outbox.max_capacity();
        let free = match self.held.borrow().as_ref() {
            Some(held) => max.saturating_sub(held.len()),
            None => link.outbox.capacity(),
        };
        (free, max)
    }

    /// Records what [`queue_room`](Self::queue_room) found, as a send would have:
    /// a full queue starts the slow-consumer clock, a queue with room stops it,
    /// though what waits for that room (a snapshot of several frames) is not sent.
    pub(crate) fn note_queue_room(&self, free: usize) {
        if free > 0 {
            self.full_since.set(None);
        } else if self.full_since.get().is_none() {
            self.full_since.set(Some(Instant::now()));
        }
    }

    /// Holds what is sent to this player until [`release_held`](Self::release_held).
    pub(crate) fn hold_sends(&self) {
        *self.held.borrow_mut() = Some(Vec::new());
    }

    /// Whether sends are held (while `on_join` runs, before its snapshot).
    pub(crate) fn holds_sends(&self) -> bool {
        self.held.borrow().is_some()
    }

    /// Ends [`hold_sends`](Self::hold_sends): what was held, in order.
    pub(crate) fn release_held(&self) -> Vec<Outgoing> {
        self.held.borrow_mut().take().unwrap_or_default()
    }

    /// Queues an item, keeping track of how long the queue has been full.
    pub(crate) fn send_item(&self, item: Outgoing) -> Result<(), SendError> {
        let Some(link) = &self.link else {
            return Err(SendError::Disconnected);
        };
        if let Some(held) = self.held.borrow_mut().as_mut() {
            // Held items are bounded as the queue is.
            if held.len() >= link.outbox.max_capacity() {
                return Err(SendError::QueueFull);
            }
            held.push(item);
            return Ok(());
        }
        match link.socket.send(item, &link.outbox) {
            Ok(()) => {
                self.full_since.set(None);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self.full_since.get().is_none() {
                    self.full_since.set(Some(Instant::now()));
                }
                Err(SendError::QueueFull)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::Disconnected),
        }
    }

    /// Records that a frame from this player arrived.
    pub(crate) fn heard_from(&mut self) {
        self.heard = Instant::now();
    }

    /// Closes the connection with `reason`: after the frames already queued, or at
    /// once when the queue is full (the peer is not reading).
    pub(crate) fn close(&self, reason: CloseReason) {
        if let Some(link) = &self.link {
            if link
                .socket
                .send(Outgoing::Close(reason), &link.outbox)
                .is_err()
            {
                link.hard_close.close(reason);
            }
        }
    }

    /// The id of the connection the player has now, if any.
    pub(crate) fn link_id(&self) -> Option<u64> {
        self.link.as_ref().map(|link| link.id)
    }

    /// Records what the player's current connection has read so far, when it is
    /// `link`; `false` when `link` is an older connection, whose news is stale.
    pub(crate) fn heard_on(&mut self, link: u64, read: u64) -> bool {
        if self.link_id() != Some(link) {
            return false;
        }
        self.heard = Instant::now();
        if let Some(session) = &self.session {
            session.borrow_mut().read_on_link(read);
        }
        true
    }

    /// Whether this player is a slow consumer: an event did not fit its queue, or
    /// the queue has been full for longer than `patience`.
    pub(crate) fn is_slow(&self, now: Instant, patience: Duration) -> bool {
        self.overflowed.get()
            || self
                .full_since
                .get()
                .is_some_and(|since| now.duration_since(since) >= patience)
    }

    /// What the authentication hook attached to this player, if it is a `T`.
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig, Rejection};
    /// # use nodelink::{PlayerId, Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)]
    /// # pub struct Game;
    /// struct Account { name: String }
    ///
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.authenticate(|request| async move {
    ///     match request.query_param("token").as_deref() {
    ///         Some("secret") => Ok(Account { name: "ada".into() }),
    ///         _ => Err(Rejection::unauthorized("a valid token is required")),
    ///     }
    /// });
    /// server.on_connect(|ctx| {
    ///     let name = ctx.player().identity::<Account>().map(|a| a.name.clone());
    ///     println!("{name:?} joined");
    /// });
    /// ```
    #[must_use]
    pub fn identity<T: Any>(&self) -> Option<&T> {
        self.identity.as_deref()?.downcast_ref()
    }

    /// When the player connected.
    #[must_use]
    pub fn connected_at(&self) -> SystemTime {
        self.connected_at
    }

    /// When the last frame from this player arrived.
    #[must_use]
    pub fn last_seen(&self) -> SystemTime {
        self.connected_at + self.heard.saturating_duration_since(self.joined)
    }

    /// The peer's address (of its latest connection, when it resumed).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the player is paused: its connection was lost and the server holds
    /// it for its client to resume, up to
    /// [`ServerConfig::resume_grace`](crate::server::ServerConfig::resume_grace). A paused
    /// player stays in the table, its rooms and other clients' mirrors; events sent
    /// to it are kept for its client; sync frames are not sent to it (it gets a
    /// snapshot when it resumes).
    ///
    /// ```no_run
    /// # use nodelink::server::{Server, ServerConfig};
    /// # use nodelink::{Protocol, SyncState};
    /// # #[derive(SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)]
    /// # pub struct Game;
    /// let mut server = Server::<Game>::new(ServerConfig::default());
    /// server.on_tick(|ctx, _dt| {
    ///     let away = ctx.players().filter(|player| player.is_paused()).count();
    ///     println!("{away} players are reconnecting");
    /// });
    /// ```
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.link.is_none()
    }

    /// The wire format this player's client speaks: [`WireFormat::Native`] for
    /// nodelink's client, [`WireFormat::Json`] for Python nodelink's (and any client
    /// that offered no nodelink subprotocol).
    #[must_use]
    pub fn wire(&self) -> WireFormat {
        self.wire
    }

    /// The last measured round-trip time to this player's client, once a ping was
    /// answered (see [`ServerConfig::ping_interval`](crate::server::ServerConfig::ping_interval)).
    #[must_use]
    pub fn ping(&self) -> Option<Duration> {
        self.ping
    }

    /// The names of the rooms this player is in.
    pub fn rooms(&self) -> impl Iterator<Item = &str> {
        self.rooms.iter().map(String::as_str)
    }

    /// Whether the player is in the room called `name`.
    #[must_use]
    pub fn in_room(&self, name: &str) -> bool {
        self.rooms.iter().any(|room| room == name)
    }

    /// [`info`](Self::info) with the state as a JSON object (every synced field),
    /// for views that know nothing of the protocol.
    pub(crate) fn info_json(&self) -> PlayerInfo<String> {
        let state = json::state_json(self.state.get()).unwrap_or_else(|error| {
            serde_json::json!({ "state not encoded": error.to_string() }).to_string()
        });
        PlayerInfo {
            id: self.id,
            state,
            addr: self.addr,
            wire: self.wire,
            connected_at: self.connected_at,
            last_seen: self.last_seen(),
            ping: self.ping,
            rooms: self.rooms.clone(),
            paused: self.is_paused(),
        }
    }

    pub(crate) fn info(&self) -> PlayerInfo<P::State> {
        PlayerInfo {
            id: self.id,
            state: self.state.get().clone(),
            addr: self.addr,
            wire: self.wire,
            connected_at: self.connected_at,
            last_seen: self.last_seen(),
            ping: self.ping,
            rooms: self.rooms.clone(),
            paused: self.is_paused(),
        }
    }
}

/// A player's connection, as the world reaches it.
#[derive(Debug)]
pub(crate) struct Link {
    /// Tells this connection's news from that of the player's earlier ones.
    pub(crate) id: u64,
    pub(crate) outbox: mpsc::Sender<Outgoing>,
    /// The connection's socket, written to directly while its writer is idle.
    pub(crate) socket: Arc<SharedSocket>,
    /// Closes the connection without waiting for the queue to drain.
    pub(crate) hard_close: HardClose,
}

/// What a connection brings to a new player.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) addr: SocketAddr,
    pub(crate) wire: WireFormat,
    pub(crate) link: Link,
    pub(crate) identity: Option<Identity>,
    pub(crate) seat: Seat,
}

/// A snapshot of a player, for [`ServerHandle`](super::ServerHandle) queries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PlayerInfo<S> {
    /// The player's id.
    pub id: PlayerId,
    /// The player's state when the snapshot was taken.
    pub state: S,
    /// The peer's address.
    pub addr: SocketAddr,
    /// The wire format its client speaks.
    pub wire: WireFormat,
    /// When the player connected.
    pub connected_at: SystemTime,
    /// When the last frame from this player arrived.
    pub last_seen: SystemTime,
    /// The last measured round-trip time.
    pub ping: Option<Duration>,
    /// The rooms the player is in.
    pub rooms: Vec<String>,
    /// Whether the player is paused, waiting for its client to resume it.
    pub paused: bool,
}
