//! `SyncVec`: a synced list whose changes go out per index.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::fingerprint::{Fingerprint, FingerprintHasher};
use crate::schema::{Type, TypeRegistry};
use crate::sync::field::{ChangeSet, Selection, SyncField};
use crate::sync::map::EntryChanges;
use crate::wire::fields::{FieldSink, FieldSource};

/// The default bound on a [`SyncVec`]'s items.
pub const DEFAULT_VEC_LIMIT: usize = 1024;

/// A list field of a synced state whose changes go out per index: a changed item
/// sends its index and new value, or, when `V` derives `SyncState`, only its
/// changed fields; a push, a pop or a truncation sends the new length and the new
/// items. One changed item in a 100-item list costs the bytes of one item.
///
/// Changes are recorded by position, so what shifts items costs more:
/// [`insert`](SyncVecMut::insert), [`remove`](SyncVecMut::remove) and
/// [`retain`](SyncVecMut::retain) send every shifted index whose value differs
/// from the one that was there (in a list of distinct items, every index from the
/// first one shifted to the end). Prefer `push`, `pop` and `set` for large lists,
/// or a [`SyncMap`](crate::sync::SyncMap) keyed by a stable id.
///
/// At most `LIMIT` items ([`DEFAULT_VEC_LIMIT`] unless given): a push or insert
/// past it is refused with [`VecFull`], never a panic; an index past the end is
/// [`OutOfRange`] or `None`. Reads go through the items, a slice. `V` must be
/// `Default`: a receiver extends its list with defaults before it sets the items
/// that came.
///
/// ```
/// use nodelink::sync::{SyncVec, Selection};
/// use nodelink::{SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Board {
///     pub scores: SyncVec<u32>,
/// }
///
/// let mut board = Tracked::new(Board::default());
/// for score in [10, 20, 30] {
///     board.state_mut().scores().push(score)?;
/// }
/// board.take_changes(); // synced
///
/// board.state_mut().scores().set(1, 25)?;
/// let delta = board.get().delta(Selection::Changed(board.changes()));
/// let scores = delta.scores.expect("changed");
/// assert_eq!((scores.len, scores.entries), (3, vec![(1, 25)])); // 10 and 30 are not sent
///
/// let mut mirror = Board::default();
/// mirror.apply(&board.get().delta(Selection::All));
/// assert_eq!(mirror.scores[..], [10, 25, 30]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SyncVec<V, const LIMIT: usize = DEFAULT_VEC_LIMIT> {
    items: Vec<V>,
}

impl<V, const LIMIT: usize> SyncVec<V, LIMIT> {
    /// An empty list.
    #[must_use]
    pub const fn new() -> Self {
        Self { items: Vec::new() }
    }

    /// The items, as a slice.
    #[must_use]
    pub fn as_slice(&self) -> &[V] {
        &self.items
    }

    /// The items, leaving the list behind.
    #[must_use]
    pub fn into_vec(self) -> Vec<V> {
        self.items
    }
}

impl<V, const LIMIT: usize> Default for SyncVec<V, LIMIT> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug, const LIMIT: usize> fmt::Debug for SyncVec<V, LIMIT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

/// Reads go through the items, a slice.
impl<V, const LIMIT: usize> Deref for SyncVec<V, LIMIT> {
    type Target = [V];

    fn deref(&self) -> &[V] {
        &self.items
    }
}

impl<'a, V, const LIMIT: usize> IntoIterator for &'a SyncVec<V, LIMIT> {
    type Item = &'a V;
    type IntoIter = std::slice::Iter<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<V, const LIMIT: usize> FromIterator<V> for SyncVec<V, LIMIT> {
    /// Keeps the first `LIMIT` items.
    fn from_iter<I: IntoIterator<Item = V>>(iter: I) -> Self {
        Self {
            items: iter.into_iter().take(LIMIT).collect(),
        }
    }
}

impl<V, const LIMIT: usize> TryFrom<Vec<V>> for SyncVec<V, LIMIT> {
    type Error = VecFull;

