//! `SyncMap`: a synced map whose changes go out per entry.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Deref;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::fingerprint::{Fingerprint, FingerprintHasher};
use crate::schema::{Type, TypeRegistry};
use crate::sync::field::{ChangeSet, Selection, SyncField};
use crate::wire::fields::{FieldSink, FieldSource};

/// The default bound on a [`SyncMap`]'s entries.
pub const DEFAULT_MAP_LIMIT: usize = 1024;

/// A map field of a synced state whose changes go out per entry: an insert or a
/// removal sends that key; a changed entry sends its new value, or, when `V`
/// derives `SyncState`, only its changed fields. One changed item in a 100-item
/// inventory costs the bytes of one item.
///
/// At most `LIMIT` entries ([`DEFAULT_MAP_LIMIT`] unless given): an insert past it
/// is refused with [`MapFull`], never a panic. Entries are kept in key order.
///
/// ```
/// use nodelink::sync::{SyncMap, Selection};
/// use nodelink::{SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Player {
///     pub inventory: SyncMap<String, u32>,
/// }
///
/// let mut player = Tracked::new(Player::default());
/// player.state_mut().inventory().insert("arrows".into(), 20)?;
/// player.state_mut().inventory().insert("bread".into(), 2)?;
/// player.take_changes(); // synced
///
/// player.state_mut().inventory().insert("arrows".into(), 19)?;
/// let delta = player.get().delta(Selection::Changed(player.changes()));
/// let inventory = delta.inventory.expect("changed");
/// assert_eq!(inventory.entries, [("arrows".to_owned(), 19)]); // bread is not sent
///
/// let mut mirror = Player::default();
/// mirror.apply(&player.get().delta(Selection::All));
/// assert_eq!(mirror, *player.get());
/// # Ok::<(), nodelink::sync::MapFull>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SyncMap<K, V, const LIMIT: usize = DEFAULT_MAP_LIMIT> {
    entries: BTreeMap<K, V>,
}

impl<K, V, const LIMIT: usize> Default for SyncMap<K, V, LIMIT> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, const LIMIT: usize> fmt::Debug for SyncMap<K, V, LIMIT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.entries.fmt(f)
    }
}

/// Reads go through the entries, a `BTreeMap`.
impl<K, V, const LIMIT: usize> Deref for SyncMap<K, V, LIMIT> {
    type Target = BTreeMap<K, V>;

    fn deref(&self) -> &BTreeMap<K, V> {
        &self.entries
    }
}

impl<K: Ord, V, const LIMIT: usize> FromIterator<(K, V)> for SyncMap<K, V, LIMIT> {
    /// Keeps the first `LIMIT` entries.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut entries = BTreeMap::new();
        for (key, value) in iter {
            if entries.len() < LIMIT || entries.contains_key(&key) {
                entries.insert(key, value);
            }
        }
        Self { entries }
    }
}

/// An insert into a [`SyncMap`] that holds its limit of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the map holds its limit of {limit} entries")]
pub struct MapFull {
    /// The map's limit.
    pub limit: usize,
}

/// What changed in one entry: all of it (a new or replaced entry), or parts.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryChanges<C> {
    pub(crate) whole: bool,
    pub(crate) part: C,
}

impl<C: ChangeSet> Default for EntryChanges<C> {
    fn default() -> Self {
        Self {
            whole: false,
            part: C::default(),
        }
    }
}

impl<C: ChangeSet> EntryChanges<C> {
    pub(crate) fn is_empty(&self) -> bool {
        !self.whole && self.part.is_empty()
    }

    /// How an encoder selects the entry's value: all of it, or its changed parts.
    pub(crate) fn selection(&self) -> Selection<'_, C> {
        if self.whole {
            Selection::All
        } else {
            Selection::Changed(&self.part)
        }
    }

    /// Adds the changes of `other`.
    pub(crate) fn merge(&mut self, other: &Self) {
        self.whole |= other.whole;
        self.part.merge(&other.part);
    }
}

/// What changed in a [`SyncMap`] since the changes were last taken.
#[derive(Debug, Clone, PartialEq)]
pub struct MapChanges<K, C> {
    /// Everything: the map is sent whole.
    all: bool,
    removed: BTreeSet<K>,
    changed: BTreeMap<K, EntryChanges<C>>,
}

impl<K, C> Default for MapChanges<K, C> {
    fn default() -> Self {
        Self {
            all: false,
            removed: BTreeSet::new(),
            changed: BTreeMap::new(),
        }
    }
}

