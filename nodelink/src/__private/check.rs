//! What `#[derive(SyncState)]` checks at each synced field, and `#[nodelink::data]`
//! at each field, so that a mistake is reported once, at the field, with its fix.
//!
//! The derive writes one probe per part of a field's type that a mistake can be
//! in (a field `party: Vec<Stats>` has one part, `Stats`, held in a list):
//!
//! ```text
//! (&&&&&&&&&&&&&&&&Probe::<Vec<Stats>, List, Stats, ()>::NEW).check();
//! ```
//!
//! Method lookup tries the receiver with every reference removed in turn, so the
//! `check` that applies with the most references wins: the levels below go from
//! "the field is fine" (15 references) down to "nothing about this part is known"
//! (none). The chosen `check` carries the verdict as a bound of its own, on a trait
//! that no type implements, whose `on_unimplemented` message names the mistake and
//! its fix; the compiler reports it at the probe, which the derive spans on the
//! field. Verdicts of "fine" and "reported elsewhere" have no bound.
//!
//! The generated items themselves only assume their fields' bounds (as
//! `for<'a> Field: SyncedField`, or `DataField`, which the compiler does not check
//! where the item is written), so a wrong field costs the one error of its probe
//! rather than one per generated item, plus one where the type is used, saying
//! that much. `#[nodelink::data]`'s fields have a probe of their own, [`DataProbe`],
//! with fewer levels: what goes on the wire is all they need.

#![allow(missing_debug_implementations)]

use std::fmt::Debug;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::fingerprint::Fingerprint;
use crate::sync::{SyncField, Whole};

/// A part of a field to check: the field's type `T`, the kind `K` of place the part
/// has in it, the part `S`, and `O`, the other parts (see [`AllFine`]).
pub struct Probe<T, K, S, O>(Marker<(T, K, S, O)>);

/// Names types without holding values of them.
type Marker<T> = PhantomData<fn() -> T>;

impl<T, K, S, O> Probe<T, K, S, O> {
    /// The probe, to call `check` on through 16 references.
    pub const NEW: Self = Self(PhantomData);
}

/// A part of a field of a `#[nodelink::data]` type: the field's type `T`, the part
/// `S` and the other parts `O`. Its levels are the `Data…` ones below.
pub struct DataProbe<T, S, O>(Marker<(T, S, O)>);

impl<T, S, O> DataProbe<T, S, O> {
    /// The probe, to call `check` on through 8 references.
    pub const NEW: Self = Self(PhantomData);
}

/// The part is the field's type itself.
pub struct Direct;
/// An item of a `Vec`, a `VecDeque` or an array.
pub struct List;
/// A value of a `HashMap` or a `BTreeMap` with keys `Key`.
pub struct MapValue<Key>(Marker<Key>);
/// The value of an `Option`.
pub struct OptionOf;
/// Inside some other value sent whole (a `Box`).
pub struct WholeOther;
/// A key of a `HashMap` or a `BTreeMap`, or an item of a set.
pub struct Key;
/// An item of a `SyncVec` or a `SyncDeque`, or a value of a `SyncMap`.
pub struct SyncItem;
/// A key of a `SyncMap`.
pub struct SyncKey;

/// A part and its kind, in a list of the other parts of a field.
pub struct Part<K, S>(Marker<(K, S)>);
/// Stands for the other parts in every probe but a field's first: only the first
/// reports a field whose parts are all fine but which still cannot be synced.
pub struct NotFirst;

/// What the generated items assume of each synced field's type: a
/// [`SyncField`], under a name of its own, whose message is the one shown where a
/// state with a wrong field is used (the field itself has its probe's error).
#[diagnostic::on_unimplemented(
    message = "a field of this state has the type `{Self}`, which cannot be synced",
    label = "this state does not compile: the error at its field of type `{Self}` says why"
)]
pub trait SyncedField: SyncField {}

#[diagnostic::do_not_recommend]
impl<T: SyncField> SyncedField for T {}

/// Implemented by `#[derive(SyncState)]` for the struct, whether or not it compiles.
pub trait DerivedState {}

/// Implemented by `#[derive(SyncState)]` for a struct with `#[sync(owner)]` or
/// `#[sync(tag = "…")]` fields.
pub trait HasOwnerFields {}