    /// The list of these items.
    ///
    /// # Errors
    /// [`VecFull`] when there are more than `LIMIT`.
    fn try_from(items: Vec<V>) -> Result<Self, VecFull> {
        if items.len() > LIMIT {
            return Err(VecFull { limit: LIMIT });
        }
        Ok(Self { items })
    }
}

/// A push or insert into a [`SyncVec`] that holds its limit of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the list holds its limit of {limit} items")]
pub struct VecFull {
    /// The list's limit.
    pub limit: usize,
}

/// An index past the end of a [`SyncVec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("index {index} is out of range for a list of {len} items")]
pub struct OutOfRange {
    /// The index given.
    pub index: usize,
    /// The list's length.
    pub len: usize,
}

/// Why [`SyncVecMut::insert`] refused an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InsertError {
    /// The list holds its limit of items.
    #[error(transparent)]
    Full(#[from] VecFull),
    /// The index is past the end of the list.
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
}

/// What changed in a [`SyncVec`] since the changes were last taken.
///
/// Changes are by position: an index's entry says what differs between the item
/// the receiver has there and the one there now. Entries at or past the current
/// length are never sent (a merge may leave some from before a truncation).
#[derive(Debug, Clone, PartialEq)]
pub struct VecChanges<C> {
    /// Everything: the list is sent whole.
    all: bool,
    /// The length changed.
    len: bool,
    changed: BTreeMap<usize, EntryChanges<C>>,
}

impl<C> Default for VecChanges<C> {
    fn default() -> Self {
        Self {
            all: false,
            len: false,
            changed: BTreeMap::new(),
        }
    }
}

impl<C: ChangeSet> VecChanges<C> {
    fn entry(&mut self, index: usize) -> &mut EntryChanges<C> {
        self.changed.entry(index).or_default()
    }

    /// A new item at `index`: the receiver has none there, or another one.
    fn whole(&mut self, index: usize) {
        self.entry(index).whole = true;
    }

    /// The list is now `len` items long: what was recorded past it is gone.
    fn shrunk_to(&mut self, len: usize) {
        self.changed.split_off(&len);
        self.len = true;
    }

    /// The changed entries of the first `len` indexes, each with its selection.
    fn entries(&self, len: usize) -> impl Iterator<Item = (usize, Selection<'_, C>)> {
        self.changed
            .range(..len)
            .filter(|(_, entry)| !entry.is_empty())
            .map(|(index, entry)| (*index, entry.selection()))
    }
}

impl<C: ChangeSet> ChangeSet for VecChanges<C> {
    fn is_empty(&self) -> bool {
        !self.all && !self.len && self.changed.values().all(EntryChanges::is_empty)
    }

    fn mark_all(&mut self) {
        self.all = true;
    }

    fn merge(&mut self, other: &Self) {
        self.all |= other.all;
        self.len |= other.len;
        // Positions that `other` truncated away may keep entries here; they lie past
        // the length until the list grows again, and growing marks them whole.
        for (index, entry) in &other.changed {
            self.entry(*index).merge(entry);
        }
    }
}

/// What a receiver gets when a [`SyncVec`] changed.
#[derive(Debug, Clone, PartialEq)]
pub struct VecDelta<D> {
    /// The list's length: the receiver truncates to it, or extends with defaults.
    pub len: usize,
    /// Items changed, by index: a new value, or a nested state's changed fields.
    pub entries: Vec<(usize, D)>,
}

/// A [`SyncVec`] being changed; every change is recorded per index.
pub struct SyncVecMut<'a, V: SyncField, const LIMIT: usize> {
    vec: &'a mut SyncVec<V, LIMIT>,
    changes: &'a mut VecChanges<V::Changes>,
}

impl<V: SyncField + fmt::Debug, const LIMIT: usize> fmt::Debug for SyncVecMut<'_, V, LIMIT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncVecMut")
            .field("vec", &self.vec)
            .finish_non_exhaustive()
    }
}

impl<V: SyncField, const LIMIT: usize> Deref for SyncVecMut<'_, V, LIMIT> {
    type Target = SyncVec<V, LIMIT>;

    fn deref(&self) -> &SyncVec<V, LIMIT> {
        self.vec
    }
}

