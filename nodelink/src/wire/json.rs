//! The JSON wire: Python nodelink 0.6.0's text frames, so its clients can play on a
//! nodelink server.
//!
//! Every frame is a WebSocket text message holding `{"event": name, "data": payload}`.
//! Typed events map onto it through their wire names and field names:
//!
//! | variant | `data` |
//! |---|---|
//! | `Move { x: f32, y: f32 }` | `{"x": 1.0, "y": 2.0}` |
//! | `Chat(String)` | `"hello"` |
//! | `Pair(u8, u8)` | `[1, 2]` |
//! | `Ready` | `null` (`{}` and a missing `data` are accepted) |
//!
//! State reaches JSON clients as the `__state_sync__` event, exactly as Python
//! nodelink sends it: `{"t": unix seconds, "count": players online, "players":
//! {id: {field: value}}, "server": {field: value}}`, keyed by the `SyncState` field
//! names, with a player's whole state the first time a client sees it. Two keys are
//! added, which Python clients ignore unless they look: `"left": [id…]` lists the
//! players who left since the previous frame, and `"full": true` marks a snapshot
//! (drop every player it does not list).
//!
//! Python nodelink's clients receive no welcome; this wire sends one as the event
//! `__welcome__` with `{"id", "tick_rate", "settings"}`, so a client that registers
//! a handler for it learns its own id and the server's limits (the others ignore
//! it). Pings are `__ping__` with `{"t",
//! "seq", "rtt_us"}`, answered by the client's automatic `__pong__` echo of the
//! same data.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::entity_id::EntityId;
use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::events::Events;
use crate::player_id::PlayerId;
use crate::protocol::Protocol;
use crate::sync::{FieldMask, Selection, SyncState};
use crate::wire::fields::{FieldSink, FieldSource};
use crate::wire::ClientFrame;
use crate::wire::{EntityEntry, Settings, StateSelection};

/// The event name of the welcome frame.
pub const WELCOME_EVENT: &str = "__welcome__";
/// The event name of a state sync frame.
pub const SYNC_EVENT: &str = "__state_sync__";
/// The event name of a ping.
pub const PING_EVENT: &str = "__ping__";
/// The event name of a pong.
pub const PONG_EVENT: &str = "__pong__";

/// How an event variant's fields appear as `data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No fields: `null`.
    Unit,
    /// One unnamed field: the value itself.
    Newtype,
    /// Several unnamed fields: an array.
    Tuple,
    /// Named fields: an object.
    Named,
}

impl Shape {
    fn of(fields: &[&str]) -> Self {
        match fields {
            [] => Self::Unit,
            ["0"] => Self::Newtype,
            [first, ..] if first.starts_with(|c: char| c.is_ascii_digit()) => Self::Tuple,
            _ => Self::Named,
        }
    }
}

/// Writes JSON values into a buffer; as a [`FieldSink`], writes each field in the
/// layout of `shape`.
struct Writer {
    out: Vec<u8>,
    shape: Shape,
    first: bool,
}