/// Implemented by `#[nodelink::data]` for the type, whether or not it compiles.
pub trait DerivedData {}

/// What every part of a `#[nodelink::data]` type's field must be: what goes on the
/// wire. The type's generated impls assume it of each field (as `for<'a> Field:
/// DataField`, not checked where they are written), so its message is the one
/// shown where a type with a wrong field is used; the field itself has its
/// probe's error.
#[diagnostic::on_unimplemented(
    message = "a field of this `#[nodelink::data]` type has the type `{Self}`, which cannot go on the wire",
    label = "this type does not compile: the error at its field of type `{Self}` says why"
)]
pub trait DataField: Fingerprint + Serialize + DeserializeOwned {}

#[diagnostic::do_not_recommend]
impl<T: Fingerprint + Serialize + DeserializeOwned> DataField for T {}

/// Every part of a list (`(Part, (Part, ()))`) is plain data.
pub trait AllDataField {}

impl AllDataField for () {}
impl<K, S: DataField, Rest: AllDataField> AllDataField for (Part<K, S>, Rest) {}

/// What a part of kind `K` must be for its field to be synced.
pub trait FineAs<K> {}

/// Everything a value synced whole must be: what the `SyncField` impl of a
/// [`Whole`] type asks for.
pub trait Plain {}

impl<T> Plain for T where
    T: Whole
        + Serialize
        + DeserializeOwned
        + PartialEq
        + Clone
        + Send
        + Sync
        + Fingerprint
        + 'static
{
}

/// Everything a `SyncMap` key must be.
pub trait SyncMapKey {}

impl<T> SyncMapKey for T where
    T: Ord
        + Clone
        + Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + Fingerprint
        + 'static
{
}

impl<S: SyncField> FineAs<Direct> for S {}
impl<S: Plain> FineAs<List> for S {}
impl<S: Plain, K> FineAs<MapValue<K>> for S {}
impl<S: Plain> FineAs<OptionOf> for S {}
impl<S: Plain> FineAs<WholeOther> for S {}
impl<S: Plain> FineAs<Key> for S {}
impl<S: SyncField + Default> FineAs<SyncItem> for S {}
impl<S: SyncMapKey> FineAs<SyncKey> for S {}

/// Every part of a list (`(Part, (Part, ()))`) is fine.
pub trait AllFine {}

impl AllFine for () {}
impl<K, S: FineAs<K>, Rest: AllFine> AllFine for (Part<K, S>, Rest) {}

/// Keeps the verdicts below to this module: no type implements them.
mod sealed {
    pub trait Never {}
}

