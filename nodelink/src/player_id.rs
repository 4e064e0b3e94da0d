//! Player identity.

use std::fmt;
use std::str::FromStr;

/// A player's id: random, assigned by the server on connect, unique among the
/// players connected at the same time.
///
/// Displayed as 8 lowercase hex digits (the form Python nodelink uses), parsed back
/// from the same form. Serde writes it as that string in human-readable formats
/// (JSON: the ids a JSON client sees in events match the keys of its state syncs)
/// and as the number in binary ones (MessagePack: 5 bytes at most).
///
/// ```
/// use nodelink::PlayerId;
///
/// let id = PlayerId::from_raw(0x00c0_ffee);
/// assert_eq!(id.to_string(), "00c0ffee");
/// assert_eq!("00c0ffee".parse::<PlayerId>(), Ok(id));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlayerId(u32);

impl PlayerId {
    /// The id with this numeric value.
    #[must_use]
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// The numeric value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }
}

impl fmt::Display for PlayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A string that is not an 8-digit hex player id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a player id (expected 8 hex digits)")]
pub struct ParsePlayerIdError(String);

impl FromStr for PlayerId {
    type Err = ParsePlayerIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParsePlayerIdError(s.to_owned()));
        }
        u32::from_str_radix(s, 16)
            .map(Self)
            .map_err(|_| ParsePlayerIdError(s.to_owned()))
    }
}

impl serde::Serialize for PlayerId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_u32(self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for PlayerId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            u32::deserialize(deserializer).map(Self)
        }
    }
}

impl crate::Fingerprint for PlayerId {
    const FINGERPRINT: u64 = crate::fingerprint::FingerprintHasher::new()
        .str("player_id")
        .finish();

    fn describe(_: &mut crate::schema::TypeRegistry) -> crate::schema::Type {
        crate::schema::Type::Primitive("player_id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_what_display_never_produces() {
        for bad in ["", "1234567", "123456789", "0000000g", "+0000001"] {
            assert!(bad.parse::<PlayerId>().is_err(), "{bad}");
        }
    }
}
