//! Which matches a process holds, by code: a code is unique among its live
//! matches, whatever their kind, and names the kind that holds it. A server
//! hosting through a relay takes its codes from the relay instead ([`CodeSource`]),
//! so that players anywhere join a match by its code.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::random::random_u128;

/// The alphabet of match codes: no look-alikes (no 0/O, 1/I/L, U/V), as the
/// relay's, so a code read aloud or typed from a screen is the code meant.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code: 30^6, about 729 million codes.
pub(crate) const CODE_LEN: usize = 6;

/// Where a process's match codes come from when they are not its own to draw: a
/// relay's, handed out ahead of need, since codes are taken synchronously while a
/// connection is admitted.
pub(crate) trait CodeSource: Send + Sync {
    /// The code of the server's default match.
    fn default_code(&self) -> String;

    /// A code for a new match: `Ok(None)` when the source hands out none (the
    /// process draws its own), `Err(reason)` when it has none now (the match is
    /// not made).
    fn take(&self) -> Result<Option<String>, String>;

    /// A match whose code came from [`take`](Self::take) ended.
    fn give_back(&self, code: &str);
}

/// Live matches' codes, each with the name of its kind.
#[derive(Default)]
pub struct Directory {
    codes: Mutex<HashMap<String, String>>,
    source: Option<Arc<dyn CodeSource>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("codes", &lock(&self.codes).len())
            .field("source", &self.source.is_some())
            .finish()
    }
}

impl Directory {
    /// A directory whose codes come from `source`.
    pub(crate) fn with_source(source: Arc<dyn CodeSource>) -> Self {
        Self {
            codes: Mutex::default(),
            source: Some(source),
        }
    }

    /// The code of the default match of `kind`, registered.
    pub(crate) fn register_default(&self, kind: &str) -> String {
        match &self.source {
            Some(source) => {
                let code = source.default_code();
                lock(&self.codes).insert(code.clone(), kind.to_owned());
                code
            }
            None => self.register_own(kind),
        }
    }

    /// A fresh code, registered for a match of `kind`; `Err(reason)` when the
    /// source has none now.
    pub(crate) fn register(&self, kind: &str) -> Result<String, String> {
        let Some(source) = &self.source else {
            return Ok(self.register_own(kind));
        };
        let mut codes = lock(&self.codes);
        loop {
            let Some(code) = source.take()? else {
                drop(codes);
                return Ok(self.register_own(kind));
            };
            // A code of the source's can be a live match's already only if the
            // source handed it out before (a relay that forgot this server's
            // codes): that one goes back, and the next is tried.
            if codes.contains_key(&code) {
                source.give_back(&code);
                continue;
            }
            codes.insert(code.clone(), kind.to_owned());
            return Ok(code);
        }
    }

    /// A code drawn here, registered for a match of `kind`.
    fn register_own(&self, kind: &str) -> String {
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

    /// Forgets an ended match's code, which may then be handed out again (or goes
    /// back to its source).
    pub(crate) fn release(&self, code: &str) {
        let live = lock(&self.codes).remove(code).is_some();
        if let (true, Some(source)) = (live, &self.source) {
            source.give_back(code);
        }
    }
}

/// The map, even if a panic poisoned its lock (it holds no invariant a panic
/// could break half-way: each change is one insert or remove).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn random_code() -> String {
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
        let codes: Vec<String> = (0..1000)
            .map(|_| directory.register("arena").unwrap())
            .collect();
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

    /// A source handing out the codes it was given, then refusing.
    #[derive(Default)]
    struct Handed {
        codes: Mutex<Vec<String>>,
        back: Mutex<Vec<String>>,
        none: bool,
    }

    impl CodeSource for Handed {
        fn default_code(&self) -> String {
            "DEFAUL".to_owned()
        }

        fn take(&self) -> Result<Option<String>, String> {
            if self.none {
                return Ok(None);
            }
            lock(&self.codes).pop().map(Some).ok_or("none left".into())
        }

        fn give_back(&self, code: &str) {
            lock(&self.back).push(code.to_owned());
        }
    }

    #[test]
    fn a_sources_codes_are_taken_and_given_back() {
        let source = Arc::new(Handed::default());
        *lock(&source.codes) = vec!["BBBBBB".into(), "AAAAAA".into(), "AAAAAA".into()];
        let directory = Directory::with_source(source.clone());
        assert_eq!(directory.register_default("lobby"), "DEFAUL");
        assert_eq!(directory.register("arena").as_deref(), Ok("AAAAAA"));
        // Handed out twice: the second goes back, the next is taken.
        assert_eq!(directory.register("arena").as_deref(), Ok("BBBBBB"));
        assert_eq!(*lock(&source.back), ["AAAAAA"]);
        assert_eq!(directory.register("arena"), Err("none left".to_owned()));
        directory.release("BBBBBB");
        directory.release("BBBBBB");
        assert_eq!(*lock(&source.back), ["AAAAAA", "BBBBBB"], "once");
        assert_eq!(directory.kind_of("DEFAUL").as_deref(), Some("lobby"));
    }

    #[test]
    fn a_source_that_hands_out_none_leaves_codes_to_the_process() {
        let source = Arc::new(Handed {
            none: true,
            ..Handed::default()
        });
        let directory = Directory::with_source(source);
        let code = directory.register("arena").expect("a code");
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(directory.kind_of(&code).as_deref(), Some("arena"));
    }
}