impl Writer {
    fn new(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            shape: Shape::Named,
            first: true,
        }
    }

    fn raw(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn string(&mut self, text: &str) {
        // Writing a `str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.out, text);
    }

    /// Writes a player id as its quoted 8-hex string, without formatting machinery:
    /// a sync frame writes one per listed player.
    fn id(&mut self, id: PlayerId) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let raw = id.raw();
        self.out.push(b'"');
        for shift in (0..8).rev() {
            self.out.push(HEX[(raw >> (shift * 4)) as usize & 0xf]);
        }
        self.out.push(b'"');
    }

    /// Starts an object member: a comma unless it is the first, then `"key":`.
    fn key(&mut self, key: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        self.string(key);
        self.out.push(b':');
    }

    fn value<T: Serialize + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        serde_json::to_writer(&mut self.out, value).map_err(|error| EncodeError::Field {
            field,
            reason: error.to_string(),
        })
    }

    /// Writes the fields `selection` names as an object keyed by field name.
    fn state<S: SyncState>(
        &mut self,
        state: &S,
        selection: Selection<'_, S::Changes>,
    ) -> Result<(), EncodeError> {
        self.object(|out| state.encode_fields(selection, out))
    }

    /// Starts a value in the current container: `"name":` in an object, a comma
    /// between items in an array.
    fn member(&mut self, name: &str) {
        match self.shape {
            Shape::Named => self.key(name),
            Shape::Tuple => {
                if !std::mem::take(&mut self.first) {
                    self.out.push(b',');
                }
            }
            Shape::Newtype | Shape::Unit => {}
        }
    }

    /// Writes `{`, the members `write` writes, `}`.
    fn object(
        &mut self,
        write: impl FnOnce(&mut Self) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let (shape, first) = (self.shape, self.first);
        self.shape = Shape::Named;
        self.first = true;
        self.out.push(b'{');
        write(self)?;
        self.out.push(b'}');
        self.shape = shape;
        self.first = first;
        Ok(())
    }

    fn into_string(self) -> String {
        // Only `str`s and serde_json's own output went in: always UTF-8.
        String::from_utf8(self.out).unwrap_or_default()
    }
}

