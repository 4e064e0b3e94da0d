//! Field masks: which fields of a state changed.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

/// A set of field indexes of a [`SyncState`](crate::SyncState) type, one bit each.
///
/// Bit `i` stands for the `i`-th synced field in declaration order
/// ([`SyncState::FIELDS`](crate::SyncState::FIELDS)`[i]`). A `u64`, so a state has at
/// most 64 synced fields; the derive rejects more at compile time.
///
/// ```
/// use nodelink::FieldMask;
///
/// let mut mask = FieldMask::EMPTY;
/// mask.insert(0);
/// mask.insert(2);
/// assert_eq!(mask.len(), 2);
/// assert_eq!(mask.iter().collect::<Vec<_>>(), [0, 2]);
/// assert_eq!(mask, FieldMask::from_bits(0b101));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FieldMask(u64);

impl FieldMask {
    /// No fields.
    pub const EMPTY: Self = Self(0);

    /// The largest number of fields a mask can hold.
    pub const CAPACITY: u32 = u64::BITS;

    /// The mask with these bits.
    #[must_use]
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The mask of the first `count` fields (all of them, for a state with `count`
    /// synced fields).
    #[must_use]
    pub const fn first(count: u32) -> Self {
        if count >= Self::CAPACITY {
            Self(u64::MAX)
        } else {
            Self((1u64 << count) - 1)
        }
    }

    /// The bits.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether no field is in the mask.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many fields are in the mask.
    #[must_use]
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether field `index` is in the mask.
    #[must_use]
    pub const fn contains(self, index: u32) -> bool {
        index < Self::CAPACITY && self.0 & (1 << index) != 0
    }

    /// The fields of `self` that are not in `other`.
    #[must_use]
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The fields in `self` or in `other` (`|`, in a `const`).
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Adds field `index`; indexes of 64 and above are ignored.
    pub fn insert(&mut self, index: u32) {
        if index < Self::CAPACITY {
            self.0 |= 1 << index;
        }
    }

    /// The field indexes in the mask, lowest first.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let index = bits.trailing_zeros();
            bits &= bits - 1;
            Some(index)
        })
    }
}

impl BitOr for FieldMask {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitAnd for FieldMask {
    type Output = Self;

    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl BitOrAssign for FieldMask {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for FieldMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldMask({:#b})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_covers_exactly_count_fields() {
        assert_eq!(FieldMask::first(0), FieldMask::EMPTY);
        assert_eq!(FieldMask::first(3).bits(), 0b111);
        assert_eq!(FieldMask::first(64).len(), 64);
    }

    #[test]
    fn out_of_range_indexes_are_ignored() {
        let mut mask = FieldMask::EMPTY;
        mask.insert(64);
        assert!(mask.is_empty());
        assert!(!mask.contains(200));
    }
}
