//! The frames of the native wire format, and their encoders and decoders.
//!
//! Every frame is one MessagePack array whose first element is the frame kind.
//! PROTOCOL.md documents each layout with hex examples that the tests check against
//! these encoders.

use bytes::Bytes;

use crate::entity_id::EntityId;
use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::events::Events;
use crate::player_id::PlayerId;
use crate::protocol::Protocol;
use crate::sync::{SyncState, Tick};
use crate::wire::msgpack::{Decoder, Encoder};
use crate::wire::{EntityEntry, ResumeToken, Settings, StateSelection, WIRE_VERSION};

const KIND_WELCOME: u64 = 0;
pub(crate) const KIND_EVENT: u64 = 1;
const KIND_SYNC: u64 = 2;
const KIND_PING: u64 = 3;
pub(crate) const KIND_PONG: u64 = 4;

/// A player's compact number on the wire, assigned by the server per connection and
/// announced once, with the player's [`PlayerId`], in the `joined` list of a sync
/// frame. Small numbers encode in one byte, which matters in a frame that carries
/// every changed player to every client on every tick.
///
/// A number is reused after its player leaves; a frame lists departures before
/// arrivals, so a receiver that applies them in that order never confuses the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NetId(pub u32);

/// The server's first frame on every connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Welcome {
    /// The server's [`Protocol::FINGERPRINT`](crate::Protocol::FINGERPRINT).
    pub fingerprint: u64,
    /// The id of the player this connection is.
    pub player: PlayerId,
    /// That player's compact number in sync frames.
    pub net_id: NetId,
    /// Sync ticks per second.
    pub tick_rate: u32,
    /// The server's limits and timings, as they apply to this connection.
    pub settings: Settings,
    /// The token that resumes this session after its connection drops; `None` when
    /// the server holds no session for this connection (resuming disabled).
    pub resume_token: Option<ResumeToken>,
    /// On a resumed session, how many event frames the server has received from
    /// the client on it: the client re-sends those after it. `None` on a new
    /// session.
    pub resumed: Option<u64>,
}

impl Welcome {
    /// Encodes `[0, wire_version, fingerprint, player, net_id, tick_rate,
    /// settings]`, then the resume token when there is one and, on a resumed
    /// session, the count of events received.
    ///
    /// ```
    /// use nodelink::wire::{decode_server_frame, NetId, ResumeToken, ServerFrame, Settings, Welcome};
    /// use nodelink::PlayerId;
    /// # #[derive(nodelink::SyncState, Clone, Default, PartialEq)] pub struct S { x: u8 }
    /// # #[nodelink::events] pub enum E { Hello }
    /// # #[nodelink::protocol(state = S, to_server = E, to_client = E)]
    /// # pub struct Game;
    ///
    /// let welcome = Welcome {
    ///     fingerprint: 0xab,
    ///     player: PlayerId::from_raw(7),
    ///     net_id: NetId(0),
    ///     tick_rate: 20,
    ///     settings: Settings::default(),
    ///     resume_token: Some("000102030405060708090a0b0c0d0e0f".parse()?),
    ///     resumed: None,
    /// };
    /// let bytes = welcome.encode();
    /// match decode_server_frame::<Game>(&bytes, bytes.len())? {
    ///     ServerFrame::Welcome(decoded) => assert_eq!(decoded, welcome),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn encode(&self) -> Bytes {
        let token = self.resume_token.map(|token| token.to_string());
        // A count without a token cannot be written: the layout is positional.
        let resumed = self.resumed.filter(|_| token.is_some());
        let mut out = Encoder::with_capacity(64);
        out.array_len(7 + usize::from(token.is_some()) + usize::from(resumed.is_some()));
        out.uint(KIND_WELCOME);
        out.uint(WIRE_VERSION);
        out.uint(self.fingerprint);
        out.uint(self.player.raw().into());
        out.uint(self.net_id.0.into());
        out.uint(self.tick_rate.into());
        self.settings.encode(&mut out);
        if let Some(token) = &token {
            out.str(token);
        }
        if let Some(received) = resumed {
            out.uint(received);
        }
        Bytes::from(out.into_vec())
    }
}