impl FieldSink for Writer {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.member(name);
        self.value(name, value)
    }

    fn nested<F>(&mut self, name: &'static str, _: FieldMask, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Self) -> Result<(), EncodeError>,
    {
        self.member(name);
        self.object(write)
    }

    fn seq<F>(&mut self, name: &'static str, _: usize, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Self) -> Result<(), EncodeError>,
    {
        self.member(name);
        let (shape, first) = (self.shape, self.first);
        self.shape = Shape::Tuple;
        self.first = true;
        self.out.push(b'[');
        write(self)?;
        self.out.push(b']');
        self.shape = shape;
        self.first = first;
        Ok(())
    }
}

/// The frame envelope: `{"event":"name","data":` … `}`.
fn open(out: &mut Writer, event: &str) {
    out.raw("{\"event\":");
    out.string(event);
    out.raw(",\"data\":");
}

/// Encodes an event as `{"event": name, "data": payload}`.
///
/// # Errors
/// When a field's `Serialize` impl fails, or a value has no JSON form (a map with
/// keys that are not strings or numbers).
///
/// ```
/// #[nodelink::events]
/// pub enum ToClient { Chat { from: nodelink::PlayerId, msg: String }, Start }
///
/// use nodelink::{wire::json, PlayerId};
/// let chat = ToClient::Chat { from: PlayerId::from_raw(0xc0ffee), msg: "hi".into() };
/// assert_eq!(
///     json::encode_event(&chat)?,
///     r#"{"event":"chat","data":{"from":"00c0ffee","msg":"hi"}}"#
/// );
/// assert_eq!(json::encode_event(&ToClient::Start)?, r#"{"event":"start","data":null}"#);
/// # Ok::<(), nodelink::EncodeError>(())
/// ```
pub fn encode_event<E: Events>(event: &E) -> Result<String, EncodeError> {
    let mut out = Writer::new(64);
    open(&mut out, event.name());
    let shape = E::FIELDS
        .get(event.index())
        .map_or(Shape::Unit, |fields| Shape::of(fields));
    out.shape = shape;
    match shape {
        Shape::Unit => out.raw("null"),
        Shape::Newtype => event.encode_fields(&mut out)?,
        Shape::Tuple => {
            out.out.push(b'[');
            event.encode_fields(&mut out)?;
            out.out.push(b']');
        }
        Shape::Named => {
            out.out.push(b'{');
            event.encode_fields(&mut out)?;
            out.out.push(b'}');
        }
    }
    out.raw("}");
    Ok(out.into_string())
}

/// A whole state as a JSON object keyed by field name, every synced field
/// (owner and tagged ones too), as the JSON wire writes a state: for operators'
/// views of a player of any protocol.
pub(crate) fn state_json<S: SyncState>(state: &S) -> Result<String, EncodeError> {
    let mut out = Writer::new(64);
    out.state(state, Selection::All)?;
    Ok(out.into_string())
}

/// Encodes the welcome:
/// `{"event":"__welcome__","data":{"id":…,"tick_rate":…,"settings":{…}}}`, the
/// settings with the keys and values of the native welcome's map.
///
/// ```
/// use nodelink::wire::{json, Settings};
/// use nodelink::PlayerId;
///
/// let text = json::encode_welcome(PlayerId::from_raw(0xc0ffee), 20, &Settings::default());
/// assert!(text.starts_with(r#"{"event":"__welcome__","data":{"id":"00c0ffee","tick_rate":20,"settings":{"ping_interval_ms":5000,"#));
/// ```
#[must_use]
pub fn encode_welcome(player: PlayerId, tick_rate: u32, settings: &Settings) -> String {
    let settings = settings.to_json();
    format!(
        r#"{{"event":"{WELCOME_EVENT}","data":{{"id":"{player}","tick_rate":{tick_rate},"settings":{settings}}}}}"#
    )
}

/// Encodes a ping: `{"event":"__ping__","data":{"t":…,"seq":…,"rtt_us":…}}`, where
/// `t` is `time` in Unix seconds (what Python nodelink sends), `seq` what the pong
/// must echo, and `rtt_us` the round trip measured for the previous ping (0 before
/// the first).
#[must_use]
pub fn encode_ping(seq: u32, rtt_us: u32, time: std::time::SystemTime) -> String {
    let t = unix_seconds(time);
    format!(r#"{{"event":"{PING_EVENT}","data":{{"t":{t},"seq":{seq},"rtt_us":{rtt_us}}}}}"#)
}

fn unix_seconds(time: std::time::SystemTime) -> f64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

/// The fixed part of a JSON sync frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncHeader {
    /// When the frame was built: `t`, in Unix seconds.
    pub time: std::time::SystemTime,
    /// How many players are online: `count`.
    pub online: u32,
    /// Whether the frame begins a snapshot: adds `"full": true`.
    pub full: bool,
    /// Whether a snapshot continues in the next frame: adds `"more": true`.
    pub more: bool,
}

/// Encodes a sync frame as Python nodelink's `__state_sync__` event:
/// `{"t", "count", "players": {id: {field: value}}}`, plus `"server"` when `server`
/// is given (and its mask is not empty), `"left": [id…]` when `left` is not empty,
/// `"full": true` on a snapshot's first frame and `"more": true` on every snapshot
/// frame that another follows.
///
/// # Errors
/// When a field's `Serialize` impl fails or a value has no JSON form.
///
/// ```
/// use nodelink::sync::Selection;
/// use nodelink::wire::json::{encode_sync, SyncHeader};
/// use nodelink::{PlayerId, Protocol, SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Avatar { x: f32, y: f32 }
/// #[nodelink::events]
/// pub enum Nothing {}
/// #[nodelink::protocol(state = Avatar, to_server = Nothing, to_client = Nothing)]
/// pub struct Game;
///
/// let mut avatar = Tracked::new(Avatar::default());
/// avatar.state_mut().set_x(1.5);
/// let header = SyncHeader { time: std::time::UNIX_EPOCH, online: 2, full: false, more: false };
/// let frame = encode_sync::<Game, _>(
///     header,
///     &[PlayerId::from_raw(7)],
///     [(PlayerId::from_raw(0xc0ffee), avatar.get(), Selection::Changed(avatar.changes()))],
///     None,
/// )?;
/// assert_eq!(
///     frame,
///     r#"{"event":"__state_sync__","data":{"t":0,"count":2,"players":{"00c0ffee":{"x":1.5}},"left":["00000007"]}}"#
/// );
/// # Ok::<(), nodelink::EncodeError>(())
/// ```
pub fn encode_sync<'a, P, I>(
    header: SyncHeader,
    left: &[PlayerId],
    players: I,
    server: Option<(&P::ServerState, StateSelection<'_, P::ServerState>)>,
) -> Result<String, EncodeError>
where
    P: Protocol,
    I: IntoIterator<Item = (PlayerId, &'a P::State, StateSelection<'a, P::State>)>,
{
    let no_entities: [EntityEntry<'_, P>; 0] = [];
    encode_sync_with_entities::<P, _, _>(header, left, players, server, &[], no_entities)
}

/// Encodes a sync frame that may carry entity changes: as [`encode_sync`], plus
/// `"despawned": [id…]` (entities to forget) and `"entities": {"id": {field:
/// value}}` (a spawned entity, or one that came into view, with every field),
/// each only when not empty. Entity ids are numbers, written in decimal as keys.
///
/// # Errors
/// When a field's `Serialize` impl fails or a value has no JSON form.
pub fn encode_sync_with_entities<'a, 'e, P, I, J>(
    header: SyncHeader,
    left: &[PlayerId],
    players: I,
    server: Option<(&P::ServerState, StateSelection<'_, P::ServerState>)>,
    despawned: &[EntityId],
    entities: J,
) -> Result<String, EncodeError>
where
    P: Protocol,
    I: IntoIterator<Item = (PlayerId, &'a P::State, StateSelection<'a, P::State>)>,
    J: IntoIterator<Item = EntityEntry<'e, P>>,
{
    let players = players.into_iter();
    let mut out = Writer::new(64 + 24 * players.size_hint().0 + 12 * left.len());
    open(&mut out, SYNC_EVENT);
    let t = unix_seconds(header.time);
    out.raw(&format!(
        r#"{{"t":{t},"count":{},"players":{{"#,
        header.online
    ));
    let mut first = true;
    for (id, state, selection) in players {
        if !std::mem::take(&mut first) {
            out.out.push(b',');
        }
        out.id(id);
        out.out.push(b':');
        out.state(state, selection)?;
    }
    out.out.push(b'}');
    if let Some((state, selection)) = server {
        if !state.selected(selection).is_empty() {
            out.raw(",\"server\":");
            out.state(state, selection)?;
        }
    }
    if !left.is_empty() {
        out.raw(",\"left\":[");
        for (i, id) in left.iter().enumerate() {
            if i > 0 {
                out.out.push(b',');
            }
            out.id(*id);
        }
        out.out.push(b']');
    }
    if !despawned.is_empty() {
        out.raw(",\"despawned\":[");
        for (i, id) in despawned.iter().enumerate() {
            if i > 0 {
                out.out.push(b',');
            }
            out.raw(&id.to_string());
        }
        out.out.push(b']');
    }
    let mut entities = entities.into_iter().peekable();
    if entities.peek().is_some() {
        out.raw(",\"entities\":{");
        for (i, (id, entity, selection)) in entities.enumerate() {
            if i > 0 {
                out.out.push(b',');
            }
            out.raw(&format!("\"{id}\":"));
            out.state(entity, selection)?;
        }
        out.out.push(b'}');
    }
    if header.full {
        out.raw(",\"full\":true");
    }
    if header.more {
        out.raw(",\"more\":true");
    }
    out.raw("}}");
    Ok(out.into_string())
}

/// Reads one field at a time out of a frame's `data`, in the layout of the
/// variant's shape. Only the layout is parsed up front (the object's keys, the
/// array's items), each value kept as its raw text; a field's value is read from
/// that text straight into its type, without an intermediate JSON tree.
struct Source<'s, 'a> {
    data: Data<'s, 'a>,
}

enum Data<'s, 'a> {
    None,
    Named(&'s mut Object<'a>),
    Tuple(Vec<&'a RawValue>, usize),
    Newtype(Option<&'a RawValue>),
}

impl<'a> Source<'_, 'a> {
    fn take(&mut self, name: &str) -> Option<&'a RawValue> {
        match &mut self.data {
            Data::Named(map) => map.remove(name),
            Data::Tuple(items, taken) => {
                let item = name
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i).copied());
                *taken += usize::from(item.is_some());
                item
            }
            Data::Newtype(value) => value.take(),
            Data::None => None,
        }
    }

    /// Fails if the payload holds more than the variant's fields.
    fn finish(self, owner: FieldOwner, fields: &[&str]) -> Result<(), DecodeError> {
        match self.data {
            Data::Named(object) => match object.first_key() {
                Some(field) => Err(DecodeError::UnknownField {
                    owner,
                    field: field.to_owned(),
                }),
                None => Ok(()),
            },
            Data::Tuple(items, _) if items.len() > fields.len() => Err(DecodeError::ExtraFields {
                owner,
                extra: items.len() - fields.len(),
            }),
            _ => Ok(()),
        }
    }
}

/// A value's error without serde_json's position, which is relative to the
/// value's own text and would only confuse.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(message) => message.to_owned(),
        None => message,
    }
}

