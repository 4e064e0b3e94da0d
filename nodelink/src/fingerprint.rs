//! Protocol fingerprints: a compile-time hash of the shape of every type on the wire.
//!
//! Client and server are built from the same protocol crate, so the compiler checks
//! that they agree. Two *different builds* (an old client against a new server) can
//! still meet at run time; the fingerprint lets the handshake tell them apart and
//! refuse the connection with an error naming both fingerprints, instead of decoding
//! garbage.
//!
//! # What the fingerprint sees
//!
//! The derives (`#[derive(SyncState)]`, `#[nodelink::events]`, `#[derive(Fingerprint)]`)
//! hash the *wire shape* of a type: for a struct its field names, in order, and each
//! field type's own fingerprint; for an enum its variant names, in order, and their
//! fields. Renaming, adding, removing or reordering a field or variant, or changing a
//! field's type, changes the fingerprint. Whitespace, comments, doc comments and the
//! Rust name of a type do not, because none of them reach the wire.
//!
//! Nested user types contribute their own structure: a field of type `Vec2` hashes
//! `Vec2`'s fields, so changing `Vec2` changes the fingerprint of every protocol that
//! uses it.
//!
//! # What it cannot see
//!
//! - `#[serde(...)]` attributes (`rename`, `skip`, `flatten`, `tag`, ...) and
//!   hand-written `Serialize`/`Deserialize` impls: they change the bytes without
//!   changing the Rust structure. Hand-written impls should come with a hand-written
//!   [`Fingerprint`] that names a version ([`FingerprintHasher::str`]) to bump.
//! - The contents of a type that implements [`Fingerprint`] by hand with a constant.
//! - The values of generic parameters it is not told about: implement [`Fingerprint`]
//!   for generic wrappers by combining the parameters' fingerprints, as the impls
//!   below do for `Vec<T>` and `Option<T>`.
//!
//! ```
//! use nodelink::{Fingerprint, SyncState};
//!
//! #[derive(SyncState, Clone, Debug, Default, PartialEq)]
//! pub struct Avatar { pub x: f32, pub y: f32 }
//!
//! #[derive(SyncState, Clone, Debug, Default, PartialEq)]
//! pub struct Renamed { pub x: f32, pub z: f32 }
//!
//! assert_ne!(Avatar::FINGERPRINT, Renamed::FINGERPRINT);
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use crate::schema::{Type, TypeRegistry};

/// A type whose wire shape contributes to a protocol fingerprint.
///
/// Derived for state and event types by their macros, and for plain data types used
/// inside them by `#[derive(Fingerprint)]`. nodelink implements it for the standard
/// types that serde encodes (numbers, `bool`, `char`, `String`, `Option`, `Vec`,
/// maps, sets, tuples, arrays, smart pointers).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no protocol fingerprint",
    label = "this type is used in a nodelink protocol",
    note = "add `#[derive(nodelink::Fingerprint)]` to `{Self}` so the handshake can detect protocol changes inside it",
    note = "for a foreign type, wrap it in a newtype of your own and derive or implement `Fingerprint` for that"
)]
pub trait Fingerprint {
    /// The hash of this type's wire shape.
    const FINGERPRINT: u64;

    /// This type in the [schema](crate::schema)'s type language, defining in
    /// `types` the user types it uses. [`FINGERPRINT`](Self::FINGERPRINT) is the
    /// hash of this description, by the rules of
    /// [`Schema::type_fingerprint`](crate::schema::Schema::type_fingerprint).
    ///
    /// The default, for hand-written impls, describes the type as opaque: only its
    /// fingerprint is known.
    fn describe(types: &mut TypeRegistry) -> Type {
        let _ = types;
        Type::Opaque(Self::FINGERPRINT)
    }
}

/// A `const` FNV-1a hasher used to compose fingerprints at compile time.
///
/// Every input is length- or tag-prefixed so that `("ab", "c")` and `("a", "bc")` hash
/// differently.
///
/// ```
/// use nodelink::fingerprint::FingerprintHasher;
///
/// const A: u64 = FingerprintHasher::new().str("ab").str("c").finish();
/// const B: u64 = FingerprintHasher::new().str("a").str("bc").finish();
/// assert_ne!(A, B);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FingerprintHasher(u64);

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl FingerprintHasher {
    /// A hasher in its initial state.
    #[must_use]
    pub const fn new() -> Self {
        Self(FNV_OFFSET)
    }

    const fn byte(self, byte: u8) -> Self {
        Self((self.0 ^ byte as u64).wrapping_mul(FNV_PRIME))
    }

    /// Feeds a number (for example a nested type's fingerprint or a length).
    #[must_use]
    pub const fn u64(self, value: u64) -> Self {
        let bytes = value.to_le_bytes();
        let mut hasher = self;
        let mut i = 0;
        while i < bytes.len() {
            hasher = hasher.byte(bytes[i]);
            i += 1;
        }
        hasher
    }

    /// Feeds a string, prefixed with its length.
    #[must_use]
    pub const fn str(self, value: &str) -> Self {
        let bytes = value.as_bytes();
        let mut hasher = self.u64(bytes.len() as u64);
        let mut i = 0;
        while i < bytes.len() {
            hasher = hasher.byte(bytes[i]);
            i += 1;
        }
        hasher
    }

    /// The finished hash.
    #[must_use]
    pub const fn finish(self) -> u64 {
        self.0
    }
}

