//! The protocol schema: a game's protocol described as data.
//!
//! The derives know every event, field, type and mask index of a protocol; they
//! write it down here, so that clients in other languages, code generators and
//! tools read the protocol from one description instead of from Rust source.
//! [`Protocol::schema`] builds it and
//! [`Schema::to_json`] prints it:
//!
//! ```
//! use nodelink::{Protocol, SyncState};
//!
//! #[derive(SyncState, Clone, Debug, Default, PartialEq)]
//! pub struct Avatar { pub x: f32, pub name: String }
//!
//! #[nodelink::events]
//! pub enum ToServer { Move { x: f32 }, Ready }
//!
//! #[nodelink::events]
//! pub enum ToClient { Chat(nodelink::PlayerId, String) }
//!
//! #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
//! pub struct Game;
//!
//! let schema = Game::schema();
//! assert_eq!(schema.fingerprint(), Game::FINGERPRINT);
//! let json = schema.to_json();
//! assert!(json.contains(r#"{"name":"x","index":0,"type":"f32"}"#));
//! assert!(json.contains(r#""server_state":null"#));
//! ```
//!
//! # The type language
//!
//! A field's type is one of:
//!
//! | Rust | schema | MessagePack |
//! |---|---|---|
//! | `bool` | `"bool"` | `true`/`false` |
//! | `u8` `u16` `u32` `u64` (`usize`) `u128` | `"u8"` … `"u128"` | an unsigned integer, most compact form |
//! | `i8` `i16` `i32` `i64` (`isize`) `i128` | `"i8"` … `"i128"` | an integer, most compact form |
//! | `f32`, `f64` | `"f32"`, `"f64"` | float 32 (`ca`), float 64 (`cb`) |
//! | `char`, `String`, `&str`, `Box<str>` | `"char"`, `"str"` | a string |
//! | `()` | `"unit"` | nil |
//! | [`PlayerId`](crate::PlayerId) | `"player_id"` | an unsigned 32-bit integer |
//! | `Option<T>` | `{"option": T}` | nil or the value |
//! | `Vec<T>`, `VecDeque<T>`, sets, `[T]` | `{"seq": T}` | an array |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | `{"map": [K, V]}` | a map |
//! | `[T; N]` | `{"array": [T, N]}` | an array of N |
//! | [`SyncMap<K, V>`](crate::sync::SyncMap) (a state field) | `{"sync_map": [K, V]}` | `[replace, [key…], [[key, value]…]]`: whole, or the removed keys and the inserted or changed entries |
//! | [`SyncVec<V>`](crate::sync::SyncVec) (a state field) | `{"sync_vec": V}` | `[len, [[index, value]…]]`: the length, then the changed items (every one, whole) |
//! | [`SyncDeque<V>`](crate::sync::SyncDeque) (a state field) | `{"sync_deque": V}` | `[capacity, drop, [entry…]]`: the capacity, how many entries to drop from the front (nil: all, the deque is sent whole), then the entries to append |
//! | `(A, B, …)` | `{"tuple": [A, B, …]}` | an array |
//! | a type with `#[derive(Fingerprint)]` | `{"ref": "Name"}`, defined in `types` | see [`TypeDef`] |
//! | a hand-written [`Fingerprint`] | `{"opaque": "<16 hex digits>"}` | unknown |
//!
//! `Box<T>`, `Rc<T>`, `Arc<T>` and `&T` are described as `T`.
//!
//! # The fingerprint
//!
//! [`Protocol::FINGERPRINT`] is a function of the
//! schema alone, specified in PROTOCOL.md and implemented by
//! [`Schema::fingerprint`], so a client built from the schema can compute the
//! fingerprint it must offer, and check the one a server announces.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::fingerprint::FingerprintHasher;
use crate::{Events, Fingerprint, Protocol, SyncState};