// The verdicts: traits that no type implements (their one impl asks for a trait
// nobody can implement), each with the message of one mistake. `Self` is the part
// at fault, `Field` the field's type.
/// A state with owner fields as a part of another state.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `#[sync(owner)]` or `#[sync(tag = \"…\")]` fields, so it cannot be part of another state",
    label = "a part of a state goes to every player who sees that state",
    note = "to send this field to some players only, mark the field itself `#[sync(owner)]` or `#[sync(tag = \"…\")]` and remove those marks from the fields of `{Self}`"
)]
pub trait OwnerFieldsInside {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> OwnerFieldsInside for T {}

/// A state in a `Vec` or an array.
#[diagnostic::on_unimplemented(
    message = "`{Field}` cannot be synced: `{Self}` is a `#[derive(SyncState)]` struct, synced field by field",
    label = "use `nodelink::sync::SyncVec<{Self}>` here",
    note = "a `Vec` or an array is sent whole whenever it changes; a `SyncVec` syncs its items field by field, and only the items that change"
)]
pub trait StateInList<Field> {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never, Field> StateInList<Field> for T {}

/// A state as the value of a map.
#[diagnostic::on_unimplemented(
    message = "`{Field}` cannot be synced: `{Self}` is a `#[derive(SyncState)]` struct, synced field by field",
    label = "use `nodelink::sync::SyncMap<{K}, {Self}>` here",
    note = "a `HashMap` or a `BTreeMap` is sent whole whenever it changes; a `SyncMap` syncs its entries field by field, and only the entries that change"
)]
pub trait StateInMap<Field, K> {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never, Field, K> StateInMap<Field, K> for T {}

/// A state in an `Option`.
#[diagnostic::on_unimplemented(
    message = "`{Field}` cannot be synced: `{Self}` is a `#[derive(SyncState)]` struct, synced field by field, and always there",
    label = "keep a `{Self}` here, or make `{Self}` a plain value",
    note = "to sync it field by field, make the field a `{Self}` and say inside it whether it is in use (a field such as `active: bool`), or hold it in a `nodelink::sync::SyncVec<{Self}>` of zero or one item",
    note = "to send it whole whenever it changes, make `{Self}` a plain value: `#[nodelink::data]` and `#[derive(Clone, PartialEq)]` instead of `#[derive(SyncState)]`"
)]
pub trait StateInOption<Field> {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never, Field> StateInOption<Field> for T {}

/// A state inside another value sent whole.
#[diagnostic::on_unimplemented(
    message = "`{Field}` cannot be synced: `{Self}` is a `#[derive(SyncState)]` struct, synced field by field, so it cannot be inside a value sent whole",
    label = "make `{Self}` itself the field, or hold it in a `nodelink::sync::SyncVec` or `SyncMap`",
    note = "or make `{Self}` a plain value, sent whole: `#[nodelink::data]` and `#[derive(Clone, PartialEq)]` instead of `#[derive(SyncState)]`"
)]
pub trait StateInWhole<Field> {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never, Field> StateInWhole<Field> for T {}

/// A state as a key or a set item.
#[diagnostic::on_unimplemented(
    message = "`{Field}` cannot be synced: `{Self}` is a `#[derive(SyncState)]` struct, so it cannot be a key or a set item",
    label = "keys are sent whole: key by a plain value, such as an id"
)]
pub trait StateAsKey<Field> {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never, Field> StateAsKey<Field> for T {}

/// A field whose parts are all fine but which still cannot be synced.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a synced state field",
    label = "each part of this type can be synced, but not this type",
    note = "a synced field is a plain value (a number, a string, a `#[nodelink::data]` type, or a `Vec`, `Option`, `Box`, array, map or set of them), a `#[derive(SyncState)]` struct, or a `nodelink::sync::SyncVec` or `SyncMap` of either",
    note = "the keys of a `HashMap` or `HashSet` must be `Eq + Hash` with the default hasher, those of a `BTreeMap` or `BTreeSet` `Ord`; or mark the field `#[sync(skip)]` to keep it on the server"
)]
pub trait CannotSync {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> CannotSync for T {}

/// A `SyncVec` or `SyncDeque` item or `SyncMap` value without `Default`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must have a `Default` to be an item of a `SyncVec` or a `SyncDeque`, or a value of a `SyncMap`",
    label = "add `Default` to the derives of `{Self}`",
    note = "a receiver makes the items it has not seen yet from `Default`, then applies their fields"
)]
pub trait ItemNeedsDefault {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> ItemNeedsDefault for T {}

/// A `SyncMap` key without `Ord` or `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `Ord` and `Debug` to be a `SyncMap` key",
    label = "add `Debug, PartialEq, Eq, PartialOrd, Ord` to the derives of `{Self}`",
    note = "a `SyncMap` keeps its entries in key order, and names a key in its errors"
)]
pub trait KeyNeedsOrd {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> KeyNeedsOrd for T {}

/// A plain value that is not `Send + Sync`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `Send + Sync` to be synced",
    label = "the server's tasks share synced values",
    note = "hold plain data (ids, copies) rather than `Rc`, `Cell` or `RefCell`, or mark the field `#[sync(skip)]`"
)]
pub trait NeedsSendSync {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsSendSync for T {}

/// A hand-written `Fingerprint` without `Whole`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has a hand-written `Fingerprint`, and must also say that it is synced whole",
    label = "add `impl nodelink::sync::Whole for {Self} {{}}`",
    note = "`#[nodelink::data]` and `#[derive(nodelink::Fingerprint)]` implement `Whole` themselves"
)]
pub trait NeedsWhole {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsWhole for T {}

/// A value without `Clone`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `Clone` to be synced",
    label = "add `Clone` to the derives of `{Self}`",
    note = "a changed value is cloned into the delta that carries it"
)]
pub trait NeedsClone {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsClone for T {}

/// A value without `PartialEq`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `PartialEq` to be synced",
    label = "add `PartialEq` to the derives of `{Self}`",
    note = "a setter compares the new value with the old one, so that only real changes are sent"
)]
pub trait NeedsPartialEq {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsPartialEq for T {}

/// A value without `Clone` and `PartialEq`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` must be `Clone` and `PartialEq` to be synced",
    label = "add `Clone, PartialEq` to the derives of `{Self}`",
    note = "a setter compares the new value with the old one, so that only real changes are sent, and clones it into the delta that carries it"
)]
pub trait NeedsCloneAndPartialEq {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsCloneAndPartialEq for T {}

/// A value with a `Fingerprint` but no serde impls.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has a `Fingerprint` but no serde `Serialize` and `Deserialize`, so it cannot be encoded",
    label = "use `#[nodelink::data]` on `{Self}` instead of `#[derive(nodelink::Fingerprint)]`",
    note = "`#[nodelink::data]` derives `Fingerprint`, `Serialize` and `Deserialize`, through nodelink: no serde dependency needed"
)]
pub trait NeedsSerde {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsSerde for T {}

/// A value with serde impls but no `Fingerprint`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no protocol fingerprint",
    label = "add `#[derive(nodelink::Fingerprint)]` to `{Self}`",
    note = "the handshake compares fingerprints, so that builds with different types are told apart instead of misreading each other",
    note = "for a type of another crate, wrap it in a type of your own"
)]
pub trait NeedsFingerprint {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NeedsFingerprint for T {}

/// A value that is none of the above.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be synced: it is neither a plain value nor a `#[derive(SyncState)]` struct",
    label = "add `#[nodelink::data]` and `#[derive(Clone, PartialEq)]` to `{Self}` to sync it whole",
    note = "or derive `nodelink::SyncState` on it to sync it field by field, or mark the field `#[sync(skip)]` to keep it on the server",
    note = "for a type of another crate, wrap it in a type of your own"
)]
pub trait NotSyncable {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NotSyncable for T {}

/// A state inside a plain data type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a `#[derive(SyncState)]` struct, so it cannot be part of a `#[nodelink::data]` type",
    label = "a `#[nodelink::data]` type goes on the wire whole, and a state cannot",
    note = "make the outer type a state too (`#[derive(SyncState)]`), so that `{Self}` is a nested state, or make `{Self}` plain data with `#[nodelink::data]`"
)]
pub trait StateInData {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> StateInData for T {}

/// A field of a plain data type whose parts are all plain data, yet which cannot
/// go on the wire.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot go on the wire",
    label = "each part of this type can, but not this type",
    note = "a field of a `#[nodelink::data]` type is a number, a string, another `#[nodelink::data]` type, or a `Vec`, `Option`, `Box`, array, map or set of them; the keys of a `HashMap` or `HashSet` must be `Eq + Hash`, those of a `BTreeMap` or `BTreeSet` `Ord`"
)]
pub trait CannotEncode {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> CannotEncode for T {}

/// A field of a plain data type that is not plain data.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not plain data, so it cannot be part of a `#[nodelink::data]` type",
    label = "add `#[nodelink::data]` to `{Self}`",
    note = "for a type of another crate, wrap it in a type of your own"
)]
pub trait NotData {}
#[diagnostic::do_not_recommend]
impl<T: sealed::Never> NotData for T {}

