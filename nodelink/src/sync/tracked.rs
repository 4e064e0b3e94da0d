//! A state value together with what changed since the last sync.

use crate::sync::field::ChangeSet;
use crate::sync::mask::FieldMask;
use crate::sync::state::SyncState;

/// A [`SyncState`] value and its changes since they were last taken. The server
/// holds one per player and one for the shared server state.
///
/// There is no `&mut S` access: every change goes through a setter of
/// [`state_mut`](Self::state_mut) or through [`update`](Self::update), so the
/// changes are always exact. A setter that writes an equal value marks nothing.
///
/// ```
/// use nodelink::{FieldMask, SyncState, Tracked};
///
/// #[derive(SyncState, Clone, Debug, Default, PartialEq)]
/// pub struct Score { pub points: u32, pub lives: u8 }
///
/// let mut score = Tracked::new(Score::default());
/// let changed = score.update(|s| {
///     s.points += 10;
///     s.lives = 0; // unchanged
/// });
/// assert_eq!(changed, FieldMask::from_bits(0b01));
/// assert_eq!(score.dirty(), changed);
/// score.take_changes();
/// assert!(score.dirty().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tracked<S: SyncState> {
    value: S,
    changes: S::Changes,
}

impl<S: SyncState> Tracked<S> {
    /// Tracks `value`, with nothing marked.
    #[must_use]
    pub fn new(value: S) -> Self {
        Self {
            value,
            changes: S::Changes::default(),
        }
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> &S {
        &self.value
    }

    /// A view with one setter per field; each marks its field when the value
    /// changes. A nested state's view is reached the same way:
    /// `state_mut().stats().set_hp(3)`.
    pub fn state_mut(&mut self) -> S::Mut<'_> {
        S::tracked_mut(&mut self.value, &mut self.changes)
    }

    /// Changes several fields in one closure; the fields whose values differ
    /// afterwards are marked and returned.
    ///
    /// Compares against a clone taken before the closure runs, so for a large state
    /// the setters of [`state_mut`](Self::state_mut) are cheaper.
    pub fn update(&mut self, change: impl FnOnce(&mut S)) -> FieldMask {
        let before = self.value.clone();
        change(&mut self.value);
        self.record(&before)
    }

    /// Replaces the whole value, marking the fields that differ.
    pub fn set(&mut self, value: S) -> FieldMask {
        let before = std::mem::replace(&mut self.value, value);
        self.record(&before)
    }

    /// Records what differs from `before`; returns the fields that do.
    fn record(&mut self, before: &S) -> FieldMask {
        let mut changes = S::Changes::default();
        self.value.diff(before, &mut changes);
        self.changes.merge(&changes);
        S::mask(&changes)
    }

    /// Resets the value to its `Default`, marking the fields that differ.
    pub fn clear(&mut self) -> FieldMask {
        self.set(S::default())
    }

    /// The fields changed since the changes were last taken.
    #[must_use]
    pub fn dirty(&self) -> FieldMask {
        S::mask(&self.changes)
    }

    /// What changed since the changes were last taken, field by field.
    #[must_use]
    pub fn changes(&self) -> &S::Changes {
        &self.changes
    }

    /// Marks everything changed whatever the values, e.g. to resend it all.
    pub fn mark_all(&mut self) {
        self.changes.mark_all();
    }

    /// Returns what changed and forgets it, as a sync does.
    pub fn take_changes(&mut self) -> S::Changes {
        std::mem::take(&mut self.changes)
    }

    /// The value, leaving the tracking behind.
    #[must_use]
    pub fn into_inner(self) -> S {
        self.value
    }
}