/// A whole protocol: both event enums, both states, and the user types they use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Schema {
    /// The native wire's version ([`WIRE_VERSION`](crate::wire::WIRE_VERSION)).
    pub wire_version: u64,
    /// The protocol fingerprint, written as 16 lowercase hex digits.
    #[serde(serialize_with = "hex")]
    pub fingerprint: u64,
    /// Each player's synced state; `None` for `()`.
    pub state: Option<StateSchema>,
    /// The shared server state; `None` for `()`.
    pub server_state: Option<StateSchema>,
    /// The server-owned entities' state; absent for `()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<StateSchema>,
    /// The name clients ask for its matches by ([`Protocol::KIND`]).
    pub kind: String,
    /// What a client sends to create or find a match; absent for `()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Type>,
    /// What a match shows in listings; absent for `()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Type>,
    /// The events clients send.
    pub to_server: EventsSchema,
    /// The events the server sends.
    pub to_client: EventsSchema,
    /// The user types the fields refer to (`{"ref": name}`), by name.
    pub types: BTreeMap<String, TypeDef>,
}

/// A synced state: its fields in declaration order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StateSchema {
    /// The Rust name of the state type (for generated code; not on the wire).
    pub name: String,
    /// Every field, synced or `#[sync(skip)]`, in declaration order.
    pub fields: Vec<StateField>,
    /// `"one_of": true` for an enum of kinds (`#[derive(SyncState)]` on an enum):
    /// each field is a kind, and a value holds exactly one, the current kind's; a
    /// delta naming another kind's field replaces the value with that kind (it
    /// carries all of it). Left out otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub one_of: bool,
}

/// One field of a synced state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StateField {
    /// The field's name.
    pub name: String,
    /// Its bit in sync masks; `None` for a `#[sync(skip)]` field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Its type; `None` for a `#[sync(skip)]` field, which never goes on the wire.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<Type>,
    /// Whether the field is `#[sync(skip)]`: server-only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip: bool,
    /// Whether the field is `#[sync(owner)]`: synced only to the player whose
    /// state it is.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub owner: bool,
    /// The field's `#[sync(tag = "…")]`: synced to the player whose state it is
    /// and to the players the game's rule for the tag picks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// An events enum: its variants in declaration order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EventsSchema {
    /// The Rust name of the enum (for generated code; not on the wire).
    pub name: String,
    /// One entry per variant; `name` is the wire name.
    pub events: Vec<Variant>,
}

/// A variant of an events enum or of a user enum, or the body of a user struct.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Variant {
    /// The wire name of an event; the Rust name of an enum variant.
    pub name: String,
    /// How the fields are written.
    pub kind: FieldsKind,
    /// The fields, in declaration order (`"0"`, `"1"`, … for a tuple).
    pub fields: Vec<Field>,
}

/// A named field and its type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Field {
    /// The field's name, or its position for a tuple field.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Type,
}

/// How a struct's or variant's fields are written in Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldsKind {
    /// `{ a: A, b: B }`
    Named,
    /// `(A, B)`
    Tuple,
    /// No fields.
    Unit,
}

impl FieldsKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Named => "named",
            Self::Tuple => "tuple",
            Self::Unit => "unit",
        }
    }
}

/// A user type defined in [`Schema::types`].
///
/// On the MessagePack wire (rmp-serde's defaults) a struct with named or tuple
/// fields is an array of its fields, a tuple struct of one field is that field's
/// value, and a unit struct is an empty array. An enum value is its variant's name as a string
/// for a unit variant, else a one-entry map from the variant's name to its fields
/// (an array; the bare value for one unnamed field).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeDef {
    /// A struct: `{"struct": {"kind", "fields"}}`.
    Struct(Fields),
    /// An enum: `{"enum": [variant…]}`.
    Enum(Vec<Variant>),
    /// A `#[derive(SyncState)]` struct nested in another state:
    /// `{"state": {"fields": [...]}}`, fields as in [`StateSchema`]. On the wire,
    /// `[mask, value…]` like a player's entry: the changed sub-fields only.
    State {
        /// Every field, synced or `#[sync(skip)]`, in declaration order.
        fields: Vec<StateField>,
    },
}

impl TypeDef {
    /// The definition of a nested state described by `schema`.
    #[must_use]
    pub fn state(schema: Option<StateSchema>) -> Self {
        Self::State {
            fields: schema.map(|schema| schema.fields).unwrap_or_default(),
        }
    }
}

/// A struct's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Fields {
    /// How they are written.
    pub kind: FieldsKind,
    /// The fields, in declaration order.
    pub fields: Vec<Field>,
}