impl<V: SyncField, const LIMIT: usize> SyncVecMut<'_, V, LIMIT> {
    /// Appends an item.
    ///
    /// # Errors
    /// [`VecFull`] when the list holds `LIMIT` items.
    pub fn push(&mut self, value: V) -> Result<(), VecFull> {
        if self.vec.items.len() >= LIMIT {
            return Err(VecFull { limit: LIMIT });
        }
        self.changes.whole(self.vec.items.len());
        self.changes.len = true;
        self.vec.items.push(value);
        Ok(())
    }

    /// Removes the last item and returns it.
    pub fn pop(&mut self) -> Option<V> {
        let value = self.vec.items.pop()?;
        self.changes.shrunk_to(self.vec.items.len());
        Some(value)
    }

    /// Replaces the item at `index`, recording only what differs (nothing, for an
    /// equal value).
    ///
    /// # Errors
    /// [`OutOfRange`] when `index` is not below the length.
    pub fn set(&mut self, index: usize, value: V) -> Result<(), OutOfRange> {
        let len = self.vec.items.len();
        let item = self
            .vec
            .items
            .get_mut(index)
            .ok_or(OutOfRange { index, len })?;
        V::replace(item, value, &mut self.changes.entry(index).part);
        Ok(())
    }

    /// The item at `index` for changing in place (a nested state's setters, or a
    /// plain value's `set`), recording only what changes.
    pub fn get_mut(&mut self, index: usize) -> Option<V::Mut<'_>> {
        let item = self.vec.items.get_mut(index)?;
        Some(V::field_mut(item, &mut self.changes.entry(index).part))
    }

    /// Keeps the first `len` items (all of them, when there are fewer).
    pub fn truncate(&mut self, len: usize) {
        if len < self.vec.items.len() {
            self.vec.items.truncate(len);
            self.changes.shrunk_to(len);
        }
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Inserts an item at `index`, shifting the items after it up by one.
    ///
    /// Every shifted index whose item differs from its new one is sent: up to
    /// `len - index` items. [`push`](Self::push) sends one.
    ///
    /// # Errors
    /// [`InsertError::OutOfRange`] when `index` is past the length,
    /// [`InsertError::Full`] when the list holds `LIMIT` items.
    pub fn insert(&mut self, index: usize, value: V) -> Result<(), InsertError> {
        let len = self.vec.items.len();
        if index > len {
            return Err(OutOfRange { index, len }.into());
        }
        if len >= LIMIT {
            return Err(VecFull { limit: LIMIT }.into());
        }
        self.vec.items.insert(index, value);
        let items = &self.vec.items;
        // What the receiver has at `at` is now one further up.
        for at in index..len {
            V::diff(&items[at], &items[at + 1], &mut self.changes.entry(at).part);
        }
        self.changes.whole(len);
        self.changes.len = true;
        Ok(())
    }

    /// Removes the item at `index` and returns it, shifting the items after it
    /// down by one; `None` when `index` is not below the length.
    ///
    /// Every shifted index whose item differs from its new one is sent: up to
    /// `len - index - 1` items. [`pop`](Self::pop) sends none.
    pub fn remove(&mut self, index: usize) -> Option<V> {
        if index >= self.vec.items.len() {
            return None;
        }
        let removed = self.vec.items.remove(index);
        let items = &self.vec.items;
        for at in index..items.len() {
            // What the receiver has at `at` is now one further down, or removed.
            let before = if at == index {
                &removed
            } else {
                &items[at - 1]
            };
            V::diff(&items[at], before, &mut self.changes.entry(at).part);
        }
        self.changes.shrunk_to(items.len());
        Some(removed)
    }

    /// Keeps the items for which `keep` returns true, in order; `keep` sees each
    /// item once.
    ///
    /// Every index from the first removed item on whose item differs from its new
    /// one is sent.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        let kept: Vec<bool> = self.vec.items.iter().map(&mut keep).collect();
        let Some(first) = kept.iter().position(|keep| !keep) else {
            return;
        };
        // The items from the first removed one on, as the receiver has them.
        let tail = self.vec.items.split_off(first);
        let survivors = tail
            .iter()
            .zip(&kept[first..])
            .filter_map(|(item, keep)| keep.then_some(item));
        for (at, item) in (first..).zip(survivors) {
            V::diff(item, &tail[at - first], &mut self.changes.entry(at).part);
        }
        self.vec.items.extend(
            tail.into_iter()
                .zip(&kept[first..])
                .filter_map(|(item, keep)| keep.then_some(item)),
        );
        self.changes.shrunk_to(self.vec.items.len());
    }
}

impl<V: Fingerprint, const LIMIT: usize> Fingerprint for SyncVec<V, LIMIT> {
    const FINGERPRINT: u64 = FingerprintHasher::new()
        .str("sync_vec")
        .u64(V::FINGERPRINT)
        .finish();

