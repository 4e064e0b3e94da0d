//! `SyncDeque`: a synced bounded log whose changes go out as "drop the oldest N,
//! append these".

use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::fingerprint::{Fingerprint, FingerprintHasher};
use crate::schema::{Type, TypeRegistry};
use crate::sync::field::{ChangeSet, Selection, SyncField};
use crate::wire::fields::{FieldSink, FieldSource};

/// The capacity of a [`SyncDeque`] made with `Default` (or [`SyncDeque::new`]).
pub const DEFAULT_DEQUE_CAPACITY: usize = 32;

/// The largest capacity a [`SyncDeque`] can have: [`SyncDeque::with_capacity`]
/// keeps a larger one to this, and a receiver refuses a deque announced past it.
pub const MAX_DEQUE_CAPACITY: usize = 1024;

/// A bounded log field of a synced state: the last `capacity` entries (the last 20
/// chat lines, the last 10 hits). [`push_back`](SyncDequeMut::push_back) on a full
/// deque drops the oldest entry, and its change costs one entry on the wire: "drop 1
/// from the front, append this one". A [`SyncVec`](crate::sync::SyncVec) kept short
/// with `remove(0)` and `push` resends every shifted index instead.
///
/// The capacity is set when the deque is made ([`with_capacity`](Self::with_capacity),
/// at most [`MAX_DEQUE_CAPACITY`]); `Default` and [`new`](Self::new) give
/// [`DEFAULT_DEQUE_CAPACITY`] (32). A receiver learns it with every change. Entries
/// are sent whole and never change in place: a log is appended to, not edited. Reads
/// go through the entries, a `VecDeque` (oldest first: `log[0]` is the oldest).
///
/// ```
/// use nodelink::sync::{Selection, SyncDeque};
/// use nodelink::{SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, PartialEq)]
/// pub struct Room {
///     pub chat: SyncDeque<String>,
/// }
///
/// impl Default for Room {
///     fn default() -> Self {
///         Self { chat: SyncDeque::with_capacity(3) }
///     }
/// }
///
/// let mut room = Tracked::new(Room::default());
/// for line in ["hi", "hello", "hey"] {
///     room.state_mut().chat().push_back(line.to_owned());
/// }
/// room.take_changes(); // synced
///
/// let dropped = room.state_mut().chat().push_back("bye".to_owned());
/// assert_eq!(dropped.as_deref(), Some("hi")); // full: the oldest goes
/// let delta = room.get().delta(Selection::Changed(room.changes()));
/// let chat = delta.chat.expect("changed");
/// assert_eq!((chat.drop, chat.entries), (Some(1), vec!["bye".to_owned()]));
///
/// let mut mirror = Room::default();
/// mirror.apply(&room.get().delta(Selection::All));
/// assert_eq!(mirror.chat.iter().collect::<Vec<_>>(), ["hello", "hey", "bye"]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SyncDeque<V> {
    entries: VecDeque<V>,
    capacity: usize,
}

impl<V> SyncDeque<V> {
    /// An empty deque of [`DEFAULT_DEQUE_CAPACITY`] entries.
    #[must_use]
    pub const fn new() -> Self {
        Self::with_capacity(DEFAULT_DEQUE_CAPACITY)
    }

    /// An empty deque that keeps the last `capacity` entries; a capacity past
    /// [`MAX_DEQUE_CAPACITY`] is kept to it.
    ///
    /// ```
    /// use nodelink::sync::{SyncDeque, MAX_DEQUE_CAPACITY};
    ///
    /// assert_eq!(SyncDeque::<u8>::with_capacity(20).capacity(), 20);
    /// assert_eq!(SyncDeque::<u8>::with_capacity(1 << 20).capacity(), MAX_DEQUE_CAPACITY);
    /// ```
    #[must_use]
    pub const fn with_capacity(capacity: usize) -> Self {
        let capacity = if capacity > MAX_DEQUE_CAPACITY {
            MAX_DEQUE_CAPACITY
        } else {
            capacity
        };
        Self {
            entries: VecDeque::new(),
            capacity,
        }
    }

