//! A native host's game: its control link, the players held for its answer, its
//! splices, and how a lost link becomes a grace period and then the game's end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::close::CloseReason;
use crate::code::GameCode;
use crate::directory::{Seat, Seats, Shared};
use crate::http::Refusal;
use crate::messages::ToHost;
use crate::outbox::{Outbox, Outgoing};
use crate::random::random_token;
use crate::{GameInfo, HostKind};

/// What a held player hears from its host.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Answer the upgrade with this refusal.
    Refuse(Refusal),
    /// Complete the upgrade and splice with this data connection.
    Accept(Accept),
}

/// A data connection, ready for its player.
#[derive(Debug)]
pub(crate) struct Accept {
    /// The data connection's queue.
    pub(super) host: Outbox,
    /// The subprotocol to echo in the player's 101.
    pub(super) subprotocol: Option<String>,
    /// Where the player's queue goes once its upgrade is done; dropped if it fails.
    pub(super) reply: oneshot::Sender<Outbox>,
}

/// A native host's game.
#[derive(Debug)]
pub(crate) struct NativeGame {
    pub(crate) code: GameCode,
    /// Reclaims the code and opens data connections: the host's secret.
    pub(crate) token: String,
    seats: Seats,
    state: Mutex<NativeState>,
}

#[derive(Debug)]
struct NativeState {
    control: Option<Control>,
    /// Control links attached so far; each link is known by its number, so a
    /// replaced link's end changes nothing.
    links: u64,
    held: HashMap<String, oneshot::Sender<Decision>>,
    /// Each spliced player's queue and its data connection's queue.
    spliced: HashMap<String, (Outbox, Outbox)>,
    ended: bool,
}

#[derive(Debug)]
struct Control {
    link: u64,
    outbox: Outbox,
}

pub(super) const HOST_RECONNECTING: &str = "the game's host is reconnecting: try again shortly";
pub(super) const HOST_GONE: &str = "the game's host is gone";

impl NativeGame {
    /// A game whose first control link's queue is `control`.
    pub(crate) fn new(code: GameCode, control: Outbox) -> Self {
        Self {
            code,
            token: random_token(),
            seats: Seats::default(),
            state: Mutex::new(NativeState {
                control: Some(Control {
                    link: 1,
                    outbox: control,
                }),
                links: 1,
                held: HashMap::new(),
                spliced: HashMap::new(),
                ended: false,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, NativeState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A seat for a new player, unless the game holds `max`.
    pub(crate) fn seat(&self, max: usize) -> Option<Seat> {
        self.seats.take(max)
    }

    pub(crate) fn info(&self) -> GameInfo {
        let state = self.state();
        GameInfo {
            code: self.code.to_string(),
            host: HostKind::Native,
            host_connected: state.control.is_some(),
            players: state.spliced.len(),
            waiting: state.held.len(),
            match_codes: Vec::new(),
        }
    }

    /// Attaches a reconnected control link; the link it replaces, if any, is
    /// closed. `None` once the game has ended.
    pub(super) fn attach(&self, outbox: Outbox) -> Option<u64> {
        let mut state = self.state();
        if state.ended {
            return None;
        }
        state.links += 1;
        let link = state.links;
        let replaced = state.control.replace(Control { link, outbox });
        drop(state);
        if let Some(replaced) = replaced {
            replaced.outbox.close(CloseReason::LinkReplaced);
        }
        Some(link)
    }

    /// The control link `link` ended: held players are refused, and the game ends
    /// now (`for_good`) or after the grace period unless a new link reclaims it.
    pub(super) fn detach(self: &Arc<Self>, link: u64, for_good: bool, shared: &Arc<Shared>) {
        let held = {
            let mut state = self.state();
            if state.control.as_ref().map(|control| control.link) != Some(link) {
                return; // replaced: the game goes on with the new link
            }
            state.control = None;
            std::mem::take(&mut state.held)
        };
        let refusal = Refusal::new(503, HOST_RECONNECTING);
        for (_, decide) in held {
            let _ = decide.send(Decision::Refuse(refusal.clone()));
        }
        if for_good || shared.is_stopping() {
            return self.end(shared);
        }
        tracing::info!(code = %self.code, "host link lost: grace period begins");
        let game = self.clone();
        let shared = shared.clone();
        let mut stopping = shared.stopping();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(shared.config.host_grace) => {
                    let reclaimed = game.state().links != link;
                    if !reclaimed {
                        tracing::info!(code = %game.code, "grace period over: game over");
                        game.end(&shared);
                    }
                }
                // Every connection closes itself on shutdown.
                _ = stopping.wait_for(|stopping| *stopping) => {}
            }
        });
    }

    /// Ends the game: the code is released, held players are refused and spliced
    /// ones closed with "host gone" (both ends).
    fn end(&self, shared: &Shared) {
        shared.remove(&self.code);
        let (held, spliced, control) = {
            let mut state = self.state();
            state.ended = true;
            (
                std::mem::take(&mut state.held),
                std::mem::take(&mut state.spliced),
                state.control.take(),
            )
        };
        let reason = if shared.is_stopping() {
            CloseReason::RelayShutdown
        } else {
            CloseReason::HostGone
        };
        let refusal = Refusal::new(503, HOST_GONE);
        for (_, decide) in held {
            let _ = decide.send(Decision::Refuse(refusal.clone()));
        }
        for (player, host) in spliced.values() {
            player.close(reason);
            host.close(reason);
        }
        if let Some(control) = control {
            control.outbox.close(reason);
        }
    }

    /// Holds a player's join until the host answers; the control link's queue, to
    /// tell the host.
    pub(super) fn hold(
        &self,
        cid: &str,
        decide: oneshot::Sender<Decision>,
        max_pending: usize,
    ) -> Result<Outbox, Refusal> {
        let mut state = self.state();
        if state.ended {
            return Err(Refusal::new(503, HOST_GONE));
        }
        let Some(control) = &state.control else {
            return Err(Refusal::new(503, HOST_RECONNECTING));
        };
        let control = control.outbox.clone();
        if state.held.len() >= max_pending {
            return Err(Refusal::new(503, "too many players waiting to join"));
        }
        state.held.insert(cid.to_owned(), decide);
        Ok(control)
    }

    /// Stops holding a player that left or timed out; `true` if it was still held,
    /// in which case the host is told it is gone.
    pub(super) fn unhold(&self, cid: &str) -> bool {
        let control = {
            let mut state = self.state();
            if state.held.remove(cid).is_none() {
                return false;
            }
            state.control.as_ref().map(|control| control.outbox.clone())
        };
        if let Some(control) = control {
            let gone = ToHost::Gone {
                cid: cid.to_owned(),
            };
            // Lost only if the link is not reading, which closes it soon anyway;
            // the host's late accept would then be answered 404.
            let _ = control.try_push(Outgoing::Text(gone.to_json().into()));
        }
        true
    }

    /// Takes a held player out for the host's answer.
    pub(super) fn take_held(&self, cid: &str) -> Option<oneshot::Sender<Decision>> {
        self.state().held.remove(cid)
    }

    /// Registers a spliced pair, so the game's end closes it; `false` once ended.
    pub(super) fn splice(&self, cid: &str, player: Outbox, host: Outbox) -> bool {
        let mut state = self.state();
        if !state.ended {
            state.spliced.insert(cid.to_owned(), (player, host));
        }
        !state.ended
    }

    pub(super) fn unsplice(&self, cid: &str) {
        self.state().spliced.remove(cid);
    }
}
