//! The native host link, for nodelink's own servers: a JSON control link on `/link`
//! and one data connection per accepted player on `/link/accept/CID`.
//!
//! A player's upgrade request is held, not answered, while its host decides: the
//! host sees the request (target, every header, the peer's address) as a direct
//! connection's would be seen, and either refuses it (the relay answers with the
//! host's status and reason) or opens a data connection for it (the relay answers
//! 101, echoing the host's subprotocol, and splices the two WebSockets: every
//! message passes verbatim, binary as binary). One TCP connection per player keeps
//! each player's backpressure its own.
//!
//! A host whose control link drops keeps its game for the grace period: its
//! spliced players keep playing, and reconnecting with its token reclaims the
//! code. After the grace period the code is released and its players are closed
//! with "host gone".

mod control;
mod game;
mod join;
mod splice;

use std::net::SocketAddr;

use crate::directory::{too_many_failed_joins, Shared};
use crate::http::Refusal;

pub(crate) use control::control;
#[cfg(test)]
pub(crate) use control::refusal_from;
pub(crate) use game::NativeGame;
pub(crate) use join::join;
pub(crate) use splice::accept;

/// What a wrong token is answered: `refusal`, counted as a failed join, or 429
/// when the address is past its failed joins.
///
/// Unlike a game code, a token is checked before the failed-join limit, so a valid
/// one always passes: a host is never locked out of its own game by its household's
/// mistyped codes. Its 128 random bits need no throttling to stay unguessable;
/// wrong ones are counted all the same.
fn wrong_token(shared: &Shared, peer: SocketAddr, refusal: Refusal) -> Refusal {
    if !shared.join_allowed(peer.ip()) {
        return too_many_failed_joins();
    }
    shared.join_failed(peer.ip());
    refusal
}
