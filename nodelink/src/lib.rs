//! Typed multiplayer networking: derive your state, declare your events, and the
//! compiler checks your protocol.
//!
//! A game's protocol lives in one crate that its server and its clients share:
//!
//! ```
//! use nodelink::{Protocol, SyncState};
//!
//! /// Each player's synced state: changed fields go to every client, as deltas.
//! #[derive(SyncState, Clone, Debug, Default, PartialEq)]
//! pub struct Avatar {
//!     pub x: f32,
//!     pub y: f32,
//!     pub name: String,
//! }
//!
//! /// What clients send.
//! #[nodelink::events]
//! pub enum ToServer {
//!     Move { x: f32, y: f32 },
//!     Chat { msg: String },
//!     Ready,
//! }
//!
//! /// What the server sends.
//! #[nodelink::events]
//! pub enum ToClient {
//!     Chat { from: nodelink::PlayerId, msg: String },
//! }
//!
//! #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
//! pub struct Game;
//!
//! // Every event and state change has a compact, typed wire form.
//! let frame = nodelink::wire::encode_event(&ToServer::Move { x: 1.0, y: 2.0 })?;
//! let decoded = nodelink::wire::decode_client_frame::<ToServer>(&frame, 64 * 1024)?;
//! assert!(matches!(decoded, nodelink::wire::ClientFrame::Event(ToServer::Move { x, .. }) if x == 1.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Map of the crate
//!
//! - [`server`]: [`Server`](server::Server) with its world task, per-player
//!   [`Player`](server::Player) values, rooms, the thread-safe
//!   [`ServerHandle`](server::ServerHandle), and every limit in
//!   [`ServerConfig`](server::ServerConfig).
//! - [`client`]: [`Client`](client::Client) with callbacks, or
//!   [`PollClient`](client::PollClient) for game loops; both mirror the world in a
//!   [`World`](client::World).
//! - [`SyncState`] (derive) and [`sync`]: per-field change tracking ([`Tracked`],
//!   [`FieldMask`]) and typed deltas.
//! - [`events`](macro@events) (attribute) and [`Events`]: typed events whose wire
//!   names are the variants' snake_case names; the generated `On<Enum>` traits
//!   register handlers ([`handler`] explains how they reach the server and client).
//! - [`Protocol`]: ties a game's types together; its
//!   [`FINGERPRINT`](Protocol::FINGERPRINT) is checked at the handshake.
//! - [`fingerprint`]: the compile-time protocol hash, and what it can and cannot see.
//! - [`schema`]: the protocol described as data ([`Protocol::schema`]), for clients
//!   in other languages and code generators.
//! - [`wire`]: the MessagePack frames, pure encode and decode, no IO.
//! - `tls` (feature `tls`): the certificate a `wss://` server presents and the
//!   roots a client trusts.
//! - `testing` (feature `testing`): a faulty network between a game's clients and
//!   its server, for testing what players see when a connection drops.
//! - [`DecodeError`] and [`EncodeError`]: what can go wrong with bytes.
//!
//! # Features
//!
//! - `axum`: `Server::mount` puts a server on an axum `Router`, on the same port
//!   as a web site's pages, with the stand-alone server's admission checks and
//!   limits (`server::Mounted`). It adds axum (without its default features),
//!   hyper and hyper-util; the WebSocket layer is the one nodelink always uses.
//! - `tls`: `wss://`. A stand-alone server serves TLS with a certificate from
//!   PEM, and clients connect to `wss://` URLs, trusting the platform's roots or
//!   given ones (`tls` module). It adds rustls with its `ring` crypto provider,
//!   tokio-rustls and rustls-native-certs.
//! - `testing`: `testing::FaultyProxy`, a proxy that cuts, stalls and delays
//!   connections, for a game's own tests; enable it in `[dev-dependencies]`. It adds
//!   no dependency.
//!
//! # The sync model
//!
//! The server holds each player's state in a [`Tracked`] value. Setters mark only
//! the fields whose values change. Each tick, every changed player's changed fields
//! go into one frame, encoded once and sent to everyone: a player id as a small
//! number, a field mask, and the new values. A client applies each delta to its
//! mirror of that player. A joining client receives a full snapshot first. With
//! room-scoped sync, each room gets its own frame and a client mirrors only the
//! players it shares a room with.
//!
//! # Sessions
//!
//! A player outlives its connection. When a native client's connection drops, the
//! server pauses the player for a grace period
//! ([`ServerConfig::resume_grace`](server::ServerConfig::resume_grace)) and the
//! client, reconnecting, resumes it with the token of its last welcome: the same
//! player, with the events each side missed delivered once, in order, and a fresh
//! snapshot. Other clients see nothing; the game sees
//! [`on_pause`](server::MatchKind::on_pause) and [`on_resume`](server::MatchKind::on_resume)
//! rather than a departure and an arrival. PROTOCOL.md's "Resuming a session" has the
//! wire side.
//!
//! # Limits
//!
//! Every queue and every input is bounded by a documented field of
//! [`ServerConfig`](server::ServerConfig) or [`ClientConfig`](client::ClientConfig);
//! bad input and faulty peers get a clear error or a close reason and cost nothing
//! else. RELIABILITY.md in the repository lists each limit with the test that shows
//! it.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