// The levels: traits whose `check` has the verdict as its bound (or none). Each is
// generic over the part `S`, the field's type `T` and the kind `K`, all fixed by
// the impl that applies.
/// The field can be synced.
pub trait FieldIsFine<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self) {}
}

/// A state with owner fields as a part of another state.
pub trait OwnerFieldsLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: OwnerFieldsInside,
    {
    }
}

/// A state that does not compile: its own errors say why.
pub trait ReportedAtTheState<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self) {}
}

/// A state in a list.
pub trait StateInListLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: StateInList<T>,
    {
    }
}

/// A state as a map value.
pub trait StateInMapLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: StateInMap<T, K>,
    {
    }
}

/// A state in an `Option`.
pub trait StateInOptionLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: StateInOption<T>,
    {
    }
}

/// A state inside a value sent whole.
pub trait StateInWholeLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: StateInWhole<T>,
    {
    }
}

/// A state as a key.
pub trait StateAsKeyLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: StateAsKey<T>,
    {
    }
}

/// Every part is fine, yet the field cannot be synced.
pub trait CannotSyncLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        T: CannotSync,
    {
    }
}

/// This part is fine: another part's probe reports the field.
pub trait ReportedAtAnotherPart<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self) {}
}

/// A `SyncVec` or `SyncDeque` item or `SyncMap` value without `Default`.
pub trait ItemNeedsDefaultLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: ItemNeedsDefault,
    {
    }
}

