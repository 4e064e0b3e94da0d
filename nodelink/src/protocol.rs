//! The `Protocol` trait: one game's types, shared by its client and server.

use crate::events::Events;
use crate::fingerprint::FingerprintHasher;
use crate::schema::Schema;
use crate::sync::SyncState;
use crate::wire::WIRE_VERSION;

/// Ties together the types of one game's protocol.
///
/// Define it once in a crate that both the server and the client depend on; a
/// mismatch between them is then a compile error, and a mismatch between two
/// different builds is caught at the handshake by comparing [`Protocol::FINGERPRINT`].
///
/// Implement it with the [`protocol`](macro@crate::protocol) attribute, which names
/// the parts a game has and leaves the others empty: parts added to this trait in
/// later versions then come with a default and break no game. A hand-written
/// `impl Protocol` must name every associated type.
///
/// ```
/// use nodelink::{Protocol, SyncState};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Avatar { pub x: f32, pub y: f32 }
///
/// #[nodelink::events]
/// pub enum ToServer { Move { x: f32, y: f32 } }
///
/// #[nodelink::events]
/// pub enum ToClient { Chat { msg: String } }
///
/// #[nodelink::protocol(state = Avatar, to_server = ToServer, to_client = ToClient)]
/// pub struct Game;
///
/// assert_ne!(Game::FINGERPRINT, 0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nodelink protocol",
    note = "declare it with `#[nodelink::protocol(state = …, to_server = …, to_client = …)]` on the type"
)]
pub trait Protocol: Send + Sync + 'static {
    /// Each player's synced state.
    type State: SyncState;
    /// Events that clients send to the server.
    type ToServer: Events;
    /// Events that the server sends to clients.
    type ToClient: Events;
    /// World-wide state that the server owns and every client mirrors (phase,
    /// round timer, scores): synced field by field like a player's, in the same
    /// frames. `()` when the game has none.
    type ServerState: SyncState;
    /// Entities the server owns besides the players (NPCs, projectiles, pickups):
    /// spawned, changed and despawned by handlers, synced field by field like a
    /// player's state, scoped by rooms like players. `()` when the game has none.
    type Entity: SyncState;
    /// What a client sends to create a match of this protocol, or to find one to
    /// join (a game mode, a map, a rating band): decoded before the match exists,
    /// refused with a clear reason when it does not decode. `()` when the game
    /// has none.
    type MatchOptions: MatchData;
    /// What a match of this protocol shows in listings, which matchmaking
    /// filters on (its mode, its map, whether it started): set from the options
    /// when the match is created, changed by its handlers. `()` when the game has
    /// none.
    type MatchMetadata: MatchData;

    /// The name clients ask for matches of this protocol by (`create`, `find`,
    /// `list`): by default the type's name in snake_case (`Arena` → `"arena"`),
    /// or the `kind` the attribute names.
    const KIND: &'static str;

    /// The hash of the whole protocol: the wire format version and the shape of every
    /// type above. Computed at compile time; see [`fingerprint`](crate::fingerprint)
    /// for what it covers. A protocol without entities hashes as if the entity type
    /// did not exist, and one without match options or metadata as if they did not.
    const FINGERPRINT: u64 = {
        let hasher = FingerprintHasher::new()
            .str("nodelink")
            .u64(WIRE_VERSION)
            .u64(<Self::State as crate::Fingerprint>::FINGERPRINT)
            .u64(<Self::ToServer as crate::Fingerprint>::FINGERPRINT)
            .u64(<Self::ToClient as crate::Fingerprint>::FINGERPRINT)
            .u64(<Self::ServerState as crate::Fingerprint>::FINGERPRINT);
        let unit = <() as crate::Fingerprint>::FINGERPRINT;
        let entity = <Self::Entity as crate::Fingerprint>::FINGERPRINT;
        let hasher = if entity == unit {
            hasher
        } else {
            hasher.u64(entity)
        };
        // Match options and metadata are on the wire too (in the request and in
        // listings), each tagged, and left out when empty, so that a protocol
        // without matches hashes as before they existed.
        let options = <Self::MatchOptions as crate::Fingerprint>::FINGERPRINT;
        let hasher = if options == unit {
            hasher
        } else {
            hasher.str("options").u64(options)
        };
        let metadata = <Self::MatchMetadata as crate::Fingerprint>::FINGERPRINT;
        let hasher = if metadata == unit {
            hasher
        } else {
            hasher.str("metadata").u64(metadata)
        };
        hasher.finish()
    };

    /// The protocol described as data: events, states, field types and mask
    /// indexes, for clients in other languages and code generators. See
    /// [`schema`](crate::schema).
    #[must_use]
    fn schema() -> Schema
    where
        Self: Sized,
    {
        Schema::of::<Self>()
    }
}

/// What match options and metadata must be: plain data with a serde form and a
/// [`Fingerprint`](crate::Fingerprint) (derive them with `#[nodelink::data]`, or
/// `Serialize`, `Deserialize` and `Fingerprint`), a `Default` (the options of a
/// match made without any, the metadata before it is set), `Clone` and `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a protocol's match options or metadata",
    label = "this type must be serde `Serialize + Deserialize`, `Fingerprint`, `Default`, `Clone` and `Debug`",
    note = "derive `serde::Serialize, serde::Deserialize, nodelink::Fingerprint, Default, Clone, Debug` on it"
)]
pub trait MatchData:
    serde::Serialize
    + serde::de::DeserializeOwned
    + crate::Fingerprint
    + Default
    + Clone
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
}

impl<T> MatchData for T where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + crate::Fingerprint
        + Default
        + Clone
        + Send
        + Sync
        + std::fmt::Debug
        + 'static
{
}