// Lets the derives' `::nodelink::…` paths resolve inside this crate's own tests.
#[allow(unused_extern_crates)]
extern crate self as nodelink;

pub mod client;
#[cfg(feature = "cluster")]
pub mod cluster;
mod entity_id;
pub mod error;
pub mod events;
pub mod fingerprint;
pub mod handler;
mod id_map;
mod player_id;
mod protocol;
mod random;
pub mod schema;
pub mod server;
pub mod sync;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "tls")]
pub mod tls;
pub mod wire;

pub use entity_id::EntityId;
pub use error::{DecodeError, EncodeError, FieldOwner};
pub use events::Events;
pub use fingerprint::Fingerprint;
pub use handler::{
    BoxedHandler, BoxedMiddleware, HandlerError, HandlerResult, IntoHandlerResult, IntoVerdict,
    Route, RouteHandler, RouteMiddleware, Verdict,
};
pub use id_map::{BuildIdHasher, IdHasher, IdMap};
pub use player_id::{ParsePlayerIdError, PlayerId};
pub use protocol::{MatchData, Protocol};
pub use sync::{FieldMask, SyncState, Tracked};

/// Declares an enum's variants as typed events.
///
/// Implements [`Events`] and [`Fingerprint`] for the enum. Each variant's wire name
/// is its name in snake_case; its fields (any serde type with a [`Fingerprint`]) go
/// on the wire in declaration order.
///
/// It also generates, for an enum `ToClient`:
/// - beside the enum, one struct per variant named after both
///   (`ToClientPlayerJoined`), holding the variant's fields by name, which
///   handlers receive, and a view of them by `&mut` (`ToClientPlayerJoinedMut`),
///   which middleware rewrites; each struct converts into the enum
///   (`ToClient::from(ToClientRoundOver)`). Fields bind by name,
///   so reordering two fields of the same type cannot swap their values in a
///   handler. The structs derive what the enum derives of `Debug`, `Clone`, `Copy`,
///   `PartialEq`, `Eq`, `Hash`, `PartialOrd` and `Ord`.
/// - a trait `OnToClient`, implemented by everything that routes these events (the
///   client for `ToClient`, the server for `ToServer`), with `on_<variant>` to
///   register a handler (`|ctx, event|`, or `|ctx|` for a variant without fields)
///   and `before_<variant>` to add a middleware;
/// - a trait `ToClientHandler` with one required method per variant, for handling
///   every event in one type (`handle_all`), where forgetting one is a compile error.
///
/// ```
/// #[nodelink::events]
/// #[derive(Debug, Clone, PartialEq)]
/// pub enum ToClient {
///     PlayerJoined { id: nodelink::PlayerId },
///     Chat(String, String),
///     RoundOver,
/// }
/// use nodelink::Events;
/// assert_eq!(ToClient::NAMES, ["player_joined", "chat", "round_over"]);
///
/// // What an `on_player_joined` handler receives, by name:
/// let joined = ToClientPlayerJoined { id: nodelink::PlayerId::from_raw(7) };
/// let ToClientPlayerJoined { id } = joined.clone();
/// assert_eq!(ToClient::from(joined), ToClient::PlayerJoined { id });
/// ```
pub use nodelink_macros::events;

/// Implements [`Protocol`] for a type from the game's parts, named by key: `state`
/// (each player's [`SyncState`]), `to_server` and `to_client` (the two
/// [`events`](macro@events) enums) are required; `server_state` (world-wide
/// state every client mirrors) and `entity` (server-owned entities) are optional
/// and empty (`()`) when not named.
///
/// Parts added to protocols in later versions are optional with a default, so a
/// game declared with this attribute keeps compiling; a hand-written
/// `impl Protocol` must name every associated type and breaks when one is added.
///
/// ```
/// use nodelink::{Protocol, SyncState};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Avatar { pub x: f32, pub y: f32 }
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Round { pub number: u32 }
///
/// #[nodelink::events]
/// pub enum ToServer { Move { x: f32, y: f32 } }
///
/// #[nodelink::events]
/// pub enum ToClient { Chat { msg: String } }
///
/// #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient, server_state = Round)]
/// pub struct Game;
///
/// assert_ne!(Game::FINGERPRINT, 0);
/// let _: <Game as Protocol>::Entity = (); // not named: no entities
/// ```
///
/// A mistake is reported at the key: an unknown part, a part named twice, a
/// required part missing.
pub use nodelink_macros::protocol;

/// Derives [`SyncState`] for a struct with named fields, or for an enum of kinds;
/// see the trait for what it generates.
pub use nodelink_macros::SyncState;