/// Encodes an event as `[1, name, field…]`.
///
/// # Errors
/// When a field's `Serialize` impl fails.
///
/// ```
/// #[nodelink::events]
/// pub enum ToServer { Move { x: f32, y: f32 } }
///
/// let bytes = nodelink::wire::encode_event(&ToServer::Move { x: 1.0, y: 2.0 })?;
/// assert_eq!(bytes.len(), 17);
/// # Ok::<(), nodelink::EncodeError>(())
/// ```
pub fn encode_event<E: Events>(event: &E) -> Result<Bytes, EncodeError> {
    let mut out = Encoder::with_capacity(32);
    out.array_len(2 + event.field_count());
    out.uint(KIND_EVENT);
    out.str(event.name());
    event.encode_fields(&mut out)?;
    Ok(Bytes::from(out.into_vec()))
}

/// The fixed part of a sync frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncHeader {
    /// The server tick this frame belongs to.
    pub tick: Tick,
    /// How many players are online on the server.
    pub online: u32,
    /// Whether this frame begins a snapshot: the receiver forgets every player it
    /// mirrors and the server state, then applies the frame, in which each listed
    /// player and the server state carry every field.
    pub full: bool,
    /// Whether a snapshot continues in the next frame: the frames that follow, up
    /// to and including the first without this flag, add the remaining players.
    /// The mirror is complete once a frame without it has been applied.
    pub more: bool,
}

/// The `flags` element's bit for [`SyncHeader::full`].
const FLAG_FULL: u64 = 1;
/// The `flags` element's bit for [`SyncHeader::more`].
const FLAG_MORE: u64 = 2;

impl SyncHeader {
    /// The header of an ordinary frame (not part of a snapshot, or a snapshot's last
    /// continuation).
    #[must_use]
    pub fn delta(tick: Tick, online: u32) -> Self {
        Self {
            tick,
            online,
            full: false,
            more: false,
        }
    }

    /// The header of a snapshot in one frame.
    #[must_use]
    pub fn snapshot(tick: Tick, online: u32) -> Self {
        Self {
            full: true,
            ..Self::delta(tick, online)
        }
    }

    /// The `flags` element: bit 0 [`full`](Self::full), bit 1 [`more`](Self::more).
    #[must_use]
    pub fn flags(&self) -> u64 {
        (if self.full { FLAG_FULL } else { 0 }) | (if self.more { FLAG_MORE } else { 0 })
    }
}