    /// How many entries the deque keeps.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the deque holds its capacity of entries: the next push drops one.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.capacity
    }

    /// The entries, oldest first.
    #[must_use]
    pub fn as_deque(&self) -> &VecDeque<V> {
        &self.entries
    }

    /// The entries, oldest first, leaving the deque behind.
    #[must_use]
    pub fn into_deque(self) -> VecDeque<V> {
        self.entries
    }

    /// Appends an entry, dropping and returning the oldest when the deque is full
    /// (the entry itself, with a capacity of 0). Not recorded: this is for building
    /// a value before it is tracked; a tracked deque's
    /// [`push_back`](SyncDequeMut::push_back) records the change.
    pub fn push_back(&mut self, value: V) -> Option<V> {
        if self.capacity == 0 {
            return Some(value);
        }
        let dropped = if self.is_full() {
            self.entries.pop_front()
        } else {
            None
        };
        self.entries.push_back(value);
        dropped
    }
}

impl<V> Default for SyncDeque<V> {
    /// An empty deque of [`DEFAULT_DEQUE_CAPACITY`] entries.
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for SyncDeque<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.fmt(f)
    }
}

/// Reads go through the entries, a `VecDeque`, oldest first.
impl<V> Deref for SyncDeque<V> {
    type Target = VecDeque<V>;

    fn deref(&self) -> &VecDeque<V> {
        &self.entries
    }
}

impl<'a, V> IntoIterator for &'a SyncDeque<V> {
    type Item = &'a V;
    type IntoIter = std::collections::vec_deque::Iter<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// What changed in a [`SyncDeque`] since the changes were last taken: how many of
/// the entries the receiver has were dropped from the front, and how many entries
/// at the back are new to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DequeChanges {
    /// Everything: the deque is sent whole.
    all: bool,
    /// Entries the receiver has, dropped from the front.
    dropped: usize,
    /// Entries at the back the receiver does not have.
    pushed: usize,
    /// The length after the last recorded change, to merge a later set of changes:
    /// its drops reach the entries pushed here only once the older ones are gone.
    len: usize,
}

impl DequeChanges {
    /// The front entry of a deque of `len` entries was dropped.
    fn front_dropped(&mut self, len: usize) {
        if self.pushed >= len {
            // The receiver never had it.
            self.pushed = len - 1;
        } else {
            self.dropped += 1;
        }
        self.len = len - 1;
    }
}

impl ChangeSet for DequeChanges {
    fn is_empty(&self) -> bool {
        !self.all && self.dropped == 0 && self.pushed == 0
    }

    fn mark_all(&mut self) {
        self.all = true;
    }

    fn merge(&mut self, later: &Self) {
        if later.is_empty() {
            return;
        }
        if self.is_empty() && !self.all {
            *self = later.clone();
            return;
        }
        self.all |= later.all;
        // The later drops take the receiver's entries first, then the ones pushed here.
        let older = self.len.saturating_sub(self.pushed);
        let of_older = later.dropped.min(older);
        let of_pushed = (later.dropped - of_older).min(self.pushed);
        self.dropped += of_older;
        self.pushed = self.pushed - of_pushed + later.pushed;
        self.len = later.len;
    }
}

/// What a receiver gets when a [`SyncDeque`] changed.
#[derive(Debug, Clone, PartialEq)]
pub struct DequeDelta<D> {
    /// The deque's capacity: the receiver keeps as many entries.
    pub capacity: usize,
    /// How many entries to drop from the front first; `None` when the deque is
    /// sent whole: drop every entry.
    pub drop: Option<usize>,
    /// The entries to append at the back, oldest first.
    pub entries: Vec<D>,
}

/// A [`SyncDeque`] being changed; every change is recorded as drops from the front
/// and pushes at the back.
pub struct SyncDequeMut<'a, V> {
    deque: &'a mut SyncDeque<V>,
    changes: &'a mut DequeChanges,
}

impl<V: fmt::Debug> fmt::Debug for SyncDequeMut<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncDequeMut")
            .field("deque", &self.deque)
            .finish_non_exhaustive()
    }
}

impl<V> Deref for SyncDequeMut<'_, V> {
    type Target = SyncDeque<V>;

    fn deref(&self) -> &SyncDeque<V> {
        self.deque
    }
}

impl<V> SyncDequeMut<'_, V> {
    /// Appends an entry; when the deque is full, drops the oldest and returns it (the
    /// entry itself, with a capacity of 0). A push that drops costs one entry on the
    /// wire, like one that does not.
    pub fn push_back(&mut self, value: V) -> Option<V> {
        if self.deque.capacity == 0 {
            return Some(value);
        }
        let dropped = if self.deque.is_full() {
            self.pop_front()
        } else {
            None
        };
        self.deque.entries.push_back(value);
        self.changes.pushed += 1;
        self.changes.len = self.deque.entries.len();
        dropped
    }

    /// Removes the oldest entry and returns it.
    pub fn pop_front(&mut self) -> Option<V> {
        let len = self.deque.entries.len();
        let value = self.deque.entries.pop_front()?;
        self.changes.front_dropped(len);
        Some(value)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        while self.pop_front().is_some() {}
    }
}

