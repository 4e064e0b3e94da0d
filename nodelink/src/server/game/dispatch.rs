//! Running handlers: an event through its middleware to its handler, the
//! lifecycle handlers, the work handlers defer, and errors to `on_error`. A
//! handler's panic is caught and reported like its `Err`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::handler::{panic_message, HandlerError, Verdict};
use crate::server::error::ServerError;
use crate::server::game::ctx::{EventCtx, ServerCtx};
use crate::server::game::handlers::{Handlers, PlayerHandler};
use crate::server::game::state::Deferred;
use crate::server::game::Match;
use crate::server::log_budget::LogBudget;
use crate::wire::CloseReason;
use crate::{Events, PlayerId, Protocol};

/// Runs a handler, turning a panic into an error.
pub(super) fn guarded<T>(
    handler: impl FnOnce() -> Result<T, HandlerError>,
) -> Result<T, (Option<HandlerError>, String)> {
    match catch_unwind(AssertUnwindSafe(handler)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err((Some(error), String::new())),
        Err(panic) => Err((None, panic_message(&*panic))),
    }
}

pub(super) fn failure(
    handler: &'static str,
    (error, message): (Option<HandlerError>, String),
) -> ServerError {
    match error {
        Some(source) => ServerError::Handler { handler, source },
        None => ServerError::Panic { handler, message },
    }
}

impl<P: Protocol, G: Send + 'static> Match<P, G> {
    pub(super) fn event(&mut self, id: PlayerId, link: u64, read: u64, mut event: P::ToServer) {
        let Some(player) = self.state.players.get_mut(&id) else {
            return; // left while the event was queued
        };
        if !player.heard_on(link, read) {
            return; // over a connection the player has since left behind
        }
        let name = event.name();
        let index = event.index();

        if let Some(chain) = self.handlers.middleware.get_mut(index) {
            for middleware in chain {
                let mut ctx = EventCtx {
                    ctx: ServerCtx {
                        shared: &mut self.state,
                    },
                    current: id,
                };
                match guarded(|| middleware.call(&mut ctx, &mut event)) {
                    Ok(Verdict::Pass) => {}
                    Ok(Verdict::Reject) => return,
                    Err(failed) => {
                        let error = failure(name, failed);
                        return self.report(Some(id), error);
                    }
                }
            }
        }

        let handler = match self.handlers.events.get_mut(index).and_then(Option::as_mut) {
            Some(handler) => handler,
            None => match self.handlers.all.as_mut() {
                Some(handler) => handler,
                None => return,
            },
        };
        let mut ctx = EventCtx {
            ctx: ServerCtx {
                shared: &mut self.state,
            },
            current: id,
        };
        if let Err(failed) = guarded(|| handler.call(&mut ctx, event)) {
            self.report(Some(id), failure(name, failed));
        }
    }

    pub(super) fn player_handler(
        &mut self,
        id: PlayerId,
        name: &'static str,
        pick: impl FnOnce(&mut Handlers<P, G>) -> Option<&mut PlayerHandler<P, G>>,
    ) {
        let Some(handler) = pick(&mut self.handlers) else {
            return;
        };
        let mut ctx = EventCtx {
            ctx: ServerCtx {
                shared: &mut self.state,
            },
            current: id,
        };
        if let Err(failed) = guarded(|| handler.call(&mut ctx)) {
            self.report(Some(id), failure(name, failed));
        }
    }

    pub(super) fn run_deferred(&mut self) {
        while !self.state.deferred.is_empty() {
            for deferred in std::mem::take(&mut self.state.deferred) {
                match deferred {
                    Deferred::Kick(id) => self.remove(id, Some(CloseReason::Kicked)),
                    Deferred::EndMatch if self.state.record.persistent => {
                        self.report(None, ServerError::DefaultMatchEnded);
                    }
                    Deferred::EndMatch => {
                        self.state.ending.get_or_insert(CloseReason::MatchEnded);
                    }
                    Deferred::Sync { full } => self.sync(full),
                    Deferred::Report { player, error } => self.report(player, error),
                }
            }
        }
    }

    pub(super) fn report(&mut self, player: Option<PlayerId>, error: ServerError) {
        let process = &self.state.record.process;
        process
            .errors
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if matches!(error, ServerError::Panic { .. }) {
            process
                .panics
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let player = player.and_then(|id| self.state.players.get(&id));
        match self.handlers.on_error.as_mut() {
            Some(handler) => {
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| handler.call(&error, player)))
                {
                    tracing::error!("error handler panicked: {}", panic_message(&*panic));
                }
            }
            // Without a handler the log has them, within the process's budget: a
            // client sending garbage must not flood it.
            None => {
                let unlogged = LogBudget::spend_shared(&self.state.record.process.errors_log);
                let Some(unlogged) = unlogged else {
                    return;
                };
                if unlogged > 0 {
                    tracing::warn!("{unlogged} more errors, not logged one by one");
                }
                match player {
                    Some(player) => {
                        tracing::warn!(player = %player.id(), peer = %player.addr, "{error}")
                    }
                    None => tracing::warn!("{error}"),
                }
            }
        }
    }
}