impl FieldSource for Source<'_, '_> {
    fn field<T: DeserializeOwned>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
    ) -> Result<T, DecodeError> {
        match self.take(name) {
            Some(value) => serde_json::from_str(value.get()).map_err(|error| DecodeError::Field {
                owner,
                field: name,
                reason: without_position(&error),
            }),
            // An absent key is a `None` for an `Option` field, as JSON clients expect.
            None => T::deserialize(Value::Null)
                .map_err(|_| DecodeError::MissingField { owner, field: name }),
        }
    }

    fn nested<T, F>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
        _: &'static str,
        _: usize,
        _: F,
    ) -> Result<T, DecodeError>
    where
        F: FnOnce(FieldMask, &mut Self) -> Result<T, DecodeError>,
    {
        Err(not_in_events(owner, name))
    }

    fn seq<T, F>(&mut self, owner: FieldOwner, name: &'static str, _: F) -> Result<T, DecodeError>
    where
        F: FnOnce(usize, &mut Self) -> Result<T, DecodeError>,
    {
        Err(not_in_events(owner, name))
    }
}

/// JSON clients send events, whose fields are plain values; synced states (nested
/// ones, collections) only travel from the server to clients.
fn not_in_events(owner: FieldOwner, name: &'static str) -> DecodeError {
    DecodeError::Field {
        owner,
        field: name,
        reason: "a synced state value cannot be read from a JSON event".into(),
    }
}