impl Default for FingerprintHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// The fingerprint of a type that is only a name (a primitive).
const fn named(name: &str) -> u64 {
    FingerprintHasher::new().str(name).finish()
}

macro_rules! primitive {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl Fingerprint for $ty {
            const FINGERPRINT: u64 = named($name);

            fn describe(_: &mut TypeRegistry) -> Type {
                Type::Primitive($name)
            }
        })*
    };
}

// Types that serde encodes identically share a name, so that swapping `String` for
// `Box<str>` is not reported as a protocol change.
primitive! {
    bool => "bool", char => "char", () => "unit",
    u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64", u128 => "u128", usize => "u64",
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64", i128 => "i128", isize => "i64",
    f32 => "f32", f64 => "f64",
    String => "str", str => "str",
}

macro_rules! sequence {
    ($($ty:ident),*) => {
        $(impl<T: Fingerprint> Fingerprint for $ty<T> {
            const FINGERPRINT: u64 = FingerprintHasher::new().str("seq").u64(T::FINGERPRINT).finish();

            fn describe(types: &mut TypeRegistry) -> Type {
                Type::Seq(Box::new(T::describe(types)))
            }
        })*
    };
}

sequence!(Vec, VecDeque, BTreeSet);

impl<T: Fingerprint> Fingerprint for Option<T> {
    const FINGERPRINT: u64 = FingerprintHasher::new()
        .str("option")
        .u64(T::FINGERPRINT)
        .finish();

    fn describe(types: &mut TypeRegistry) -> Type {
        Type::Option(Box::new(T::describe(types)))
    }
}

impl<K: Fingerprint, V: Fingerprint> Fingerprint for BTreeMap<K, V> {
    const FINGERPRINT: u64 = FingerprintHasher::new()
        .str("map")
        .u64(K::FINGERPRINT)
        .u64(V::FINGERPRINT)
        .finish();

    fn describe(types: &mut TypeRegistry) -> Type {
        Type::Map(Box::new(K::describe(types)), Box::new(V::describe(types)))
    }
}

impl<T: Fingerprint, H> Fingerprint for HashSet<T, H> {
    const FINGERPRINT: u64 = <Vec<T>>::FINGERPRINT;

    fn describe(types: &mut TypeRegistry) -> Type {
        <Vec<T>>::describe(types)
    }
}

impl<K: Fingerprint, V: Fingerprint, H> Fingerprint for HashMap<K, V, H> {
    const FINGERPRINT: u64 = <BTreeMap<K, V>>::FINGERPRINT;

    fn describe(types: &mut TypeRegistry) -> Type {
        <BTreeMap<K, V>>::describe(types)
    }
}

impl<T: Fingerprint> Fingerprint for [T] {
    const FINGERPRINT: u64 = <Vec<T>>::FINGERPRINT;

    fn describe(types: &mut TypeRegistry) -> Type {
        <Vec<T>>::describe(types)
    }
}

impl<T: Fingerprint, const N: usize> Fingerprint for [T; N] {
    const FINGERPRINT: u64 = FingerprintHasher::new()
        .str("array")
        .u64(N as u64)
        .u64(T::FINGERPRINT)
        .finish();

    fn describe(types: &mut TypeRegistry) -> Type {
        Type::Array(Box::new(T::describe(types)), N as u64)
    }
}

macro_rules! transparent {
    ($($ty:ident),*) => {
        $(impl<T: Fingerprint + ?Sized> Fingerprint for $ty<T> {
            const FINGERPRINT: u64 = T::FINGERPRINT;

            fn describe(types: &mut TypeRegistry) -> Type {
                T::describe(types)
            }
        })*
    };
}

transparent!(Box, Rc, Arc);

impl<T: Fingerprint + ?Sized> Fingerprint for &T {
    const FINGERPRINT: u64 = T::FINGERPRINT;

    fn describe(types: &mut TypeRegistry) -> Type {
        T::describe(types)
    }
}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: Fingerprint),+> Fingerprint for ($($name,)+) {
            const FINGERPRINT: u64 = FingerprintHasher::new()
                .str("tuple")
                $(.u64($name::FINGERPRINT))+
                .finish();

            fn describe(types: &mut TypeRegistry) -> Type {
                Type::Tuple(vec![$($name::describe(types)),+])
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_encodings_share_a_fingerprint() {
        assert_eq!(String::FINGERPRINT, <Box<str>>::FINGERPRINT);
        assert_eq!(<Vec<u8>>::FINGERPRINT, <[u8]>::FINGERPRINT);
        assert_eq!(
            <HashMap<String, u8>>::FINGERPRINT,
            <BTreeMap<String, u8>>::FINGERPRINT
        );
    }

    #[test]
    fn different_shapes_differ() {
        let all = [
            u8::FINGERPRINT,
            u16::FINGERPRINT,
            f32::FINGERPRINT,
            <Option<f32>>::FINGERPRINT,
            <Vec<f32>>::FINGERPRINT,
            <[f32; 2]>::FINGERPRINT,
            <[f32; 3]>::FINGERPRINT,
            <(f32, f32)>::FINGERPRINT,
            <(f32, f32, f32)>::FINGERPRINT,
            <BTreeMap<String, f32>>::FINGERPRINT,
            <BTreeMap<f32, String>>::FINGERPRINT,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