/// A `SyncMap` key without `Ord` or `Debug`.
pub trait KeyNeedsOrdLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: KeyNeedsOrd,
    {
    }
}

/// Everything but `Send + Sync`.
pub trait NeedsSendSyncLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsSendSync,
    {
    }
}

/// Everything but `Whole`.
pub trait NeedsWholeLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsWhole,
    {
    }
}

/// No `Clone`.
pub trait NeedsCloneLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsClone,
    {
    }
}

/// No `PartialEq`.
pub trait NeedsPartialEqLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsPartialEq,
    {
    }
}

/// Neither `Clone` nor `PartialEq`.
pub trait NeedsCloneAndPartialEqLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsCloneAndPartialEq,
    {
    }
}

/// A `#[nodelink::data]` type that does not compile: its own errors say why.
pub trait ReportedAtTheData<S, T, K> {
    /// Reports nothing.
    fn check(&self) {}
}

/// A `Fingerprint`, no serde.
pub trait NeedsSerdeLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsSerde,
    {
    }
}

/// Serde, no `Fingerprint`.
pub trait NeedsFingerprintLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NeedsFingerprint,
    {
    }
}

/// Nothing known.
pub trait NotSyncableLevel<S, T, K> {
    /// Reports the verdict, if any.
    fn check(&self)
    where
        S: NotSyncable,
    {
    }
}

/// `impl<…> Level<S, T, K> for & & … Probe<T, K, S, O> where …`: the number of
/// references is the level's rank.
macro_rules! at {
    ([$($refs:tt)*] $level:ident for <$($param:ident),*> Probe<$t:ty, $k:ty, $s:ty, $o:ty> $(where $($bounds:tt)*)?) => {
        impl<$($param),*> $level<$s, $t, $k> for $($refs)* Probe<$t, $k, $s, $o> $(where $($bounds)*)? {}
    };
}

// 15: the field can be synced.
at!([& & & & & & & & & & & & & & &] FieldIsFine for <T, K, S, O> Probe<T, K, S, O> where T: SyncField);

// 14: a state with owner fields where a state may be.
at!([& & & & & & & & & & & & & &] OwnerFieldsLevel for <T, S, O> Probe<T, Direct, S, O> where S: HasOwnerFields);
at!([& & & & & & & & & & & & & &] OwnerFieldsLevel for <T, S, O> Probe<T, SyncItem, S, O> where S: HasOwnerFields);

// 13: a state: reported by the state itself where a state may be, and here where
// one may not.
at!([& & & & & & & & & & & & &] ReportedAtTheState for <T, S, O> Probe<T, Direct, S, O> where S: DerivedState);
at!([& & & & & & & & & & & & &] ReportedAtTheState for <T, S, O> Probe<T, SyncItem, S, O> where S: DerivedState);
at!([& & & & & & & & & & & & &] StateInListLevel for <T, S, O> Probe<T, List, S, O> where S: DerivedState);
// (Its third parameter is the key rather than the kind, for the message.)
impl<T, K, S: DerivedState, O> StateInMapLevel<S, T, K>
    for &&&&&&&&&&&&&Probe<T, MapValue<K>, S, O>
{
}
at!([& & & & & & & & & & & & &] StateInOptionLevel for <T, S, O> Probe<T, OptionOf, S, O> where S: DerivedState);
at!([& & & & & & & & & & & & &] StateInWholeLevel for <T, S, O> Probe<T, WholeOther, S, O> where S: DerivedState);
at!([& & & & & & & & & & & & &] StateAsKeyLevel for <T, S, O> Probe<T, Key, S, O> where S: DerivedState);
at!([& & & & & & & & & & & & &] StateAsKeyLevel for <T, S, O> Probe<T, SyncKey, S, O> where S: DerivedState);