/// The shape `data` must have for `shape`, for error messages.
fn expected(shape: Shape, fields: &[&str]) -> String {
    match shape {
        Shape::Unit => "no data (null or {})".to_owned(),
        Shape::Newtype => "a value".to_owned(),
        Shape::Tuple => format!("an array of {} values", fields.len()),
        Shape::Named => format!("an object with the fields {}", fields.join(", ")),
    }
}

/// Decodes a text frame sent by a JSON client, after checking it is at most
/// `max_len` bytes: an event of `E`, or a pong.
///
/// # Errors
/// [`DecodeError::Malformed`] for text that is not an `{"event", "data"}` object,
/// [`DecodeError::UnknownEvent`] for a name that is not a variant of `E`, and the
/// same field errors as the binary wire (naming the event and the field) for a
/// payload that does not fit the variant. Never panics, whatever the text.
///
/// ```
/// #[nodelink::events]
/// #[derive(Debug, PartialEq)]
/// pub enum ToServer { Move { x: f32, y: f32 }, Ready }
///
/// use nodelink::wire::{json, ClientFrame};
/// let frame = json::decode_client_frame::<ToServer>(r#"{"event": "move", "data": {"x": 1, "y": 2.5}}"#, 1024)?;
/// assert_eq!(frame, ClientFrame::Event(ToServer::Move { x: 1.0, y: 2.5 }));
///
/// let error = json::decode_client_frame::<ToServer>(r#"{"event": "move", "data": {"x": "left", "y": 0}}"#, 1024)
///     .unwrap_err();
/// assert_eq!(error.to_string(), "event `move`: field `x`: invalid type: string \"left\", expected f32");
/// # Ok::<(), nodelink::DecodeError>(())
/// ```
pub fn decode_client_frame<E: Events>(
    text: &str,
    max_len: usize,
) -> Result<ClientFrame<E>, DecodeError> {
    if text.len() > max_len {
        return Err(DecodeError::FrameTooLarge {
            len: text.len(),
            max: max_len,
        });
    }
    // Most frames are `{"event": name, "data": {fields}}`: read in one pass. Anything
    // else (or anything wrong) takes the general path, which explains what it finds.
    let mut object = Object::default();
    let mut reading = serde_json::Deserializer::from_str(text);
    let named =
        serde::de::DeserializeSeed::deserialize(NamedSeed { data: &mut object }, &mut reading)
            .and_then(|event| reading.end().map(|()| event));
    if let Ok(event) = named {
        if let Some(index) = E::NAMES.iter().position(|known| *known == event.0) {
            let fields = E::FIELDS.get(index).copied().unwrap_or(&[]);
            if Shape::of(fields) == Shape::Named {
                let wire_name = E::NAMES[index];
                let mut source = Source {
                    data: Data::Named(&mut object),
                };
                let event = E::decode_fields(wire_name, &mut source)?;
                source.finish(FieldOwner::Event(wire_name), fields)?;
                return Ok(ClientFrame::Event(event));
            }
        }
    }
    let Envelope { event, data } = serde_json::from_str(text)
        .map_err(|error| DecodeError::Malformed(format!("not a JSON event object: {error}")))?;
    let Key(name) = match event {
        Some(name) => serde_json::from_str(name.get()).map_err(|_| {
            DecodeError::Malformed(format!("`event` must be a string, not {}", shown(name)))
        })?,
        None => return Err(DecodeError::Malformed("no `event` key".into())),
    };
    if name == PONG_EVENT {
        return decode_pong(data);
    }
    let Some(index) = E::NAMES.iter().position(|known| *known == name) else {
        return Err(DecodeError::UnknownEvent {
            name: name.into_owned(),
        });
    };
    let (wire_name, fields) = (
        E::NAMES[index],
        E::FIELDS.get(index).copied().unwrap_or(&[]),
    );
    let shape = Shape::of(fields);
    let owner = FieldOwner::Event(wire_name);
    let malformed = |data: &RawValue| {
        DecodeError::Malformed(format!(
            "{owner}: `data` must be {}, not {}",
            expected(shape, fields),
            shown(data)
        ))
    };
    let first = data.and_then(|data| data.get().bytes().next());
    let data = match (shape, data, first) {
        (Shape::Unit | Shape::Named, None, _) | (Shape::Unit | Shape::Named, _, Some(b'n')) => {
            Data::None
        }
        (Shape::Unit, Some(data), Some(b'{')) => {
            object = serde_json::from_str(data.get()).map_err(|_| malformed(data))?;
            if object.first_key().is_some() {
                return Err(malformed(data));
            }
            Data::None
        }
        (Shape::Named, Some(data), Some(b'{')) => {
            object = serde_json::from_str(data.get()).map_err(|_| malformed(data))?;
            Data::Named(&mut object)
        }
        (Shape::Tuple, Some(data), Some(b'[')) => Data::Tuple(
            serde_json::from_str(data.get()).map_err(|_| malformed(data))?,
            0,
        ),
        (Shape::Newtype, data, _) => Data::Newtype(data),
        (_, Some(data), _) => return Err(malformed(data)),
        (_, None, _) => return Err(malformed(RawValue::NULL)),
    };
    let mut source = Source { data };
    let event = E::decode_fields(wire_name, &mut source)?;
    source.finish(owner, fields)?;
    Ok(ClientFrame::Event(event))
}

