//! State synchronisation: per-field change tracking and deltas.
//!
//! The model: the server holds each player's state in a [`Tracked`] value. Setters
//! record the fields they change (in a nested state, the sub-fields; see
//! [`SyncField`]); a [`FieldMask`] names a state's changed fields. On each tick the server takes the
//! masks of the players that changed, encodes those fields once into one sync frame
//! (see [`wire`](crate::wire)), and sends the same bytes to every client. A client
//! decodes each player's changes into the state's generated `…Delta` type and
//! [`apply`](SyncState::apply)s it to its mirror of that player.
//!
//! Nothing here reads the clock or touches a socket: ticks are numbers passed in.

mod deque;
mod field;
mod map;
mod mask;
mod state;
mod tracked;
mod vec;

pub use deque::{
    DequeChanges, DequeDelta, SyncDeque, SyncDequeMut, DEFAULT_DEQUE_CAPACITY, MAX_DEQUE_CAPACITY,
};
pub use field::{bit_if_changed, ChangeSet, Selection, SyncField, Whole, WholeMut};
pub use map::{
    EntryChanges, MapChanges, MapDelta, MapFull, SyncMap, SyncMapMut, DEFAULT_MAP_LIMIT,
};
pub use mask::FieldMask;
pub use state::SyncState;
pub use tracked::Tracked;
pub use vec::{
    InsertError, OutOfRange, SyncVec, SyncVecMut, VecChanges, VecDelta, VecFull, DEFAULT_VEC_LIMIT,
};

/// A sync tick: the server's tick counter, starting at 0 when it starts.
///
/// ```
/// use nodelink::sync::Tick;
///
/// assert!(Tick(3) > Tick(2));
/// assert_eq!(Tick(3).next(), Tick(4));
/// ```
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Tick(pub u64);

impl Tick {
    /// The tick after this one.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}