    fn describe(types: &mut TypeRegistry) -> Type {
        Type::SyncVec(Box::new(V::describe(types)))
    }
}

impl<V, const LIMIT: usize> SyncField for SyncVec<V, LIMIT>
where
    V: SyncField + Default,
{
    type Changes = VecChanges<V::Changes>;
    type Delta = VecDelta<V::Delta>;
    type Mut<'a> = SyncVecMut<'a, V, LIMIT>;

    fn field_mut<'a>(value: &'a mut Self, changes: &'a mut Self::Changes) -> Self::Mut<'a> {
        SyncVecMut {
            vec: value,
            changes,
        }
    }

    fn replace(value: &mut Self, new: Self, changes: &mut Self::Changes) {
        Self::diff(&new, value, changes);
        *value = new;
    }

    fn diff(value: &Self, before: &Self, changes: &mut Self::Changes) {
        let (now, then) = (value.items.len(), before.items.len());
        for (at, (item, old)) in value.items.iter().zip(&before.items).enumerate() {
            V::diff(item, old, &mut changes.entry(at).part);
        }
        for at in then..now {
            changes.whole(at);
        }
        if now < then {
            changes.shrunk_to(now);
        }
        changes.len |= now != then;
        changes.changed.retain(|_, entry| !entry.is_empty());
    }

    fn encode<W: FieldSink>(
        value: &Self,
        name: &'static str,
        selection: Selection<'_, Self::Changes>,
        out: &mut W,
    ) -> Result<(), EncodeError> {
        let len = value.items.len();
        let changed: Vec<(usize, Selection<'_, V::Changes>)> = match selection {
            Selection::Changed(changes) if !changes.all => changes.entries(len).collect(),
            // Whole: `[len, [[0, v0], [1, v1], …]]`.
            _ => (0..len).map(|at| (at, Selection::All)).collect(),
        };
        out.seq(name, 2, |out| {
            out.field("len", &len)?;
            out.seq("entries", changed.len(), |out| {
                for (at, selection) in changed {
                    out.seq("entry", 2, |out| {
                        out.field("index", &at)?;
                        V::encode(&value.items[at], "value", selection, out)
                    })?;
                }
                Ok(())
            })
        })
    }

    fn decode<R: FieldSource>(
        owner: FieldOwner,
        name: &'static str,
        input: &mut R,
    ) -> Result<Self::Delta, DecodeError> {
        let error = |reason: String| DecodeError::Field {
            owner,
            field: name,
            reason,
        };
        input.seq(owner, name, |items, input| {
            if items != 2 {
                return Err(error(format!(
                    "expected [len, entries], found {items} items"
                )));
            }
            let len = input.field::<usize>(owner, "len")?;
            if len > LIMIT {
                return Err(error(format!(
                    "a list of {len} items, past its limit of {LIMIT}"
                )));
            }
            let entries = input.seq(owner, "entries", |count, input| {
                (0..count)
                    .map(|_| {
                        input.seq(owner, "entry", |_, input| {
                            let at = input.field::<usize>(owner, "index")?;
                            if at >= len {
                                return Err(error(format!(
                                    "an entry at index {at} of a list of {len} items"
                                )));
                            }
                            Ok((at, V::decode(owner, "value", input)?))
                        })
                    })
                    .collect()
            })?;
            Ok(VecDelta { len, entries })
        })
    }

    fn apply(value: &mut Self, delta: &Self::Delta) {
        // A decoded delta is within the limit; one built by hand is held to it too.
        value.items.resize_with(delta.len.min(LIMIT), V::default);
        for (at, entry) in &delta.entries {
            if let Some(item) = value.items.get_mut(*at) {
                V::apply(item, entry);
            }
        }
    }

    fn delta(value: &Self, selection: Selection<'_, Self::Changes>) -> Self::Delta {
        let len = value.items.len();
        let entries = match selection {
            Selection::Changed(changes) if !changes.all => changes
                .entries(len)
                .map(|(at, selection)| (at, V::delta(&value.items[at], selection)))
                .collect(),
            _ => value
                .items
                .iter()
                .enumerate()
                .map(|(at, item)| (at, V::delta(item, Selection::All)))
                .collect(),
        };
        VecDelta { len, entries }
    }
}
