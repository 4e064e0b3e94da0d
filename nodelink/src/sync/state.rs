//! The `SyncState` trait: what `#[derive(SyncState)]` generates.

use std::fmt::Debug;
use std::ops::Deref;

use crate::error::{DecodeError, EncodeError};
use crate::fingerprint::Fingerprint;
use crate::schema::{StateSchema, TypeRegistry};
use crate::sync::field::{ChangeSet, Selection};
use crate::sync::mask::FieldMask;
use crate::wire::fields::{FieldSink, FieldSource};

/// A state type that nodelink keeps in sync between server and clients.
///
/// Derive it with `#[derive(SyncState)]` on a struct with named fields, or on an
/// enum of kinds (below); do not implement it by hand. The derive generates, for a struct `Avatar`:
///
/// - `AvatarMut<'_>`, returned by [`Tracked::state_mut`](crate::Tracked::state_mut):
///   one setter per field (`set_x(value)`), which marks the field changed only when
///   the new value differs from the old;
/// - `AvatarDelta`, one `Option` per synced field: what a receiver gets for one
///   update, and what [`SyncState::apply`] merges into a value;
/// - `AvatarChanges`, what changed since the last sync, field by field;
/// - delta and full encoding through the [`FieldSink`] / [`FieldSource`] codec.
///
/// Each synced field's type is a [`SyncField`](crate::sync::SyncField): a plain
/// value sent whole when it changes, or another `SyncState` struct, tracked per
/// sub-field (`state_mut().stats().set_hp(3)` sends only `hp`, under `stats`).
/// Fields marked `#[sync(skip)]` stay on the server: they have setters but never go
/// on the wire and need none of the serde bounds.
///
/// `()` implements `SyncState` for games with no per-player state.
///
/// # Several kinds
///
/// On an enum whose every variant holds one state, `Monster(Monster)`, the derive
/// makes a state of several kinds: a protocol's entities can be monsters, loot and
/// projectiles, each kind with its own fields and field masks. The first kind is
/// the enum's default (so do not derive `Default` on it), each kind's type converts
/// into the enum (`Thing::from(monster)`, and `ctx.spawn(monster)`), and the
/// generated view reaches the current kind's fields: `thing_mut.monster()` is
/// `Some(MonsterMut)` for a monster. A value that changes kind is sent whole.
///
/// ```
/// use nodelink::sync::Selection;
/// use nodelink::{SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Monster { pub hp: u16, pub x: f32 }
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Loot { pub gold: u32 }
///
/// #[derive(SyncState, Clone, Debug, PartialEq)]
/// pub enum Thing {
///     Monster(Monster),
///     Loot(Loot),
/// }
///
/// let mut thing = Tracked::new(Thing::from(Monster { hp: 10, x: 0.0 }));
/// thing.take_changes();
/// if let Some(mut monster) = thing.state_mut().monster() {
///     monster.set_hp(7);
/// }
/// let delta = thing.get().delta(Selection::Changed(thing.changes()));
/// assert_eq!(delta.monster, Some(MonsterDelta { hp: Some(7), x: None }));
///
/// // The monster dies and leaves loot: the mirror becomes loot, all of it.
/// thing.state_mut().set(Thing::Loot(Loot { gold: 5 }));
/// let delta = thing.get().delta(Selection::Changed(thing.changes()));
/// let mut mirror = Thing::from(Monster { hp: 7, x: 0.0 });
/// mirror.apply(&delta);
/// assert_eq!(mirror, Thing::Loot(Loot { gold: 5 }));
/// assert_eq!(mirror.kind_name(), "loot");
/// ```
///
/// ```
/// use nodelink::sync::Selection;
/// use nodelink::{SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Avatar {
///     pub x: f32,
///     pub y: f32,
///     pub name: String,
///     #[sync(skip)]
///     pub secret: u64,
/// }
///
/// let mut avatar = Tracked::new(Avatar::default());
/// avatar.state_mut().set_x(1.5).set_name("ada".to_owned());
/// avatar.state_mut().set_y(0.0); // unchanged: not marked
/// assert_eq!(avatar.dirty().iter().collect::<Vec<_>>(), [0, 2]);
///
/// let delta = avatar.get().delta(Selection::Changed(avatar.changes()));
/// assert_eq!(delta, AvatarDelta { x: Some(1.5), y: None, name: Some("ada".into()) });
///
/// let mut mirror = Avatar::default();
/// mirror.apply(&delta);
/// assert_eq!(mirror.x, 1.5);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nodelink state type",
    label = "expected a `#[derive(SyncState)]` struct that compiles",
    note = "if `{Self}` derives `SyncState`, the errors at its fields or at its name say what to fix",
    note = "otherwise add `#[derive(nodelink::SyncState, Clone, Default)]` to a struct with named fields, or use `()` for no state"
)]
pub trait SyncState: Clone + Default + Send + Sync + 'static + Fingerprint {
    /// What changed since the changes were last taken: a [`ChangeSet`] with one
    /// entry per synced field (generated as `…Changes`).
    type Changes: ChangeSet;

    /// One `Option` per synced field: the changes of one update.
    type Delta: Clone + Debug + Default + PartialEq + Send + Sync + 'static;

    /// A mutable view whose setters record which fields changed.
    type Mut<'a>: Deref<Target = Self>;

    /// The type's name, for error messages.
    const NAME: &'static str;

    /// The synced fields' names; index `i` is bit `i` of a [`FieldMask`].
    const FIELDS: &'static [&'static str];

    /// The mask of every synced field.
    const ALL: FieldMask = FieldMask::first(Self::FIELDS.len() as u32);

    /// The `#[sync(owner)]` fields: synced only to the player whose state this is
    /// (never to anyone, in the shared server state).
    const OWNER: FieldMask = FieldMask::EMPTY;

    /// The `#[sync(tag = "…")]` fields, by tag, in the order the tags first appear:
    /// each reaches the player whose state it is and the players that the match
    /// kind's rule for its tag shows it to
    /// ([`MatchKind::field_visibility`](crate::server::MatchKind::field_visibility));
    /// without a rule, its owner alone. In the shared server state and in entities,
    /// which no player owns, they are never sent.
    const TAGS: &'static [(&'static str, FieldMask)] = &[];

    /// Every tagged field (the union of [`TAGS`](Self::TAGS)' masks).
    const TAGGED: FieldMask = FieldMask::EMPTY;

    /// The fields not every viewer of the state receives: [`OWNER`](Self::OWNER)
    /// and [`TAGGED`](Self::TAGGED).
    const PRIVATE: FieldMask = Self::OWNER.union(Self::TAGGED);

    /// Whether the state is an enum of kinds (`#[derive(SyncState)]` on an enum):
    /// its fields are the kinds, and exactly one, the current kind's, is ever
    /// present.
    const ONE_OF: bool = false;

    /// A view of `state` whose setters record what they change in `changes`.
    fn tracked_mut<'a>(state: &'a mut Self, changes: &'a mut Self::Changes) -> Self::Mut<'a>;

    /// Records in `changes` what differs between `self` and `before`, field by
    /// field (and sub-field by sub-field in nested states).
    fn diff(&self, before: &Self, changes: &mut Self::Changes);

    /// The synced fields that `changes` names: bit `i` for field `i`.
    fn mask(changes: &Self::Changes) -> FieldMask;

    /// Forgets the changes of every field not in `keep`.
    fn restrict(changes: &mut Self::Changes, keep: FieldMask);

    /// The fields of this value that `selection` names: what an encoder writes as
    /// the value's mask. [`Selection::mask`] for a struct; an enum of kinds
    /// names its current kind only.
    fn selected(&self, selection: Selection<'_, Self::Changes>) -> FieldMask {
        selection.mask::<Self>()
    }

    /// Writes the values of the fields `selection` names, lowest index first: every
    /// synced field, or the changed ones (a nested state's changed sub-fields only).
    ///
    /// # Errors
    /// When a field's `Serialize` impl fails.
    fn encode_fields<W: FieldSink>(
        &self,
        selection: Selection<'_, Self::Changes>,
        out: &mut W,
    ) -> Result<(), EncodeError>;

    /// Reads the values of the fields in `mask`, lowest index first, into a delta.
    ///
    /// # Errors
    /// When the input holds fewer fields than `mask` or a value does not fit its field.
    /// Bits at or above `FIELDS.len()` are the caller's to reject (the frame decoder
    /// does, with [`DecodeError::UnknownStateField`]).
    fn decode_fields<R: FieldSource>(
        mask: FieldMask,
        input: &mut R,
    ) -> Result<Self::Delta, DecodeError>;

    /// Merges a delta into this value: every `Some` field replaces the current one
    /// (a nested state's delta is merged into it).
    fn apply(&mut self, delta: &Self::Delta);

    /// The fields a delta carries.
    fn delta_mask(delta: &Self::Delta) -> FieldMask;

    /// The delta that carries the fields `selection` names.
    fn delta(&self, selection: Selection<'_, Self::Changes>) -> Self::Delta;

    /// The state described for the [schema](crate::schema): every field with its
    /// mask index and type (`#[sync(skip)]` fields by name only), defining in
    /// `types` the user types they use. `None` for `()`, a game without this state.
    fn schema(types: &mut TypeRegistry) -> Option<StateSchema>;
}

/// The state of a game that keeps no per-player state.
impl SyncState for () {
    type Changes = ();
    type Delta = ();
    type Mut<'a> = &'a ();
    const NAME: &'static str = "()";
    const FIELDS: &'static [&'static str] = &[];

    fn tracked_mut<'a>(state: &'a mut Self, (): &'a mut ()) -> &'a () {
        state
    }

    fn diff(&self, _: &Self, (): &mut ()) {}

    fn mask((): &()) -> FieldMask {
        FieldMask::EMPTY
    }

    fn restrict((): &mut (), _: FieldMask) {}

    fn encode_fields<W: FieldSink>(
        &self,
        _: Selection<'_, ()>,
        _: &mut W,
    ) -> Result<(), EncodeError> {
        Ok(())
    }

    fn decode_fields<R: FieldSource>(_: FieldMask, _: &mut R) -> Result<(), DecodeError> {
        Ok(())
    }

    fn apply(&mut self, (): &()) {}

    fn delta_mask((): &()) -> FieldMask {
        FieldMask::EMPTY
    }

    fn delta(&self, _: Selection<'_, ()>) {}

    fn schema(_: &mut TypeRegistry) -> Option<StateSchema> {
        None
    }
}