/// A field's type, in the type language of the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// A primitive by its schema name (`"f32"`, `"str"`, `"player_id"`, …).
    Primitive(&'static str),
    /// `Option<T>`.
    Option(Box<Type>),
    /// A sequence.
    Seq(Box<Type>),
    /// A map from keys to values.
    Map(Box<Type>, Box<Type>),
    /// A fixed-length array.
    Array(Box<Type>, u64),
    /// A [`SyncMap`](crate::sync::SyncMap): synced per entry.
    SyncMap(Box<Type>, Box<Type>),
    /// A [`SyncVec`](crate::sync::SyncVec): synced per index.
    SyncVec(Box<Type>),
    /// A [`SyncDeque`](crate::sync::SyncDeque): a bounded log, synced as drops from
    /// the front and pushes at the back.
    SyncDeque(Box<Type>),
    /// A tuple.
    Tuple(Vec<Type>),
    /// A user type defined in [`Schema::types`].
    Ref(String),
    /// A type whose [`Fingerprint`] is written by hand: only its hash is known.
    Opaque(u64),
}

impl Serialize for Type {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Primitive(name) => serializer.serialize_str(name),
            Self::Option(inner) => one_entry(serializer, "option", inner),
            Self::Seq(inner) => one_entry(serializer, "seq", inner),
            Self::Map(key, value) => one_entry(serializer, "map", &(key, value)),
            Self::Array(inner, len) => one_entry(serializer, "array", &(inner, len)),
            Self::SyncMap(key, value) => one_entry(serializer, "sync_map", &(key, value)),
            Self::SyncVec(inner) => one_entry(serializer, "sync_vec", inner),
            Self::SyncDeque(inner) => one_entry(serializer, "sync_deque", inner),
            Self::Tuple(items) => one_entry(serializer, "tuple", &Items(items)),
            Self::Ref(name) => one_entry(serializer, "ref", name),
            Self::Opaque(fingerprint) => {
                one_entry(serializer, "opaque", &format!("{fingerprint:016x}"))
            }
        }
    }
}

/// `{key: value}`.
fn one_entry<S: Serializer, V: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// A tuple's item types as a JSON array (even of one item).
struct Items<'a>(&'a [Type]);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

fn hex<S: Serializer>(fingerprint: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{fingerprint:016x}"))
}

impl Schema {
    /// The schema of protocol `P`; the same as [`Protocol::schema`].
    #[must_use]
    pub fn of<P: Protocol>() -> Self {
        let mut types = TypeRegistry::default();
        let state = P::State::schema(&mut types);
        let server_state = P::ServerState::schema(&mut types);
        let entity = P::Entity::schema(&mut types);
        let to_server = P::ToServer::schema(&mut types);
        let to_client = P::ToClient::schema(&mut types);
        let unit = <() as Fingerprint>::FINGERPRINT;
        let options = (<P::MatchOptions as Fingerprint>::FINGERPRINT != unit)
            .then(|| types.describe::<P::MatchOptions>());
        let metadata = (<P::MatchMetadata as Fingerprint>::FINGERPRINT != unit)
            .then(|| types.describe::<P::MatchMetadata>());
        Self {
            wire_version: crate::wire::WIRE_VERSION,
            fingerprint: P::FINGERPRINT,
            state,
            server_state,
            entity,
            kind: P::KIND.to_owned(),
            options,
            metadata,
            to_server,
            to_client,
            types: types.defs,
        }
    }