impl<V: Fingerprint> Fingerprint for SyncDeque<V> {
    const FINGERPRINT: u64 = FingerprintHasher::new()
        .str("sync_deque")
        .u64(V::FINGERPRINT)
        .finish();

    fn describe(types: &mut TypeRegistry) -> Type {
        Type::SyncDeque(Box::new(V::describe(types)))
    }
}

/// Whether two entries are equal, as their `SyncField` sees them.
fn same<V: SyncField>(one: &V, other: &V) -> bool {
    let mut changes = V::Changes::default();
    V::diff(one, other, &mut changes);
    changes.is_empty()
}

impl<V> SyncField for SyncDeque<V>
where
    V: SyncField + Default,
{
    type Changes = DequeChanges;
    type Delta = DequeDelta<V::Delta>;
    type Mut<'a> = SyncDequeMut<'a, V>;

    fn field_mut<'a>(value: &'a mut Self, changes: &'a mut Self::Changes) -> Self::Mut<'a> {
        SyncDequeMut {
            deque: value,
            changes,
        }
    }

    fn replace(value: &mut Self, new: Self, changes: &mut Self::Changes) {
        Self::diff(&new, value, changes);
        *value = new;
    }

    fn diff(value: &Self, before: &Self, changes: &mut Self::Changes) {
        let mut found = DequeChanges {
            len: value.entries.len(),
            ..DequeChanges::default()
        };
        // The fewest drops after which what is left of `before` starts `value`: the
        // rest of `value` was pushed. Dropping everything always fits.
        let dropped = (0..=before.entries.len())
            .find(|&dropped| {
                before.entries.len() - dropped <= value.entries.len()
                    && before
                        .entries
                        .range(dropped..)
                        .zip(&value.entries)
                        .all(|(then, now)| same(then, now))
            })
            .unwrap_or(before.entries.len());
        if value.capacity == before.capacity {
            found.dropped = dropped;
            found.pushed = value.entries.len() - (before.entries.len() - dropped);
        } else {
            found.all = true;
        }
        changes.merge(&found);
    }

    fn encode<W: FieldSink>(
        value: &Self,
        name: &'static str,
        selection: Selection<'_, Self::Changes>,
        out: &mut W,
    ) -> Result<(), EncodeError> {
        let (drop, pushed) = match selection {
            Selection::Changed(changes) if !changes.all => (
                Some(changes.dropped),
                changes.pushed.min(value.entries.len()),
            ),
            // Whole: `[capacity, nil, [entry…]]`.
            _ => (None, value.entries.len()),
        };
        out.seq(name, 3, |out| {
            out.field("capacity", &value.capacity)?;
            out.field("drop", &drop)?;
            out.seq("entries", pushed, |out| {
                for entry in value.entries.range(value.entries.len() - pushed..) {
                    V::encode(entry, "entry", Selection::All, out)?;
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
            if items != 3 {
                return Err(error(format!(
                    "expected [capacity, drop, entries], found {items} items"
                )));
            }
            let capacity = input.field::<usize>(owner, "capacity")?;
            if capacity > MAX_DEQUE_CAPACITY {
                return Err(error(format!(
                    "a deque of capacity {capacity}, past the limit of {MAX_DEQUE_CAPACITY}"
                )));
            }
            let drop = input.field::<Option<usize>>(owner, "drop")?;
            if let Some(drop) = drop.filter(|drop| *drop > capacity) {
                return Err(error(format!(
                    "drops {drop} entries from a deque that holds at most {capacity}"
                )));
            }
            let entries = input.seq(owner, "entries", |count, input| {
                if count > capacity {
                    return Err(error(format!(
                        "pushes {count} entries into a deque of capacity {capacity}"
                    )));
                }
                (0..count)
                    .map(|_| V::decode(owner, "entry", input))
                    .collect()
            })?;
            Ok(DequeDelta {
                capacity,
                drop,
                entries,
            })
        })
    }

    fn apply(value: &mut Self, delta: &Self::Delta) {
        // A decoded delta is within these bounds; one built by hand is held to them.
        value.capacity = delta.capacity.min(MAX_DEQUE_CAPACITY);
        match delta.drop {
            None => value.entries.clear(),
            Some(drop) => {
                value.entries.drain(..drop.min(value.entries.len()));
            }
        }
        for entry in &delta.entries {
            let mut item = V::default();
            V::apply(&mut item, entry);
            value.push_back(item);
        }
        while value.entries.len() > value.capacity {
            value.entries.pop_front();
        }
    }

    fn delta(value: &Self, selection: Selection<'_, Self::Changes>) -> Self::Delta {
        let (drop, pushed) = match selection {
            Selection::Changed(changes) if !changes.all => (
                Some(changes.dropped),
                changes.pushed.min(value.entries.len()),
            ),
            _ => (None, value.entries.len()),
        };
        DequeDelta {
            capacity: value.capacity,
            drop,
            entries: value
                .entries
                .range(value.entries.len() - pushed..)
                .map(|entry| V::delta(entry, Selection::All))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deque(capacity: usize, entries: &[u32]) -> SyncDeque<u32> {
        let mut deque = SyncDeque::with_capacity(capacity);
        for entry in entries {
            deque.push_back(*entry);
        }
        deque
    }

    /// Applies `value`'s delta under `changes` to `mirror`, as a receiver would.
    fn follow(value: &SyncDeque<u32>, changes: &DequeChanges, mirror: &mut SyncDeque<u32>) {
        let delta = SyncDeque::delta(value, Selection::Changed(changes));
        SyncDeque::apply(mirror, &delta);
    }

    #[test]
    fn a_push_into_a_full_deque_costs_one_entry() {
        let mut value = deque(3, &[1, 2, 3]);
        let mut changes = DequeChanges::default();
        let dropped = SyncDeque::field_mut(&mut value, &mut changes).push_back(4);
        assert_eq!(dropped, Some(1));
        let delta = SyncDeque::delta(&value, Selection::Changed(&changes));
        assert_eq!(
            delta,
            DequeDelta {
                capacity: 3,
                drop: Some(1),
                entries: vec![4]
            }
        );
    }

    #[test]
    fn entries_pushed_and_dropped_between_syncs_are_never_sent() {
        let mut value = deque(2, &[1, 2]);
        let mut mirror = value.clone();
        let mut changes = DequeChanges::default();
        let mut view = SyncDeque::field_mut(&mut value, &mut changes);
        for entry in 3..=7 {
            view.push_back(entry);
        }
        let delta = SyncDeque::delta(&value, Selection::Changed(&changes));
        assert_eq!((delta.drop, delta.entries.clone()), (Some(2), vec![6, 7]));
        SyncDeque::apply(&mut mirror, &delta);
        assert_eq!(mirror, value);
    }

    #[test]
    fn a_replaced_deque_sends_its_fewest_drops_and_pushes_or_itself_whole() {
        let before = deque(4, &[1, 2, 3]);
        let mut changes = DequeChanges::default();
        SyncDeque::diff(&deque(4, &[2, 3, 9]), &before, &mut changes);
        assert_eq!(
            (changes.dropped, changes.pushed, changes.all),
            (1, 1, false)
        );

        let mut changes = DequeChanges::default();
        SyncDeque::diff(&deque(4, &[3, 2]), &before, &mut changes);
        assert_eq!(
            (changes.dropped, changes.pushed, changes.all),
            (2, 1, false)
        );

        let mut changes = DequeChanges::default();
        SyncDeque::diff(&deque(5, &[1, 2, 3]), &before, &mut changes);
        assert!(changes.all, "a new capacity is sent whole");
    }

    #[test]
    fn merged_changes_follow_the_changes_in_order() {
        // Drops after pushes reach the pushed entries once the older ones are gone.
        let mut value = deque(5, &[1, 2]);
        let mut mirror = value.clone();
        let mut first = DequeChanges::default();
        SyncDeque::field_mut(&mut value, &mut first).push_back(3);
        let mut second = DequeChanges::default();
        let mut view = SyncDeque::field_mut(&mut value, &mut second);
        view.pop_front();
        view.pop_front();
        view.pop_front();
        view.push_back(4);
        first.merge(&second);
        assert_eq!((first.dropped, first.pushed), (2, 1));
        follow(&value, &first, &mut mirror);
        assert_eq!(mirror, value);
    }

    #[test]
    fn a_hand_built_delta_past_the_bounds_is_held_to_them() {
        let mut mirror = deque(2, &[1]);
        SyncDeque::apply(
            &mut mirror,
            &DequeDelta {
                capacity: 2,
                drop: Some(5),
                entries: vec![7, 8, 9],
            },
        );
        assert_eq!(mirror, deque(2, &[8, 9]));
    }
}
