//! A state value together with the fields changed since the last sync.

use crate::sync::mask::FieldMask;
use crate::sync::state::SyncState;

/// A [`SyncState`] value and its dirty mask: the fields changed since the mask was
/// last taken. The server holds one per player and one for the shared server state.
///
/// There is no `&mut S` access: every change goes through a setter of
/// [`state_mut`](Self::state_mut) or through [`update`](Self::update), so the mask is
/// always exact. A setter that writes an equal value marks nothing.
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
/// assert_eq!(score.take_dirty(), changed);
/// assert!(score.dirty().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tracked<S> {
    value: S,
    dirty: FieldMask,
}

impl<S: SyncState> Tracked<S> {
    /// Tracks `value`, with no field marked.
    #[must_use]
    pub fn new(value: S) -> Self {
        Self {
            value,
            dirty: FieldMask::EMPTY,
        }
    }

    /// The current value.
    #[must_use]
    pub fn get(&self) -> &S {
        &self.value
    }

    /// A view with one setter per field; each marks its field when the value changes.
    pub fn state_mut(&mut self) -> S::Mut<'_> {
        S::tracked_mut(&mut self.value, &mut self.dirty)
    }

    /// Changes several fields in one closure; the fields whose values differ
    /// afterwards are marked and returned.
    ///
    /// Compares against a clone taken before the closure runs, so for a large state
    /// the setters of [`state_mut`](Self::state_mut) are cheaper.
    pub fn update(&mut self, change: impl FnOnce(&mut S)) -> FieldMask {
        let before = self.value.clone();
        change(&mut self.value);
        let changed = self.value.changed_fields(&before);
        self.dirty |= changed;
        changed
    }

    /// Replaces the whole value, marking the fields that differ.
    pub fn set(&mut self, value: S) -> FieldMask {
        let changed = value.changed_fields(&self.value);
        self.value = value;
        self.dirty |= changed;
        changed
    }

    /// Resets the value to its `Default`, marking the fields that differ.
    pub fn clear(&mut self) -> FieldMask {
        self.set(S::default())
    }

    /// The fields changed since the mask was last taken.
    #[must_use]
    pub fn dirty(&self) -> FieldMask {
        self.dirty
    }

    /// Marks fields as changed whatever their values, e.g. to resend them.
    pub fn mark(&mut self, fields: FieldMask) {
        self.dirty |= fields & S::ALL;
    }

    /// Returns the changed fields and clears the mask, as a sync does.
    pub fn take_dirty(&mut self) -> FieldMask {
        std::mem::take(&mut self.dirty)
    }

    /// The value, leaving the tracking behind.
    #[must_use]
    pub fn into_inner(self) -> S {
        self.value
    }
}