    /// The schema as compact JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Every key is a string and every value has a JSON form: this cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The schema as indented JSON, for files people read.
    #[must_use]
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The protocol fingerprint computed from this schema by the rules in
    /// PROTOCOL.md ("The fingerprint"); equal to
    /// [`Protocol::FINGERPRINT`] for a schema built by
    /// [`Schema::of`]. (The `fingerprint` field is not an input.)
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        let hasher = FingerprintHasher::new()
            .str("nodelink")
            .u64(self.wire_version)
            .u64(self.state_fingerprint(self.state.as_ref()))
            .u64(self.events_fingerprint(&self.to_server))
            .u64(self.events_fingerprint(&self.to_client))
            .u64(self.state_fingerprint(self.server_state.as_ref()));
        let hasher = match &self.entity {
            Some(entity) => hasher.u64(self.state_schema_fingerprint(entity)),
            None => hasher,
        };
        let hasher = match &self.options {
            Some(options) => hasher.str("options").u64(self.type_fingerprint(options)),
            None => hasher,
        };
        match &self.metadata {
            Some(metadata) => hasher.str("metadata").u64(self.type_fingerprint(metadata)),
            None => hasher,
        }
        .finish()
    }

    fn state_fingerprint(&self, state: Option<&StateSchema>) -> u64 {
        match state {
            Some(state) => self.state_schema_fingerprint(state),
            None => FingerprintHasher::new().str("unit").finish(),
        }
    }

    fn state_schema_fingerprint(&self, state: &StateSchema) -> u64 {
        let marker = if state.one_of { "kinds" } else { "state" };
        self.state_fields_fingerprint(marker, &state.fields)
    }

    fn state_fields_fingerprint(&self, marker: &str, fields: &[StateField]) -> u64 {
        let synced: Vec<Field> = fields
            .iter()
            .filter_map(|field| {
                Some(Field {
                    name: field.name.clone(),
                    ty: field.ty.clone()?,
                })
            })
            .collect();
        self.fields_fingerprint(
            FingerprintHasher::new().str(marker),
            FieldsKind::Named,
            &synced,
        )
        .finish()
    }

    fn events_fingerprint(&self, events: &EventsSchema) -> u64 {
        self.variants_fingerprint(
            FingerprintHasher::new()
                .str("events")
                .u64(events.events.len() as u64),
            &events.events,
        )
        .finish()
    }

    fn variants_fingerprint(
        &self,
        mut hasher: FingerprintHasher,
        variants: &[Variant],
    ) -> FingerprintHasher {
        for variant in variants {
            hasher =
                self.fields_fingerprint(hasher.str(&variant.name), variant.kind, &variant.fields);
        }
        hasher
    }

    fn fields_fingerprint(
        &self,
        hasher: FingerprintHasher,
        kind: FieldsKind,
        fields: &[Field],
    ) -> FingerprintHasher {
        let mut hasher = hasher.str(kind.as_str());
        for field in fields {
            hasher = hasher
                .str(&field.name)
                .u64(self.type_fingerprint(&field.ty));
        }
        hasher.u64(fields.len() as u64)
    }

    /// A type's fingerprint; a reference to an undefined type hashes as an opaque 0.
    #[must_use]
    pub fn type_fingerprint(&self, ty: &Type) -> u64 {
        let fresh = FingerprintHasher::new();
        match ty {
            Type::Primitive(name) => fresh.str(name).finish(),
            Type::Option(inner) => fresh
                .str("option")
                .u64(self.type_fingerprint(inner))
                .finish(),
            Type::Seq(inner) => fresh.str("seq").u64(self.type_fingerprint(inner)).finish(),
            Type::Map(key, value) => fresh
                .str("map")
                .u64(self.type_fingerprint(key))
                .u64(self.type_fingerprint(value))
                .finish(),
            Type::SyncMap(key, value) => fresh
                .str("sync_map")
                .u64(self.type_fingerprint(key))
                .u64(self.type_fingerprint(value))
                .finish(),
            Type::SyncVec(inner) => fresh
                .str("sync_vec")
                .u64(self.type_fingerprint(inner))
                .finish(),
            Type::SyncDeque(inner) => fresh
                .str("sync_deque")
                .u64(self.type_fingerprint(inner))
                .finish(),
            Type::Array(inner, len) => fresh
                .str("array")
                .u64(*len)
                .u64(self.type_fingerprint(inner))
                .finish(),
            Type::Tuple(items) => items
                .iter()
                .fold(fresh.str("tuple"), |hasher, item| {
                    hasher.u64(self.type_fingerprint(item))
                })
                .finish(),
            Type::Ref(name) => match self.types.get(name) {
                Some(TypeDef::Struct(fields)) => self
                    .fields_fingerprint(fresh.str("struct"), fields.kind, &fields.fields)
                    .finish(),
                Some(TypeDef::Enum(variants)) => self
                    .variants_fingerprint(fresh.str("enum").u64(variants.len() as u64), variants)
                    .finish(),
                Some(TypeDef::State { fields }) => self.state_fields_fingerprint("state", fields),
                None => 0,
            },
            Type::Opaque(fingerprint) => *fingerprint,
        }
    }
}

