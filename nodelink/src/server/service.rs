//! What a process that is one of a service's (processes sharing a directory:
//! `nodelink::cluster`) tells the service and asks of it. Without a service, a
//! process keeps all of this to itself.

use crate::PlayerId;

/// The service a process belongs to, as its matches see it.
pub trait ServiceLink: Send + Sync + std::fmt::Debug {
    /// A player id no other process of the service hands out; `None` when none is
    /// at hand (the match draws one of its own).
    fn player_id(&self) -> Option<PlayerId>;

    /// A player joined the match `code` (a resumed one too).
    fn joined(&self, player: PlayerId, code: &str);

    /// A player left the match `code`.
    fn left(&self, player: PlayerId, code: &str);
}

/// A message for players of this process from elsewhere in the service, its
/// event already encoded for the native wire by the sender.
#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Remote<'a> {
    /// To every player of the match (or of every match of the kind).
    Broadcast { native: &'a [u8] },
    /// To one player.
    Send { player: PlayerId, native: &'a [u8] },
    /// Closes one player's connection, as `ServerHandle::kick` does.
    Kick { player: PlayerId },
    /// Ends the match, as `ctx.end_match` does (its code was given to another
    /// process while this one could not reach the directory).
    End,
}