/// Encodes a sync frame:
/// `[2, tick, online, flags, [left…], [[net_id, player_id]…], [[net_id, mask, value…]…], server]`
/// where `server` is `nil` or `[mask, value…]` for the protocol's shared server state.
///
/// `players` gives, for each player to include, its number, its state and the fields
/// to send; `server` the shared state and its fields to send. Values are written
/// straight from the states: nothing is cloned.
///
/// # Errors
/// When a field's `Serialize` impl fails.
pub fn encode_sync<'a, P, I>(
    header: SyncHeader,
    left: &[NetId],
    joined: &[(NetId, PlayerId)],
    players: I,
    server: Option<(&P::ServerState, StateSelection<'_, P::ServerState>)>,
) -> Result<Bytes, EncodeError>
where
    P: Protocol,
    I: IntoIterator<Item = (NetId, &'a P::State, StateSelection<'a, P::State>)>,
    I::IntoIter: ExactSizeIterator,
{
    let no_entities: [EntityEntry<'_, P>; 0] = [];
    encode_sync_with_entities::<P, _, _>(header, left, joined, players, server, &[], no_entities)
}

/// Encodes a sync frame that may carry entity changes: as [`encode_sync`], plus
/// `despawned` (the entities the receiver must forget) and `entities` (entries
/// `[entity_id, mask, value…]`; a spawned entity, or one that came into view, with
/// every field). With no entity change the frame has the usual eight elements;
/// with some, ten: `[…, server, [despawned…], [[entity_id, mask, value…]…]]`.
///
/// # Errors
/// When a field's `Serialize` impl fails.
pub fn encode_sync_with_entities<'a, 'e, P, I, J>(
    header: SyncHeader,
    left: &[NetId],
    joined: &[(NetId, PlayerId)],
    players: I,
    server: Option<(&P::ServerState, StateSelection<'_, P::ServerState>)>,
    despawned: &[EntityId],
    entities: J,
) -> Result<Bytes, EncodeError>
where
    P: Protocol,
    I: IntoIterator<Item = (NetId, &'a P::State, StateSelection<'a, P::State>)>,
    I::IntoIter: ExactSizeIterator,
    J: IntoIterator<Item = EntityEntry<'e, P>>,
    J::IntoIter: ExactSizeIterator,
{
    let players = players.into_iter();
    let entities = entities.into_iter();
    let with_entities = !despawned.is_empty() || entities.len() > 0;
    let mut out = Encoder::with_capacity(
        16 + 4 * left.len() + 8 * joined.len() + 16 * players.len() + 16 * entities.len(),
    );
    out.array_len(if with_entities { 10 } else { 8 });
    out.uint(KIND_SYNC);
    out.uint(header.tick.0);
    out.uint(header.online.into());
    out.uint(header.flags());
    out.array_len(left.len());
    for net_id in left {
        out.uint(net_id.0.into());
    }
    out.array_len(joined.len());
    for (net_id, player) in joined {
        out.array_len(2);
        out.uint(net_id.0.into());
        out.uint(player.raw().into());
    }
    out.array_len(players.len());
    for (net_id, state, selection) in players {
        let mask = state.selected(selection);
        out.array_len(2 + mask.len());
        out.uint(net_id.0.into());
        out.uint(mask.bits());
        state.encode_fields(selection, &mut out)?;
    }
    match server {
        Some((state, selection)) => {
            let mask = state.selected(selection);
            out.array_len(1 + mask.len());
            out.uint(mask.bits());
            state.encode_fields(selection, &mut out)?;
        }
        None => out.nil(),
    }
    if with_entities {
        out.array_len(despawned.len());
        for id in despawned {
            out.uint(id.raw().into());
        }
        out.array_len(entities.len());
        for (id, entity, selection) in entities {
            let mask = entity.selected(selection);
            out.array_len(2 + mask.len());
            out.uint(id.raw().into());
            out.uint(mask.bits());
            entity.encode_fields(selection, &mut out)?;
        }
    }
    Ok(Bytes::from(out.into_vec()))
}

/// Encodes a ping: `[3, seq, rtt_us]`, where `rtt_us` is the round trip the server
/// measured for this client's previous ping, in microseconds (0 before the first),
/// so the client knows its own latency. The client answers with a pong carrying
/// `seq`.
#[must_use]
pub fn encode_ping(seq: u32, rtt_us: u32) -> Bytes {
    let mut out = Encoder::with_capacity(12);
    out.array_len(3);
    out.uint(KIND_PING);
    out.uint(seq.into());
    out.uint(rtt_us.into());
    Bytes::from(out.into_vec())
}

/// Encodes a pong: `[4, seq]`, the answer to the ping with that sequence number.
#[must_use]
pub fn encode_pong(seq: u32) -> Bytes {
    let mut out = Encoder::with_capacity(8);
    out.array_len(2);
    out.uint(KIND_PONG);
    out.uint(seq.into());
    Bytes::from(out.into_vec())
}

/// A decoded sync frame: what changed on the server since the previous one.
pub struct SyncFrame<P: Protocol> {
    /// The tick, online count and snapshot flag.
    pub header: SyncHeader,
    /// Players who left; apply first.
    pub left: Vec<NetId>,
    /// Players who joined, with their ids; apply second.
    pub joined: Vec<(NetId, PlayerId)>,
    /// Each listed player's changed fields; apply last.
    pub players: Vec<(NetId, <P::State as SyncState>::Delta)>,
    /// The shared server state's changed fields, if any changed.
    pub server: Option<<P::ServerState as SyncState>::Delta>,
    /// Entities to forget (despawned, or out of view); apply after the players.
    pub despawned: Vec<EntityId>,
    /// Each listed entity's changed fields (every field for one the receiver does
    /// not know yet: spawned, or come into view); apply last.
    pub entities: Vec<(EntityId, <P::Entity as SyncState>::Delta)>,
}

impl<P: Protocol> std::fmt::Debug for SyncFrame<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncFrame")
            .field("header", &self.header)
            .field("left", &self.left)
            .field("joined", &self.joined)
            .field("players", &self.players)
            .field("server", &self.server)
            .field("despawned", &self.despawned)
            .field("entities", &self.entities)
            .finish()
    }
}

impl<P: Protocol> Clone for SyncFrame<P> {
    fn clone(&self) -> Self {
        Self {
            header: self.header,
            left: self.left.clone(),
            joined: self.joined.clone(),
            players: self.players.clone(),
            server: self.server.clone(),
            despawned: self.despawned.clone(),
            entities: self.entities.clone(),
        }
    }
}

impl<P: Protocol> PartialEq for SyncFrame<P> {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.left == other.left
            && self.joined == other.joined
            && self.players == other.players
            && self.server == other.server
            && self.despawned == other.despawned
            && self.entities == other.entities
    }
}

