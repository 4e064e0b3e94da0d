//! `EntityId`: the server-wide number of a world entity.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of an entity the server owns (see [`Protocol::Entity`](crate::Protocol::Entity)):
/// assigned at spawn, the same for every client, never reused while the entity
/// lives. An unsigned 32-bit integer on both wires, shown in decimal.
///
/// ```
/// let id = nodelink::EntityId::from_raw(42);
/// assert_eq!(id.to_string(), "42");
/// assert_eq!(id.raw(), 42);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct EntityId(u32);

impl EntityId {
    /// The id with this number.
    #[must_use]
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// The id's number, as on the wire.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl crate::Fingerprint for EntityId {
    const FINGERPRINT: u64 = crate::fingerprint::FingerprintHasher::new()
        .str("entity_id")
        .finish();

    fn describe(_: &mut crate::schema::TypeRegistry) -> crate::schema::Type {
        crate::schema::Type::Primitive("entity_id")
    }
}

impl crate::sync::Whole for EntityId {}