/// An object key or a name: borrowed from the frame's text unless it holds escapes.
#[derive(Debug, PartialEq, Eq)]
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(value)))
            }

            fn visit_str<E>(self, value: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(value.to_owned())))
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

/// A frame's two keys, each value kept as its raw text; other keys are skipped.
struct Envelope<'a> {
    event: Option<&'a RawValue>,
    data: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Envelope<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Envelope<'de>, A::Error> {
                let mut envelope = Envelope {
                    event: None,
                    data: None,
                };
                while let Some(Key(key)) = map.next_key()? {
                    match &*key {
                        "event" => envelope.event = Some(map.next_value()?),
                        "data" => envelope.data = Some(map.next_value()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(envelope)
            }
        }

        deserializer.deserialize_map(Visitor)
    }
}

/// Reads a frame whose `event` is a string and whose `data` is an object in one
/// pass, `data` into the given [`Object`]; other keys are skipped. Yields the event
/// name.
struct NamedSeed<'o, 'a> {
    data: &'o mut Object<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for NamedSeed<'_, 'de> {
    type Value = Key<'de>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NamedSeed<'_, 'de> {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event with named fields")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Key<'de>, A::Error> {
        let (mut event, mut data) = (None, false);
        while let Some(Key(key)) = map.next_key()? {
            match &*key {
                "event" => event = Some(map.next_value()?),
                "data" if !data => {
                    map.next_value_seed(ObjectSeed(&mut *self.data))?;
                    data = true;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        match (event, data) {
            (Some(event), true) => Ok(event),
            _ => Err(serde::de::Error::custom("not an event with named fields")),
        }
    }
}

/// Reads a JSON object into an existing [`Object`].
struct ObjectSeed<'o, 'a>(&'o mut Object<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for ObjectSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ObjectSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key()? {
            self.0.insert(key, map.next_value()?);
        }
        Ok(())
    }
}

/// How many entries an [`Object`] holds without a heap allocation: an event's
/// fields rarely number more.
const INLINE_ENTRIES: usize = 4;

/// A JSON object's entries by key, each value kept as its raw text; a repeated
/// key keeps its last value, as `serde_json` does.
#[derive(Default)]
struct Object<'a> {
    inline: [Option<(Key<'a>, &'a RawValue)>; INLINE_ENTRIES],
    spilled: Vec<(Key<'a>, &'a RawValue)>,
}