/// A frame from the server.
pub enum ServerFrame<P: Protocol> {
    /// The first frame on a connection.
    Welcome(Welcome),
    /// A typed event.
    Event(P::ToClient),
    /// State changes.
    Sync(SyncFrame<P>),
    /// A latency probe, to be answered with a pong.
    Ping {
        /// Echo this in the pong.
        seq: u32,
        /// The round trip the server measured for the previous ping, in
        /// microseconds; 0 before the first.
        rtt_us: u32,
    },
}

impl<P: Protocol> std::fmt::Debug for ServerFrame<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Welcome(welcome) => f.debug_tuple("Welcome").field(welcome).finish(),
            Self::Event(event) => f.debug_tuple("Event").field(&event.name()).finish(),
            Self::Sync(sync) => f.debug_tuple("Sync").field(sync).finish(),
            Self::Ping { seq, rtt_us } => f
                .debug_struct("Ping")
                .field("seq", seq)
                .field("rtt_us", rtt_us)
                .finish(),
        }
    }
}

impl<P: Protocol> PartialEq for ServerFrame<P>
where
    P::ToClient: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Welcome(a), Self::Welcome(b)) => a == b,
            (Self::Event(a), Self::Event(b)) => a == b,
            (Self::Sync(a), Self::Sync(b)) => a == b,
            (Self::Ping { seq: a, rtt_us: x }, Self::Ping { seq: b, rtt_us: y }) => {
                a == b && x == y
            }
            _ => false,
        }
    }
}

/// A frame from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame<E> {
    /// A typed event.
    Event(E),
    /// The answer to the ping with this sequence number.
    Pong(u32),
}

fn check_len(bytes: &[u8], max_len: usize) -> Result<(), DecodeError> {
    if bytes.len() > max_len {
        return Err(DecodeError::FrameTooLarge {
            len: bytes.len(),
            max: max_len,
        });
    }
    Ok(())
}

/// Reads the array header and kind tag every frame starts with.
fn open_frame<'a>(
    bytes: &'a [u8],
    max_len: usize,
) -> Result<(Decoder<'a>, usize, u64), DecodeError> {
    check_len(bytes, max_len)?;
    let mut input = Decoder::new(bytes);
    let len = input.array_len("frame")?;
    if len == 0 {
        return Err(DecodeError::Malformed("frame: empty array".into()));
    }
    let kind = input.uint("frame kind")?;
    Ok((input, len - 1, kind))
}

/// The kind of a frame, read without decoding the rest: what each side counts to
/// resume a session. `None` when the bytes do not start like a frame.
pub(crate) fn frame_kind(bytes: &[u8]) -> Option<u64> {
    // Every frame a client sends starts so: an array of under 16 elements (a
    // fixarray byte), then a kind under 128 (a positive fixint). Read on every
    // frame a server receives, so read directly.
    if let [0x91..=0x9f, kind @ 0x00..=0x7f, ..] = bytes {
        return Some(u64::from(*kind));
    }
    decoded_frame_kind(bytes)
}

/// [`frame_kind`] through the decoder, for every other start.
fn decoded_frame_kind(bytes: &[u8]) -> Option<u64> {
    let mut input = Decoder::new(bytes);
    match input.array_len("frame") {
        Ok(len) if len > 0 => input.uint("frame kind").ok(),
        _ => None,
    }
}

fn expect_len(what: &str, found: usize, expected: usize) -> Result<(), DecodeError> {
    if found != expected {
        return Err(DecodeError::Malformed(format!(
            "{what}: {found} elements, expected {expected}"
        )));
    }
    Ok(())
}

fn u32_field(input: &mut Decoder<'_>, what: &str) -> Result<u32, DecodeError> {
    let value = input.uint(what)?;
    u32::try_from(value)
        .map_err(|_| DecodeError::Malformed(format!("{what}: {value} is out of range")))
}

fn decode_event_body<E: Events>(input: &mut Decoder<'_>, fields: usize) -> Result<E, DecodeError> {
    let Some(fields) = fields.checked_sub(1) else {
        return Err(DecodeError::Malformed("event frame: no event name".into()));
    };
    let name = input.name_in("event name", E::NAMES)?;
    input.expect_fields(fields);
    let event = E::decode_fields(name, input)?;
    let owner = FieldOwner::Event(event.name());
    input.end_fields(owner)?;
    Ok(event)
}

