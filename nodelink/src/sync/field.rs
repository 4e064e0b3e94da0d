//! How each field of a synced state is tracked: sent whole, or per sub-field.
//!
//! Every synced field's type implements [`SyncField`]. Plain values (numbers,
//! strings, `Vec`s, your `#[nodelink::data]` types) are [`Whole`]: a change
//! sends the whole new value. A type that itself derives `SyncState` is tracked per
//! sub-field: changing `stats.hp` sends only `hp`, under `stats`. The runtime keeps
//! what changed in each field's [`ChangeSet`], a tree shaped like the state.

use std::fmt::Debug;
use std::ops::Deref;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::fingerprint::Fingerprint;
use crate::sync::mask::FieldMask;
use crate::wire::fields::{FieldSink, FieldSource};

/// What changed in one field (or one state) since the changes were last taken.
///
/// `bool` for a [`Whole`] value; for a nested state, a generated struct with one
/// change set per field.
pub trait ChangeSet: Default + Clone + Debug + PartialEq + Send + Sync + 'static {
    /// Whether nothing changed.
    fn is_empty(&self) -> bool;

    /// Marks everything changed, so that all of it is sent again.
    fn mark_all(&mut self);

    /// Adds the changes of `other`.
    fn merge(&mut self, other: &Self);
}

impl ChangeSet for bool {
    fn is_empty(&self) -> bool {
        !*self
    }

    fn mark_all(&mut self) {
        *self = true;
    }

    fn merge(&mut self, other: &Self) {
        *self |= *other;
    }
}

impl ChangeSet for () {
    fn is_empty(&self) -> bool {
        true
    }

    fn mark_all(&mut self) {}

    fn merge(&mut self, (): &Self) {}
}

/// Which parts of a value an encoder writes: all of it, or what changed.
#[derive(Debug)]
pub enum Selection<'a, C> {
    /// The whole value, every field.
    All,
    /// Only what these changes name.
    Changed(&'a C),
    /// These fields, each whole.
    Fields(FieldMask),
}

impl<C> Clone for Selection<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Selection<'_, C> {}

impl<'a, C> Selection<'a, C> {
    /// The fields of state `S` this selection names.
    #[must_use]
    pub fn mask<S: crate::SyncState<Changes = C>>(self) -> FieldMask {
        match self {
            Self::All => S::ALL,
            Self::Changed(changes) => S::mask(changes),
            Self::Fields(mask) => mask & S::ALL,
        }
    }

    /// The selection of a field's value whose changes are `part` of these: a
    /// field selected whole is selected all through.
    #[must_use]
    pub fn map<D>(self, part: impl FnOnce(&'a C) -> &'a D) -> Selection<'a, D> {
        match self {
            Self::All | Self::Fields(_) => Selection::All,
            Self::Changed(changes) => Selection::Changed(part(changes)),
        }
    }
}

/// A type that can be a field of a `#[derive(SyncState)]` struct.
///
/// Implemented for every [`Whole`] value, and by `#[derive(SyncState)]` for the
/// state itself, which can then be nested in another state (unless it has
/// `#[sync(owner)]` fields: those belong to the state a player owns, so such a
/// state is a top-level state only). Generated code is its only caller.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a synced state field",
    label = "expected a plain value, a `#[derive(SyncState)]` struct, or a `SyncVec` or `SyncMap` of either",
    note = "add `#[nodelink::data]` and `#[derive(Clone, PartialEq)]` to a type of your own to sync it whole, or derive `nodelink::SyncState` on it to sync it field by field",
    note = "a `#[derive(SyncState)]` struct with `#[sync(owner)]` fields is a top-level state only (a player's, the server's or an entity's), never a field: mark the whole field `#[sync(owner)]` instead"
)]
pub trait SyncField: Clone + Send + Sync + Fingerprint + 'static {
    /// What changed in a value of this type since the changes were last taken.
    type Changes: ChangeSet;

    /// What a receiver gets when the field changed: the new value, for a whole
    /// value; the changed sub-fields, for a nested state.
    type Delta: Clone + PartialEq + Send + Sync + 'static;

    /// A view for changing the value in place while recording what changes.
    type Mut<'a>: Deref<Target = Self>
    where
        Self: 'a;

    /// The view of `value` that records its changes in `changes`.
    fn field_mut<'a>(value: &'a mut Self, changes: &'a mut Self::Changes) -> Self::Mut<'a>;

    /// Replaces `value` with `new`, recording what differs.
    fn replace(value: &mut Self, new: Self, changes: &mut Self::Changes);

    /// Records in `changes` what differs between `value` and `before`.
    fn diff(value: &Self, before: &Self, changes: &mut Self::Changes);

    /// Writes the field `name`: the parts of `value` that `selection` names.
    ///
    /// # Errors
    /// When a value's `Serialize` impl fails.
    fn encode<W: FieldSink>(
        value: &Self,
        name: &'static str,
        selection: Selection<'_, Self::Changes>,
        out: &mut W,
    ) -> Result<(), EncodeError>;

    /// Reads the field `name` of `owner` into a delta.
    ///
    /// # Errors
    /// When the input does not hold a value of this type.
    fn decode<R: FieldSource>(
        owner: FieldOwner,
        name: &'static str,
        input: &mut R,
    ) -> Result<Self::Delta, DecodeError>;

    /// Merges a delta into `value`.
    fn apply(value: &mut Self, delta: &Self::Delta);

    /// The delta that carries the parts of `value` that `selection` names.
    fn delta(value: &Self, selection: Selection<'_, Self::Changes>) -> Self::Delta;
}