impl<K, C> ChangeSet for MapChanges<K, C>
where
    K: Ord + Clone + fmt::Debug + Send + Sync + 'static,
    C: ChangeSet,
{
    fn is_empty(&self) -> bool {
        !self.all && self.removed.is_empty() && self.changed.values().all(EntryChanges::is_empty)
    }

    fn mark_all(&mut self) {
        self.all = true;
    }

    fn merge(&mut self, other: &Self) {
        self.all |= other.all;
        for key in &other.removed {
            self.changed.remove(key);
            self.removed.insert(key.clone());
        }
        for (key, entry) in &other.changed {
            self.removed.remove(key);
            self.changed.entry(key.clone()).or_default().merge(entry);
        }
    }
}

/// What a receiver gets when a [`SyncMap`] changed.
#[derive(Debug, Clone, PartialEq)]
pub struct MapDelta<K, D> {
    /// The map was sent whole: drop every entry first.
    pub replace: bool,
    /// Keys removed.
    pub removed: Vec<K>,
    /// Entries inserted or changed: a new value, or a nested state's changed fields.
    pub entries: Vec<(K, D)>,
}

/// A [`SyncMap`] being changed; every change is recorded per entry.
pub struct SyncMapMut<'a, K, V: SyncField, const LIMIT: usize> {
    map: &'a mut SyncMap<K, V, LIMIT>,
    changes: &'a mut MapChanges<K, V::Changes>,
}

impl<K: fmt::Debug, V: SyncField + fmt::Debug, const LIMIT: usize> fmt::Debug
    for SyncMapMut<'_, K, V, LIMIT>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncMapMut")
            .field("map", &self.map)
            .finish_non_exhaustive()
    }
}

impl<K, V: SyncField, const LIMIT: usize> Deref for SyncMapMut<'_, K, V, LIMIT> {
    type Target = SyncMap<K, V, LIMIT>;

    fn deref(&self) -> &SyncMap<K, V, LIMIT> {
        self.map
    }
}

impl<K, V, const LIMIT: usize> SyncMapMut<'_, K, V, LIMIT>
where
    K: Ord + Clone + fmt::Debug + Send + Sync + 'static,
    V: SyncField,
{
    /// Inserts or replaces the entry at `key`; returns the value it had. Replacing
    /// records only what differs (nothing, for an equal value).
    ///
    /// # Errors
    /// [`MapFull`] when `key` is new and the map holds `LIMIT` entries.
    pub fn insert(&mut self, key: K, value: V) -> Result<Option<V>, MapFull> {
        if let Some(current) = self.map.entries.get_mut(&key) {
            let old = current.clone();
            let entry = self.changes.changed.entry(key).or_default();
            V::replace(current, value, &mut entry.part);
            return Ok(Some(old));
        }
        if self.map.entries.len() >= LIMIT {
            return Err(MapFull { limit: LIMIT });
        }
        self.changes.removed.remove(&key);
        self.changes.changed.entry(key.clone()).or_default().whole = true;
        self.map.entries.insert(key, value);
        Ok(None)
    }

    /// Removes the entry at `key`; returns its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let value = self.map.entries.remove(key)?;
        self.changes.changed.remove(key);
        self.changes.removed.insert(key.clone());
        Some(value)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        for key in std::mem::take(&mut self.map.entries).into_keys() {
            self.changes.changed.remove(&key);
            self.changes.removed.insert(key);
        }
    }

    /// The entry at `key` for changing in place (a nested state's setters, or a
    /// plain value's `set`), recording only what changes.
    pub fn get_mut(&mut self, key: &K) -> Option<V::Mut<'_>> {
        let value = self.map.entries.get_mut(key)?;
        let entry = self.changes.changed.entry(key.clone()).or_default();
        Some(V::field_mut(value, &mut entry.part))
    }
}

impl<K, V, const LIMIT: usize> Fingerprint for SyncMap<K, V, LIMIT>
where
    K: Fingerprint,
    V: Fingerprint,
{
    const FINGERPRINT: u64 = FingerprintHasher::new()
        .str("sync_map")
        .u64(K::FINGERPRINT)
        .u64(V::FINGERPRINT)
        .finish();

    fn describe(types: &mut TypeRegistry) -> Type {
        Type::SyncMap(Box::new(K::describe(types)), Box::new(V::describe(types)))
    }
}

