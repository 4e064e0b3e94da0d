//! Player ids (random, unguessable) and net ids (small, reused).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hasher};

use crate::wire::NetId;
use crate::PlayerId;

use std::sync::Arc;

use crate::server::game::handlers::IdGenerator;
use crate::server::service::ServiceLink;

/// How many ids a custom generator may offer that are already taken before the
/// default generator takes over for that player.
const CUSTOM_TRIES: usize = 64;

/// Hands out player ids: by default from a keyed hash (SipHash with a random
/// per-process key) of a counter, unpredictable without the key and with no
/// random-number crate; or from the user's generator. An id already in use is never
/// handed out: the draw is retried.
pub(crate) struct PlayerIds {
    key: std::collections::hash_map::RandomState,
    counter: u64,
    custom: Option<IdGenerator>,
    /// The service's ids, unique across its processes, when it has some.
    service: Option<Arc<dyn ServiceLink>>,
}

impl std::fmt::Debug for PlayerIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayerIds")
            .field("custom", &self.custom.is_some())
            .finish_non_exhaustive()
    }
}

impl PlayerIds {
    pub(crate) fn new(custom: Option<IdGenerator>, service: Option<Arc<dyn ServiceLink>>) -> Self {
        Self {
            key: std::collections::hash_map::RandomState::new(),
            counter: 0,
            custom,
            service,
        }
    }

    fn random(&mut self) -> PlayerId {
        self.counter += 1;
        let mut hasher = self.key.build_hasher();
        hasher.write_u64(self.counter);
        PlayerId::from_raw(hasher.finish() as u32)
    }

    /// The next id for which `taken` is false.
    pub(crate) fn next(&mut self, taken: impl Fn(PlayerId) -> bool) -> PlayerId {
        if let Some(custom) = self.custom.as_mut() {
            for _ in 0..CUSTOM_TRIES {
                let id = custom.call();
                if !taken(id) {
                    return id;
                }
            }
            tracing::warn!("the player id generator offered {CUSTOM_TRIES} ids in use in a row; using a random id");
        }
        if let Some(service) = &self.service {
            for _ in 0..CUSTOM_TRIES {
                match service.player_id() {
                    Some(id) if !taken(id) => return id,
                    Some(_) => {}
                    None => break,
                }
            }
        }
        loop {
            let id = self.random();
            if !taken(id) {
                return id;
            }
        }
    }
}

/// Hands out the smallest free net id, so ids stay small (one byte below 128
/// players) however many players have come and gone.
#[derive(Debug, Default)]
pub(crate) struct NetIds {
    next: u32,
    free: BinaryHeap<Reverse<u32>>,
}

impl NetIds {
    pub(crate) fn allocate(&mut self) -> NetId {
        if let Some(Reverse(id)) = self.free.pop() {
            return NetId(id);
        }
        self.next += 1;
        NetId(self.next - 1)
    }

    pub(crate) fn release(&mut self, id: NetId) {
        self.free.push(Reverse(id.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_ids_reuse_the_smallest_free() {
        let mut ids = NetIds::default();
        let [a, b, c] = [ids.allocate(), ids.allocate(), ids.allocate()];
        assert_eq!([a, b, c], [NetId(0), NetId(1), NetId(2)]);
        ids.release(c);
        ids.release(a);
        assert_eq!(ids.allocate(), NetId(0));
        assert_eq!(ids.allocate(), NetId(2));
        assert_eq!(ids.allocate(), NetId(3));
    }

    #[test]
    fn player_ids_skip_taken_ones() {
        let mut ids = PlayerIds::new(None, None);
        let first = ids.next(|_| false);
        let mut seen = vec![first];
        let second = ids.next(|id| seen.contains(&id));
        assert_ne!(first, second);
        seen.push(second);
    }

    #[test]
    fn a_custom_generator_is_retried_on_clashes_and_never_loops_forever() {
        let mut sequence = [7, 7, 8].into_iter().cycle();
        let mut ids = PlayerIds::new(
            Some(Box::new(move || {
                PlayerId::from_raw(sequence.next().unwrap_or(0))
            })),
            None,
        );
        let first = ids.next(|_| false);
        assert_eq!(first, PlayerId::from_raw(7));
        assert_eq!(ids.next(|id| id == first), PlayerId::from_raw(8));

        let mut stuck = PlayerIds::new(Some(Box::new(|| PlayerId::from_raw(1))), None);
        let id = stuck.next(|id| id == PlayerId::from_raw(1));
        assert_ne!(id, PlayerId::from_raw(1));
    }
}