fn decode_welcome(input: &mut Decoder<'_>, fields: usize) -> Result<Welcome, DecodeError> {
    // The version first, whatever the length: a welcome of another version is
    // reported as such, not as a malformed one.
    if fields == 0 {
        return Err(DecodeError::Malformed(
            "welcome frame: no wire version".into(),
        ));
    }
    let version = input.uint("wire version")?;
    if version != WIRE_VERSION {
        return Err(DecodeError::WireVersion {
            expected: WIRE_VERSION,
            found: version,
        });
    }
    // The kind counted apart: 7, 8 or 9 elements.
    if !(6..=8).contains(&fields) {
        return Err(DecodeError::Malformed(format!(
            "welcome frame: {} elements, expected 7 to 9",
            fields + 1
        )));
    }
    let fingerprint = input.uint("fingerprint")?;
    let player = PlayerId::from_raw(u32_field(input, "player id")?);
    let net_id = NetId(u32_field(input, "net id")?);
    let tick_rate = u32_field(input, "tick rate")?;
    let settings = Settings::decode(input)?;
    let resume_token = if fields >= 7 {
        let text = input.str("resume token")?;
        let token = text
            .parse()
            .map_err(|error| DecodeError::Malformed(format!("resume token: {error}")))?;
        Some(token)
    } else {
        None
    };
    let resumed = if fields == 8 {
        Some(input.uint("events received")?)
    } else {
        None
    };
    Ok(Welcome {
        fingerprint,
        player,
        net_id,
        tick_rate,
        settings,
        resume_token,
        resumed,
    })
}

fn decode_sync<P: Protocol>(
    input: &mut Decoder<'_>,
    fields: usize,
) -> Result<SyncFrame<P>, DecodeError> {
    // Eight elements, or ten with entity changes (the kind counted apart).
    if fields != 7 && fields != 9 {
        return Err(DecodeError::Malformed(format!(
            "sync frame: {fields} elements, expected 7 or 9"
        )));
    }
    let tick = Tick(input.uint("tick")?);
    let online = u32_field(input, "online count")?;
    let flags = input.uint("sync flags")?;
    if flags & !(FLAG_FULL | FLAG_MORE) != 0 {
        return Err(DecodeError::Malformed(format!(
            "sync flags: unknown bits in {flags:#b}"
        )));
    }
    let header = SyncHeader {
        tick,
        online,
        full: flags & FLAG_FULL != 0,
        more: flags & FLAG_MORE != 0,
    };

    let count = input.array_len("left list")?;
    input.check_claim("left list", count)?;
    let mut left = Vec::with_capacity(cautious_capacity::<NetId>(count));
    for _ in 0..count {
        left.push(NetId(u32_field(input, "left net id")?));
    }

    let count = input.array_len("joined list")?;
    input.check_claim("joined list", count)?;
    let mut joined = Vec::with_capacity(cautious_capacity::<(NetId, PlayerId)>(count));
    for _ in 0..count {
        expect_len("joined entry", input.array_len("joined entry")?, 2)?;
        let net_id = NetId(u32_field(input, "joined net id")?);
        let player = PlayerId::from_raw(u32_field(input, "joined player id")?);
        joined.push((net_id, player));
    }

    let count = input.array_len("player list")?;
    input.check_claim("player list", count)?;
    let mut players =
        Vec::with_capacity(cautious_capacity::<(NetId, <P::State as SyncState>::Delta)>(count));
    for _ in 0..count {
        let len = input.array_len("player entry")?;
        let Some(values) = len.checked_sub(2) else {
            return Err(DecodeError::Malformed(format!(
                "player entry: {len} elements, expected at least 2"
            )));
        };
        let net_id = NetId(u32_field(input, "player net id")?);
        let delta = decode_delta::<P::State>(input, values)?;
        players.push((net_id, delta));
    }

    let server = if input.nil() {
        None
    } else {
        let len = input.array_len("server state")?;
        let Some(values) = len.checked_sub(1) else {
            return Err(DecodeError::Malformed("server state: no field mask".into()));
        };
        Some(decode_delta::<P::ServerState>(input, values)?)
    };

    let mut despawned = Vec::new();
    let mut entities = Vec::new();
    if fields == 9 {
        let count = input.array_len("despawned list")?;
        input.check_claim("despawned list", count)?;
        despawned.reserve_exact(cautious_capacity::<EntityId>(count));
        for _ in 0..count {
            despawned.push(EntityId::from_raw(u32_field(input, "despawned entity id")?));
        }
        let count = input.array_len("entity list")?;
        input.check_claim("entity list", count)?;
        entities.reserve_exact(cautious_capacity::<(
            EntityId,
            <P::Entity as SyncState>::Delta,
        )>(count));
        for _ in 0..count {
            let len = input.array_len("entity entry")?;
            let Some(values) = len.checked_sub(2) else {
                return Err(DecodeError::Malformed(format!(
                    "entity entry: {len} elements, expected at least 2"
                )));
            };
            let id = EntityId::from_raw(u32_field(input, "entity id")?);
            entities.push((id, decode_delta::<P::Entity>(input, values)?));
        }
    }
    Ok(SyncFrame {
        header,
        left,
        joined,
        players,
        server,
        despawned,
        entities,
    })
}