// 12, 11: this part is fine; the first part reports the field if all are.
at!([& & & & & & & & & & & &] CannotSyncLevel for <T, K, S, O> Probe<T, K, S, O> where S: FineAs<K>, O: AllFine);
at!([& & & & & & & & & & &] ReportedAtAnotherPart for <T, K, S, O> Probe<T, K, S, O> where S: FineAs<K>);

// 10: what a `SyncVec` item or a `SyncMap` key needs beyond a plain value.
at!([& & & & & & & & & &] ItemNeedsDefaultLevel for <T, S, O> Probe<T, SyncItem, S, O> where S: Plain);
at!([& & & & & & & & & &] KeyNeedsOrdLevel for <T, S, O> Probe<T, SyncKey, S, O> where S: Fingerprint + Serialize + DeserializeOwned + Clone + PartialEq);

// 9 to 5, and 3 to 0: what a plain value lacks, from the most complete down.
at!([& & & & & & & & &] NeedsSendSyncLevel for <T, K, S, O> Probe<T, K, S, O> where S: Fingerprint + Serialize + DeserializeOwned + Clone + PartialEq + Whole);
at!([& & & & & & & &] NeedsWholeLevel for <T, K, S, O> Probe<T, K, S, O> where S: Fingerprint + Serialize + DeserializeOwned + Clone + PartialEq);
at!([& & & & & & &] NeedsCloneLevel for <T, K, S, O> Probe<T, K, S, O> where S: Fingerprint + Serialize + DeserializeOwned + PartialEq);
at!([& & & & & &] NeedsPartialEqLevel for <T, K, S, O> Probe<T, K, S, O> where S: Fingerprint + Serialize + DeserializeOwned + Clone);
at!([& & & & &] NeedsCloneAndPartialEqLevel for <T, K, S, O> Probe<T, K, S, O> where S: Fingerprint + Serialize + DeserializeOwned);
// 4: a `#[nodelink::data]` type that lacks what the levels below would name:
// its own errors say why.
at!([& & & &] ReportedAtTheData for <T, K, S, O> Probe<T, K, S, O> where S: DerivedData);
at!([& & &] NeedsSerdeLevel for <T, K, S, O> Probe<T, K, S, O> where S: Fingerprint);
at!([& &] NeedsFingerprintLevel for <T, K, S, O> Probe<T, K, S, O> where S: Serialize + DeserializeOwned);
at!([] NotSyncableLevel for <T, K, S, O> Probe<T, K, S, O>);

// The levels of a `#[nodelink::data]` type's field, from 7 references down.

/// The field can go on the wire.
pub trait DataFieldIsFine<S, T> {
    /// Reports nothing.
    fn check(&self) {}
}
/// A `#[nodelink::data]` type that does not compile: its own errors say why.
pub trait DataReportedAtTheType<S, T> {
    /// Reports nothing.
    fn check(&self) {}
}
/// A state inside plain data.
pub trait DataStateLevel<S, T> {
    /// Reports the verdict.
    fn check(&self)
    where
        S: StateInData,
    {
    }
}
/// Every part is plain data, yet the field cannot go on the wire.
pub trait DataCannotEncodeLevel<S, T> {
    /// Reports the verdict.
    fn check(&self)
    where
        T: CannotEncode,
    {
    }
}
/// This part is plain data: another part's probe reports the field.
pub trait DataReportedAtAnotherPart<S, T> {
    /// Reports nothing.
    fn check(&self) {}
}
/// A `Fingerprint`, no serde.
pub trait DataNeedsSerdeLevel<S, T> {
    /// Reports the verdict.
    fn check(&self)
    where
        S: NeedsSerde,
    {
    }
}
/// Serde, no `Fingerprint`.
pub trait DataNeedsFingerprintLevel<S, T> {
    /// Reports the verdict.
    fn check(&self)
    where
        S: NeedsFingerprint,
    {
    }
}
/// Nothing known.
pub trait NotDataLevel<S, T> {
    /// Reports the verdict.
    fn check(&self)
    where
        S: NotData,
    {
    }
}