/// The user types met while describing a protocol, named once each.
///
/// Generated code calls [`TypeRegistry::define`]; nothing else needs it.
#[derive(Debug, Default)]
pub struct TypeRegistry {
    defs: BTreeMap<String, TypeDef>,
    /// Each defined type's name, by fingerprint, so a type used twice is defined
    /// once.
    names: BTreeMap<u64, String>,
}

impl TypeRegistry {
    /// A reference to the user type `name` with this fingerprint, defining it with
    /// `define` the first time. Two different types with one Rust name (from two
    /// modules) get `Name`, `Name2`, ….
    pub fn define(
        &mut self,
        name: &str,
        fingerprint: u64,
        define: impl FnOnce(&mut Self) -> TypeDef,
    ) -> Type {
        if let Some(known) = self.names.get(&fingerprint) {
            return Type::Ref(known.clone());
        }
        let def = define(self);
        let unique = (1..)
            .map(|n| match n {
                1 => name.to_owned(),
                n => format!("{name}{n}"),
            })
            .find(|candidate| !self.defs.contains_key(candidate))
            .unwrap_or_else(|| name.to_owned());
        self.defs.insert(unique.clone(), def);
        self.names.insert(fingerprint, unique.clone());
        Type::Ref(unique)
    }

    /// The description of `T`, defining the user types it uses.
    pub fn describe<T: Fingerprint + ?Sized>(&mut self) -> Type {
        T::describe(self)
    }
}

impl Field {
    /// A field named `name` of type `T`, described in `types`.
    pub fn of<T: Fingerprint + ?Sized>(name: &str, types: &mut TypeRegistry) -> Self {
        Self {
            name: name.to_owned(),
            ty: T::describe(types),
        }
    }
}

impl Variant {
    /// A variant or event with these fields.
    #[must_use]
    pub fn new(name: &str, kind: FieldsKind, fields: Vec<Field>) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            fields,
        }
    }
}

impl Fields {
    /// A struct body with these fields.
    #[must_use]
    pub fn new(kind: FieldsKind, fields: Vec<Field>) -> Self {
        Self { kind, fields }
    }
}

impl StateField {
    /// A synced field at mask bit `index`, of type `T`.
    pub fn synced<T: Fingerprint + ?Sized>(
        name: &str,
        index: u32,
        types: &mut TypeRegistry,
    ) -> Self {
        Self {
            name: name.to_owned(),
            index: Some(index),
            ty: Some(T::describe(types)),
            skip: false,
            owner: false,
            tag: None,
        }
    }

    /// The same field, `#[sync(owner)]` when `owner`.
    #[must_use]
    pub fn owned_by_player(self, owner: bool) -> Self {
        Self { owner, ..self }
    }

    /// The same field, `#[sync(tag = "…")]`.
    #[must_use]
    pub fn tagged(self, tag: &str) -> Self {
        Self {
            tag: Some(tag.to_owned()),
            ..self
        }
    }

    /// A `#[sync(skip)]` field: server-only, never on the wire.
    #[must_use]
    pub fn skipped(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            index: None,
            ty: None,
            skip: true,
            owner: false,
            tag: None,
        }
    }
}

impl StateSchema {
    /// A state named `name` with these fields.
    #[must_use]
    pub fn new(name: &str, fields: Vec<StateField>) -> Self {
        Self {
            name: name.to_owned(),
            fields,
            one_of: false,
        }
    }

    /// The state as an enum of kinds, its fields the kinds (see
    /// [`one_of`](Self::one_of)).
    #[must_use]
    pub fn one_of(mut self) -> Self {
        self.one_of = true;
        self
    }
}

impl EventsSchema {
    /// An events enum named `name` with these events.
    #[must_use]
    pub fn new(name: &str, events: Vec<Variant>) -> Self {
        Self {
            name: name.to_owned(),
            events,
        }
    }
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_pretty())
    }
}