impl<'a> Object<'a> {
    fn insert(&mut self, key: Key<'a>, value: &'a RawValue) {
        let known = self
            .inline
            .iter_mut()
            .flatten()
            .chain(self.spilled.iter_mut())
            .find(|(known, _)| *known == key);
        if let Some((_, known_value)) = known {
            *known_value = value;
            return;
        }
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some((key, value)),
            None => self.spilled.push((key, value)),
        }
    }

    fn remove(&mut self, name: &str) -> Option<&'a RawValue> {
        for slot in &mut self.inline {
            if slot.as_ref().is_some_and(|(key, _)| key.0 == name) {
                return slot.take().map(|(_, value)| value);
            }
        }
        let index = self.spilled.iter().position(|(key, _)| key.0 == name)?;
        Some(self.spilled.swap_remove(index).1)
    }

    /// A key left over, if any.
    fn first_key(&self) -> Option<&str> {
        self.inline
            .iter()
            .flatten()
            .chain(&self.spilled)
            .next()
            .map(|(key, _)| &*key.0)
    }
}

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = Object::default();
        serde::de::DeserializeSeed::deserialize(ObjectSeed(&mut object), deserializer)?;
        Ok(object)
    }
}

/// A raw value as error messages show it: compact, as `serde_json` writes it.
fn shown(value: &RawValue) -> String {
    serde_json::from_str::<Value>(value.get())
        .map_or_else(|_| value.get().to_owned(), |v| v.to_string())
}

/// A pong echoes the ping's data; its `seq` says which ping it answers.
fn decode_pong<E>(data: Option<&RawValue>) -> Result<ClientFrame<E>, DecodeError> {
    let owner = FieldOwner::Event(PONG_EVENT);
    let missing = DecodeError::MissingField {
        owner,
        field: "seq",
    };
    let data = data.ok_or_else(|| missing.clone())?;
    let mut object: Object<'_> = serde_json::from_str(data.get()).map_err(|_| missing.clone())?;
    match object.remove("seq") {
        Some(seq) => serde_json::from_str(seq.get())
            .map(ClientFrame::Pong)
            .map_err(|error| DecodeError::Field {
                owner,
                field: "seq",
                reason: without_position(&error),
            }),
        None => Err(missing),
    }
}
