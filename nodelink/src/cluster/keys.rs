//! The directory's keys and channels in Redis, every one under the service's
//! prefix, so several services share one Redis. The layout is the contract
//! between a service's processes and its gateways.

use crate::PlayerId;

/// Names the keys and channels of one service.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(service: &str) -> Self {
        Self {
            prefix: service.to_owned(),
        }
    }

    /// A process's lease: a hash of what gateways need to know about it,
    /// expiring unless renewed.
    pub(crate) fn process(&self, id: &str) -> String {
        format!("{}:proc:{id}", self.prefix)
    }

    /// What [`process`](Self::process) keys begin with (the claim script checks an
    /// owner's lease with it).
    pub(crate) fn process_prefix(&self) -> String {
        format!("{}:proc:", self.prefix)
    }

    /// Every process, scored by when its lease runs out (ms since the epoch).
    pub(crate) fn processes(&self) -> String {
        format!("{}:procs", self.prefix)
    }

    /// The codes of a process's matches, for cleaning up after it.
    pub(crate) fn process_matches(&self, id: &str) -> String {
        format!("{}:proc:{id}:matches", self.prefix)
    }

    /// A match code's owner: a process id.
    pub(crate) fn code(&self, code: &str) -> String {
        format!("{}:code:{code}", self.prefix)
    }

    /// A match as listings show it.
    pub(crate) fn r#match(&self, code: &str) -> String {
        format!("{}:match:{code}", self.prefix)
    }

    /// The listed matches of a kind, by code.
    pub(crate) fn listing(&self, kind: &str) -> String {
        format!("{}:list:{kind}", self.prefix)
    }

    /// Where a player plays: `"<process id> <match code>"`.
    pub(crate) fn player(&self, player: PlayerId) -> String {
        format!("{}:player:{player}", self.prefix)
    }

    /// The counter player-id blocks are drawn from.
    pub(crate) fn id_counter(&self) -> String {
        format!("{}:ids", self.prefix)
    }

    /// The service's secret that scrambles player ids.
    pub(crate) fn id_key(&self) -> String {
        format!("{}:idkey", self.prefix)
    }

    /// Held by the one process cleaning up after dead ones.
    pub(crate) fn janitor(&self) -> String {
        format!("{}:janitor", self.prefix)
    }

    /// Messages to one process.
    pub(crate) fn process_channel(&self, id: &str) -> String {
        format!("{}:to:{id}", self.prefix)
    }

    /// Messages to every process.
    pub(crate) fn everyone_channel(&self) -> String {
        format!("{}:to:all", self.prefix)
    }
}
