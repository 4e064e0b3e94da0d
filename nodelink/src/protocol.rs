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

    /// The hash of the whole protocol: the wire format version and the shape of every
    /// type above. Computed at compile time; see [`fingerprint`](crate::fingerprint)
    /// for what it covers. A protocol without entities hashes as if the entity type
    /// did not exist.
    const FINGERPRINT: u64 = {
        let hasher = FingerprintHasher::new()
            .str("nodelink")
            .u64(WIRE_VERSION)
            .u64(<Self::State as crate::Fingerprint>::FINGERPRINT)
            .u64(<Self::ToServer as crate::Fingerprint>::FINGERPRINT)
            .u64(<Self::ToClient as crate::Fingerprint>::FINGERPRINT)
            .u64(<Self::ServerState as crate::Fingerprint>::FINGERPRINT);
        let entity = <Self::Entity as crate::Fingerprint>::FINGERPRINT;
        if entity == <() as crate::Fingerprint>::FINGERPRINT {
            hasher.finish()
        } else {
            hasher.u64(entity).finish()
        }
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