/// A value synced whole: when it changes, the whole new value is sent.
///
/// nodelink implements it for the standard types serde encodes, and
/// `#[nodelink::data]` (or `#[derive(Fingerprint)]`) for your own. A type with a hand-written
/// [`Fingerprint`] implements it with one line:
///
/// ```
/// use nodelink::Fingerprint;
///
/// #[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq)]
/// pub struct Color(u32);
///
/// impl Fingerprint for Color {
///     const FINGERPRINT: u64 = nodelink::fingerprint::FingerprintHasher::new().str("color v1").finish();
/// }
/// impl nodelink::sync::Whole for Color {}
/// ```
///
/// A marker: what sending whole takes (serde both ways, `PartialEq`, `Clone`) is
/// required where the value is synced, so the derive can mark every plain type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a plain value, sent whole",
    label = "expected a number, a string, a `#[nodelink::data]` type, or a `Vec`, `Option`, map or set of them",
    note = "add `#[nodelink::data]` and `#[derive(Clone, PartialEq)]` to a type of your own to send it whole",
    note = "a `#[derive(SyncState)]` struct is synced field by field instead: hold several in a `nodelink::sync::SyncVec` or `SyncMap`, not in a `Vec`, a map or an `Option`"
)]
pub trait Whole {}

/// The view of a [`Whole`] field: [`set`](Self::set) records a change only when
/// the value differs.
#[derive(Debug)]
pub struct WholeMut<'a, T> {
    value: &'a mut T,
    changed: &'a mut bool,
}

impl<T: PartialEq> WholeMut<'_, T> {
    /// Sets the value; marks it changed only if it differs.
    pub fn set(&mut self, value: T) -> &mut Self {
        if *self.value != value {
            *self.value = value;
            *self.changed = true;
        }
        self
    }
}

impl<T> Deref for WholeMut<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value
    }
}

impl<T> SyncField for T
where
    T: Whole
        + Serialize
        + DeserializeOwned
        + PartialEq
        + Clone
        + Send
        + Sync
        + Fingerprint
        + 'static,
{
    type Changes = bool;
    type Delta = T;
    type Mut<'a> = WholeMut<'a, T>;

    fn field_mut<'a>(value: &'a mut Self, changed: &'a mut bool) -> WholeMut<'a, T> {
        WholeMut { value, changed }
    }

    fn replace(value: &mut Self, new: Self, changed: &mut bool) {
        if *value != new {
            *value = new;
            *changed = true;
        }
    }

    fn diff(value: &Self, before: &Self, changed: &mut bool) {
        *changed |= value != before;
    }

    fn encode<W: FieldSink>(
        value: &Self,
        name: &'static str,
        _: Selection<'_, bool>,
        out: &mut W,
    ) -> Result<(), EncodeError> {
        out.field(name, value)
    }

    fn decode<R: FieldSource>(
        owner: FieldOwner,
        name: &'static str,
        input: &mut R,
    ) -> Result<T, DecodeError> {
        input.field(owner, name)
    }

    fn apply(value: &mut Self, delta: &T) {
        value.clone_from(delta);
    }

    fn delta(value: &Self, _: Selection<'_, bool>) -> T {
        value.clone()
    }
}

/// A mask with bit `index` set when `changes` is not empty: how a state's
/// generated code derives its mask from its fields' change sets.
#[must_use]
pub fn bit_if_changed<C: ChangeSet>(changes: &C, index: u32) -> FieldMask {
    if changes.is_empty() {
        FieldMask::EMPTY
    } else {
        FieldMask::from_bits(1 << index)
    }
}

macro_rules! whole {
    ($($ty:ty),* $(,)?) => {
        $(impl Whole for $ty {})*
    };
}

whole! {
    bool, char, (), u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64,
    String, Box<str>, crate::PlayerId,
}

impl<T: Whole> Whole for Option<T> {}
impl<T: Whole> Whole for Vec<T> {}
impl<T: Whole> Whole for std::collections::VecDeque<T> {}
impl<T: Whole> Whole for std::collections::BTreeSet<T> {}
impl<T: Whole, H> Whole for std::collections::HashSet<T, H> {}
impl<K: Whole, V: Whole> Whole for std::collections::BTreeMap<K, V> {}
impl<K: Whole, V: Whole, H> Whole for std::collections::HashMap<K, V, H> {}
impl<T: Whole, const N: usize> Whole for [T; N] {}
impl<T: Whole> Whole for Box<T> {}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: Whole),+> Whole for ($($name,)+) {}
    };
}

tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);