/// Room to reserve for a list whose header claims `count` items: all of them up to
/// a megabyte, so a whole frame's list is one allocation, but a hostile header
/// (a byte per claimed item) cannot make the receiver reserve many times the
/// frame's size before the items fail to decode.
fn cautious_capacity<T>(count: usize) -> usize {
    const MAX_RESERVED_BYTES: usize = 1 << 20;
    count.min(MAX_RESERVED_BYTES / std::mem::size_of::<T>().max(1))
}

/// Reads `mask, value…` (`values` values) into a delta of `S`.
fn decode_delta<S: SyncState>(
    input: &mut Decoder<'_>,
    values: usize,
) -> Result<S::Delta, DecodeError> {
    let mask = input.delta_mask(S::NAME, S::FIELDS.len())?;
    input.expect_fields(values);
    let delta = S::decode_fields(mask, input)?;
    input.end_fields(FieldOwner::State(S::NAME))?;
    Ok(delta)
}

/// Decodes a frame sent by the server, after checking it is at most `max_len` bytes.
///
/// # Errors
/// [`DecodeError`] for anything that is not a well-formed frame of this protocol;
/// never panics, whatever the bytes.
pub fn decode_server_frame<P: Protocol>(
    bytes: &[u8],
    max_len: usize,
) -> Result<ServerFrame<P>, DecodeError> {
    let (mut input, fields, kind) = open_frame(bytes, max_len)?;
    let frame = match kind {
        KIND_WELCOME => ServerFrame::Welcome(decode_welcome(&mut input, fields)?),
        KIND_EVENT => ServerFrame::Event(decode_event_body(&mut input, fields)?),
        KIND_SYNC => ServerFrame::Sync(decode_sync(&mut input, fields)?),
        KIND_PING => {
            expect_len("ping frame", fields, 2)?;
            ServerFrame::Ping {
                seq: u32_field(&mut input, "ping sequence")?,
                rtt_us: u32_field(&mut input, "round trip")?,
            }
        }
        other => return Err(DecodeError::UnknownFrameKind(other)),
    };
    input.finish()?;
    Ok(frame)
}

/// Decodes a frame sent by a client, after checking it is at most `max_len` bytes.
///
/// # Errors
/// [`DecodeError`] for anything that is not a well-formed frame of this protocol;
/// never panics, whatever the bytes.
pub fn decode_client_frame<E: Events>(
    bytes: &[u8],
    max_len: usize,
) -> Result<ClientFrame<E>, DecodeError> {
    let (mut input, fields, kind) = open_frame(bytes, max_len)?;
    let frame = match kind {
        KIND_EVENT => ClientFrame::Event(decode_event_body(&mut input, fields)?),
        KIND_PONG => {
            expect_len("pong frame", fields, 1)?;
            ClientFrame::Pong(u32_field(&mut input, "pong sequence")?)
        }
        other => return Err(DecodeError::UnknownFrameKind(other)),
    };
    input.finish()?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::{decoded_frame_kind, frame_kind};

    #[test]
    fn the_direct_read_of_a_frame_kind_agrees_with_the_decoder() {
        for first in 0..=u8::MAX {
            for second in 0..=u8::MAX {
                for rest in [
                    &[][..],
                    &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
                ] {
                    let mut bytes = vec![first, second];
                    bytes.extend_from_slice(rest);
                    assert_eq!(
                        frame_kind(&bytes),
                        decoded_frame_kind(&bytes),
                        "{bytes:02x?}"
                    );
                }
            }
        }
        assert_eq!(frame_kind(&[]), None);
        assert_eq!(frame_kind(&[0x92]), None);
    }
}
