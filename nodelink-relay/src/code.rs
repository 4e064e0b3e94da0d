//! Game codes: short, unguessable, easy to read aloud.
//!
//! A code is [`RelayConfig::code_len`](crate::RelayConfig::code_len) characters (6
//! by default) drawn uniformly and independently from the OS-keyed random source
//! out of 30 characters: the digits 2–9 and the letters without `I`, `L`, `O` and
//! `U`. So no two characters look alike (`0`/`O`, `1`/`I`/`L`), and, as in
//! Crockford's base 32, leaving out `U` keeps codes from spelling the most common
//! rude words. Codes are case-insensitive: a player may type
//! `k7mq4p` for `K7MQ4P` (Python nodelink's client upper-cases them anyway).
//!
//! Each character carries log2(30) ≈ 4.91 bits; six carry 29.4 bits (729 million
//! codes). Guessing is throttled per address by the failed-join rate limit; see
//! the crate docs for why that makes six enough.

use std::fmt;

use crate::random::random_below;

/// The characters of a code, in no particular order.
pub(crate) const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The shortest and longest code a relay may be configured to hand out.
pub(crate) const LEN_RANGE: std::ops::RangeInclusive<usize> = 4..=16;

/// A game's code: upper-case, of the configured length, from [`ALPHABET`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct GameCode(String);

impl GameCode {
    /// A fresh random code of `len` characters.
    pub(crate) fn random(len: usize) -> Self {
        let bound = ALPHABET.len() as u64;
        let code = (0..len)
            .map(|_| {
                let index = usize::try_from(random_below(bound)).unwrap_or(0);
                char::from(ALPHABET[index])
            })
            .collect();
        Self(code)
    }

    /// The code `text` names, in either case; `None` if it cannot be one of ours.
    pub(crate) fn parse(text: &str, len: usize) -> Option<Self> {
        let code = text.to_ascii_uppercase();
        let valid = code.len() == len && code.bytes().all(|c| ALPHABET.contains(&c));
        valid.then_some(Self(code))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GameCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_has_no_look_alikes_and_no_repeats() {
        for banned in b"01ILOU" {
            assert!(!ALPHABET.contains(banned), "{}", char::from(*banned));
        }
        let mut sorted = ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALPHABET.len());
        assert!(ALPHABET
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    }

    #[test]
    fn the_documented_entropy_is_the_alphabets() {
        let bits = (ALPHABET.len() as f64).log2();
        assert!((bits - 4.91).abs() < 0.005, "{bits}");
        assert!((6.0 * bits - 29.4).abs() < 0.05);
        assert_eq!((ALPHABET.len() as u64).pow(6), 729_000_000);
    }

    #[test]
    fn random_codes_have_the_length_and_alphabet() {
        for len in [4, 6, 9] {
            let code = GameCode::random(len);
            assert_eq!(code.as_str().len(), len);
            assert_eq!(GameCode::parse(code.as_str(), len), Some(code));
        }
    }

    #[test]
    fn parsing_is_case_insensitive_and_strict() {
        let code = GameCode::parse("k7mq4p", 6).expect("a code");
        assert_eq!(code.to_string(), "K7MQ4P");
        assert_eq!(GameCode::parse("K7MQ4P", 6), Some(code));
        assert_eq!(GameCode::parse("K7MQ4", 6), None, "too short");
        assert_eq!(GameCode::parse("K7MQ4PP", 6), None, "too long");
        assert_eq!(
            GameCode::parse("K7MQ0P", 6),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(GameCode::parse("K7MQ%P", 6), None);
        assert_eq!(GameCode::parse("K7MQ4é", 6), None);
    }
}