impl<T: DataField, S, O> DataFieldIsFine<S, T> for &&&&&&&DataProbe<T, S, O> {}
impl<T, S: DerivedData, O> DataReportedAtTheType<S, T> for &&&&&&DataProbe<T, S, O> {}
impl<T, S: DerivedState, O> DataStateLevel<S, T> for &&&&&DataProbe<T, S, O> {}
impl<T, S: DataField, O: AllDataField> DataCannotEncodeLevel<S, T> for &&&&DataProbe<T, S, O> {}
impl<T, S: DataField, O> DataReportedAtAnotherPart<S, T> for &&&DataProbe<T, S, O> {}
impl<T, S: Fingerprint, O> DataNeedsSerdeLevel<S, T> for &&DataProbe<T, S, O> {}
impl<T, S: Serialize + DeserializeOwned, O> DataNeedsFingerprintLevel<S, T>
    for &DataProbe<T, S, O>
{
}
impl<T, S, O> NotDataLevel<S, T> for DataProbe<T, S, O> {}

/// What a synced state itself must be, checked at its name: one trait each, so
/// that each missing one is reported on its own.
pub fn state_struct<S: StateIsClone + StateHasDefault + StateIsSendSync>() {}

/// `#[derive(SyncState)]`'s check of an enum of kinds, which gets its `Default`
/// (the first kind) from the derive.
pub fn kinds_enum<S: StateIsClone + StateIsSendSync>() {}

/// `#[derive(SyncState)]`'s check of each kind of an enum of kinds.
pub fn kind_has_default<T: KindHasDefault>() {}

/// Derived by `#[derive(SyncState)]`'s check of each kind of an enum of kinds.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a kind of an enum state, so it must have a `Default`",
    label = "add `Default` to the derives of `{Self}`",
    note = "a client that learns of a value of this kind starts from `Default`, then applies the server's fields"
)]
pub trait KindHasDefault {}
#[diagnostic::do_not_recommend]
impl<T: Default> KindHasDefault for T {}

/// Derived by `#[derive(SyncState)]`'s check of the struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a synced state, so it must be `Clone`",
    label = "add `Clone` to the derives of `{Self}`"
)]
pub trait StateIsClone {}
#[diagnostic::do_not_recommend]
impl<S: Clone> StateIsClone for S {}

/// Derived by `#[derive(SyncState)]`'s check of the struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a synced state, so it must have a `Default`",
    label = "add `Default` to the derives of `{Self}`",
    note = "a client starts its copy of each player's state from `Default`, then applies the server's changes"
)]
pub trait StateHasDefault {}
#[diagnostic::do_not_recommend]
impl<S: Default> StateHasDefault for S {}

/// Derived by `#[derive(SyncState)]`'s check of the struct.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a synced state, so it must be `Send + Sync`",
    label = "the server's tasks share it",
    note = "hold plain data (ids, copies) rather than `Rc`, `Cell` or `RefCell`"
)]
pub trait StateIsSendSync {}
#[diagnostic::do_not_recommend]
impl<S: Send + Sync> StateIsSendSync for S {}

/// The levels' traits, imported anonymously by the probes (`use levels::*`), so
/// that their `check` methods are in scope without any name that could clash with
/// the user's.
pub mod levels {
    pub use super::{
        CannotSyncLevel as _, FieldIsFine as _, ItemNeedsDefaultLevel as _, KeyNeedsOrdLevel as _,
        NeedsCloneAndPartialEqLevel as _, NeedsCloneLevel as _, NeedsFingerprintLevel as _,
        NeedsPartialEqLevel as _, NeedsSendSyncLevel as _, NeedsSerdeLevel as _,
        NeedsWholeLevel as _, NotSyncableLevel as _, OwnerFieldsLevel as _,
        ReportedAtAnotherPart as _, ReportedAtTheData as _, ReportedAtTheState as _,
        StateAsKeyLevel as _, StateInListLevel as _, StateInMapLevel as _, StateInOptionLevel as _,
        StateInWholeLevel as _,
    };
    pub use super::{
        DataCannotEncodeLevel as _, DataFieldIsFine as _, DataNeedsFingerprintLevel as _,
        DataNeedsSerdeLevel as _, DataReportedAtAnotherPart as _, DataReportedAtTheType as _,
        DataStateLevel as _, NotDataLevel as _,
    };
}