impl<K, V, const LIMIT: usize> SyncField for SyncMap<K, V, LIMIT>
where
    K: Ord
        + Clone
        + fmt::Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + Fingerprint
        + 'static,
    V: SyncField + Default,
{
    type Changes = MapChanges<K, V::Changes>;
    type Delta = MapDelta<K, V::Delta>;
    type Mut<'a> = SyncMapMut<'a, K, V, LIMIT>;

    fn field_mut<'a>(value: &'a mut Self, changes: &'a mut Self::Changes) -> Self::Mut<'a> {
        SyncMapMut {
            map: value,
            changes,
        }
    }

    fn replace(value: &mut Self, new: Self, changes: &mut Self::Changes) {
        Self::diff(&new, value, changes);
        *value = new;
    }

    fn diff(value: &Self, before: &Self, changes: &mut Self::Changes) {
        for key in before.entries.keys() {
            if !value.entries.contains_key(key) {
                changes.changed.remove(key);
                changes.removed.insert(key.clone());
            }
        }
        for (key, now) in &value.entries {
            let entry = changes.changed.entry(key.clone()).or_default();
            match before.entries.get(key) {
                Some(then) => V::diff(now, then, &mut entry.part),
                None => {
                    changes.removed.remove(key);
                    entry.whole = true;
                }
            }
        }
        changes.changed.retain(|_, entry| !entry.is_empty());
    }

    fn encode<W: FieldSink>(
        value: &Self,
        name: &'static str,
        selection: Selection<'_, Self::Changes>,
        out: &mut W,
    ) -> Result<(), EncodeError> {
        let changes = match selection {
            Selection::Changed(changes) if !changes.all => changes,
            _ => {
                // Whole: `[true, [], [[key, value]…]]`.
                return out.seq(name, 3, |out| {
                    out.field("replace", &true)?;
                    out.seq("removed", 0, |_| Ok(()))?;
                    out.seq("entries", value.entries.len(), |out| {
                        for (key, entry) in &value.entries {
                            write_entry(out, key, entry, Selection::All)?;
                        }
                        Ok(())
                    })
                });
            }
        };
        let changed: Vec<(&K, &V, Selection<'_, V::Changes>)> = changes
            .changed
            .iter()
            .filter(|(_, entry)| !entry.is_empty())
            .filter_map(|(key, entry)| {
                value
                    .entries
                    .get(key)
                    .map(|value| (key, value, entry.selection()))
            })
            .collect();
        out.seq(name, 3, |out| {
            out.field("replace", &false)?;
            out.seq("removed", changes.removed.len(), |out| {
                for key in &changes.removed {
                    out.field("key", key)?;
                }
                Ok(())
            })?;
            out.seq("entries", changed.len(), |out| {
                for (key, entry, selection) in &changed {
                    write_entry(out, *key, *entry, *selection)?;
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
        input.seq(owner, name, |len, input| {
            if len != 3 {
                return Err(DecodeError::Field {
                    owner,
                    field: name,
                    reason: format!("expected [replace, removed, entries], found {len} items"),
                });
            }
            let replace = input.field::<bool>(owner, "replace")?;
            let removed = input.seq(owner, "removed", |len, input| {
                (0..len).map(|_| input.field::<K>(owner, "key")).collect()
            })?;
            let entries = input.seq(owner, "entries", |len, input| {
                (0..len)
                    .map(|_| {
                        input.seq(owner, "entry", |_, input| {
                            let key = input.field::<K>(owner, "key")?;
                            Ok((key, V::decode(owner, "value", input)?))
                        })
                    })
                    .collect()
            })?;
            Ok(MapDelta {
                replace,
                removed,
                entries,
            })
        })
    }

    fn apply(value: &mut Self, delta: &Self::Delta) {
        if delta.replace {
            value.entries.clear();
        }
        for key in &delta.removed {
            value.entries.remove(key);
        }
        for (key, entry) in &delta.entries {
            V::apply(value.entries.entry(key.clone()).or_default(), entry);
        }
    }

    fn delta(value: &Self, selection: Selection<'_, Self::Changes>) -> Self::Delta {
        match selection {
            Selection::Changed(changes) if !changes.all => MapDelta {
                replace: false,
                removed: changes.removed.iter().cloned().collect(),
                entries: changes
                    .changed
                    .iter()
                    .filter(|(_, entry)| !entry.is_empty())
                    .filter_map(|(key, entry)| {
                        let value = value.entries.get(key)?;
                        Some((key.clone(), V::delta(value, entry.selection())))
                    })
                    .collect(),
            },
            _ => MapDelta {
                replace: true,
                removed: Vec::new(),
                entries: value
                    .entries
                    .iter()
                    .map(|(key, value)| (key.clone(), V::delta(value, Selection::All)))
                    .collect(),
            },
        }
    }
}

/// `[key, value]`, the value as `selection` picks it.
fn write_entry<W: FieldSink, K: Serialize, V: SyncField>(
    out: &mut W,
    key: &K,
    value: &V,
    selection: Selection<'_, V::Changes>,
) -> Result<(), EncodeError> {
    out.seq("entry", 2, |out| {
        out.field("key", key)?;
        V::encode(value, "value", selection, out)
    })
}