/// Makes a struct or an enum a plain data type for events and state: derives
/// [`Fingerprint`] and serde's `Serialize` and `Deserialize`, so that it can go on
/// the wire and its shape is part of the protocol fingerprint.
///
/// serde is reached through nodelink, so a crate that uses it needs no serde
/// dependency of its own. The item keeps its other derives and attributes,
/// `#[serde(...)]` ones included. The fingerprint cannot see what those change on
/// the wire (see [`fingerprint`]), except `#[serde(skip)]`: a skipped field or
/// variant is no part of the protocol, so it is left out of the fingerprint and the
/// schema, and its types need neither serde nor a `Fingerprint`. A type synced
/// whole as a state field also needs `Clone` and `PartialEq`: a setter compares
/// values so that only changes are sent.
///
/// A field whose type is not plain data is reported at that field, with what to
/// add to its type.
///
/// ```
/// use nodelink::SyncState;
///
/// #[nodelink::data]
/// #[derive(Clone, Debug, Default, PartialEq)]
/// pub struct Vec2 {
///     pub x: f32,
///     pub y: f32,
/// }
///
/// #[nodelink::data]
/// #[derive(Clone, Copy, Debug, Default, PartialEq)]
/// pub enum Team {
///     #[default]
///     Red,
///     Blue,
/// }
///
/// #[derive(SyncState, Clone, Debug, Default)]
/// pub struct Ship {
///     pub position: Vec2,
///     pub team: Team,
/// }
///
/// #[nodelink::events]
/// pub enum ToServer {
///     Steer { towards: Vec2 },
/// }
///
/// let frame = nodelink::wire::encode_event(&ToServer::Steer { towards: Vec2 { x: 1.0, y: 0.0 } })?;
/// assert!(!frame.is_empty());
/// # Ok::<(), nodelink::EncodeError>(())
/// ```
pub use nodelink_macros::data;

/// Derives [`Fingerprint`] for a plain data type used inside events or state, so
/// that changes to its structure change the protocol fingerprint. For a type of
/// your own, [`data`](macro@data) derives it together with serde's traits; use the
/// derive alone when the type implements serde's traits some other way.
///
/// ```
/// use nodelink::{Fingerprint, SyncState};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Fingerprint, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
/// pub struct Vec2 { pub x: f32, pub y: f32 }
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Ship { pub position: Vec2, pub hull: u8 }
///
/// assert_ne!(Vec2::FINGERPRINT, <(f32, f32)>::FINGERPRINT);
/// ```
pub use nodelink_macros::Fingerprint;

/// What generated code reaches the runtime through. Not a public API: it changes
/// with the macros, which are pinned to this exact version.
#[doc(hidden)]
pub mod __private {
    pub use crate::error::{DecodeError, EncodeError, FieldOwner};
    pub use crate::events::Events;
    pub use crate::fingerprint::{Fingerprint, FingerprintHasher};
    pub use crate::handler::{boxed_handler, boxed_middleware};
    pub use crate::schema::{
        EventsSchema, Field, Fields, FieldsKind, StateField, StateSchema, Type, TypeDef,
        TypeRegistry, Variant,
    };
    pub use crate::sync::{
        bit_if_changed, ChangeSet, FieldMask, Selection, SyncField, SyncState, Whole,
    };
    pub use crate::wire::fields::{FieldSink, FieldSource};
    pub use serde;
    pub use std::boxed::Box;

    pub mod check;

    use std::fmt::{self, Debug};

    /// What an event field must be.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be an event field",
        label = "this field's type must be serde `Serialize + Deserialize` and have a `Fingerprint`",
        note = "add `#[nodelink::data]` to it: it derives `nodelink::Fingerprint` with serde's `Serialize` and `Deserialize`"
    )]
    pub trait EventField:
        serde::Serialize + serde::de::DeserializeOwned + Send + Fingerprint + 'static
    {
    }
    impl<T> EventField for T where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + Fingerprint + 'static
    {
    }

    /// Shows a field's value in `Debug` output when its type is `Debug`, and `..`
    /// otherwise, so generated deltas are `Debug` without requiring it of fields.
    /// Resolved by method lookup order (`(&Probe(v)).as_debug()`): the `Debug` impl
    /// is found first when it applies.
    #[derive(Debug)]
    pub struct Probe<'a, T>(pub &'a T);

    struct Opaque;

    impl Debug for Opaque {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("..")
        }
    }

    /// The `Debug` route of [`Probe`].
    pub trait ViaDebug {
        /// The value as `Debug`.
        fn as_debug(&self) -> &dyn Debug;
    }

    impl<T: Debug> ViaDebug for Probe<'_, T> {
        fn as_debug(&self) -> &dyn Debug {
            self.0
        }
    }

    /// The fallback route of [`Probe`].
    pub trait ViaOpaque {
        /// A placeholder `Debug`.
        fn as_debug(&self) -> &dyn Debug;
    }

    impl<T> ViaOpaque for &Probe<'_, T> {
        fn as_debug(&self) -> &dyn Debug {
            &Opaque
        }
    }
}
