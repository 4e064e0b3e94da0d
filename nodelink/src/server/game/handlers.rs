//! The handlers a match runs, as registered on its server (or kind), type-erased.

use crate::handler::{HandlerError, HandlerResult, Verdict};
use crate::server::error::ServerError;
use crate::server::game::ctx::{EventCtx, ServerCtx};
use crate::server::game::player::Player;
use crate::{EntityId, Protocol};

pub(crate) type EventHandler<P, G> = Box<
    dyn for<'a> FnMut(&mut EventCtx<'a, P, G>, <P as Protocol>::ToServer) -> HandlerResult
        + Send
        + 'static,
>;
pub(crate) type PlayerHandler<P, G> =
    Box<dyn for<'a> FnMut(&mut EventCtx<'a, P, G>) -> HandlerResult + Send + 'static>;
pub(crate) type ErrorHandler<P> = Box<dyn FnMut(&ServerError, Option<&Player<P>>) + Send + 'static>;
pub(crate) type TickHandler<P, G> = Box<
    dyn for<'a> FnMut(&mut ServerCtx<'a, P, G>, std::time::Duration) -> HandlerResult
        + Send
        + 'static,
>;
pub(crate) type Middleware<P, G> = Box<
    dyn for<'a> FnMut(
            &mut EventCtx<'a, P, G>,
            &mut <P as Protocol>::ToServer,
        ) -> Result<Verdict, HandlerError>
        + Send
        + 'static,
>;

pub(crate) struct Handlers<P: Protocol, G> {
    pub(crate) events: Vec<Option<EventHandler<P, G>>>,
    pub(crate) all: Option<EventHandler<P, G>>,
    /// Per event variant, in registration order.
    pub(crate) middleware: Vec<Vec<Middleware<P, G>>>,
    pub(crate) on_connect: Option<PlayerHandler<P, G>>,
    pub(crate) on_disconnect: Option<PlayerHandler<P, G>>,
    pub(crate) on_pause: Option<PlayerHandler<P, G>>,
    pub(crate) on_resume: Option<PlayerHandler<P, G>>,
    pub(crate) on_tick: Option<TickHandler<P, G>>,
    pub(crate) on_error: Option<ErrorHandler<P>>,
}

/// Decides whether a player sees an entity; see `Server::entity_visibility`.
pub(crate) type EntityVisibility<P> =
    Box<dyn Fn(&Player<P>, EntityId, &<P as Protocol>::Entity) -> bool + Send>;
