//! Which matches a process holds, by code: a code is unique among its live
//! matches, whatever their kind, and names the kind that holds it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::random::random_u128;

/// The alphabet of match codes: no look-alikes (no 0/O, 1/I/L, U/V), as the
/// relay's, so a code read aloud or typed from a screen is the code meant.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code: 30^6, about 729 million codes.
pub(crate) const CODE_LEN: usize = 6;

/// Live matches' codes, each with the name of its kind.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    codes: Mutex<HashMap<String, String>>,
}

impl Directory {
    /// A fresh code, registered for a match of `kind`.
    pub(crate) fn register(&self, kind: &str) -> String {
        let mut codes = lock(&self.codes);
        loop {
            let code = random_code();
            if !codes.contains_key(&code) {
                codes.insert(code.clone(), kind.to_owned());
                return code;
            }
        }
    }

    /// The kind of the live match with this code.
    pub(crate) fn kind_of(&self, code: &str) -> Option<String> {
        lock(&self.codes).get(code).cloned()
    }

    /// Forgets an ended match's code, which may then be handed out again.
    pub(crate) fn release(&self, code: &str) {
        lock(&self.codes).remove(code);
    }
}

/// The map, even if a panic poisoned its lock (it holds no invariant a panic
/// could break half-way: each change is one insert or remove).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random_code() -> String {
    let mut bits = random_u128();
    (0..CODE_LEN)
        .map(|_| {
            let digit = (bits % ALPHABET.len() as u128) as usize;
            bits /= ALPHABET.len() as u128;
            char::from(ALPHABET[digit])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_of_the_alphabet() {
        let directory = Directory::default();
        let codes: Vec<String> = (0..1000).map(|_| directory.register("arena")).collect();
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 1000);
        assert!(codes
            .iter()
            .all(|code| code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))));
        assert_eq!(directory.kind_of(&codes[0]).as_deref(), Some("arena"));
        directory.release(&codes[0]);
        assert_eq!(directory.kind_of(&codes[0]), None);
    }
}
