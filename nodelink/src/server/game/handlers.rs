//! The handlers a match runs, as registered on its kind: boxed, and cloned for each
//! match of the kind, so that every match has its own (a handler's captures are
//! per match; what matches share, they share through an `Arc`).

use std::time::Duration;

use crate::handler::{BoxedHandler, BoxedMiddleware, HandlerResult};
use crate::server::error::ServerError;
use crate::server::game::ctx::{EventCtx, ServerCtx};
use crate::server::game::player::Player;
use crate::server::game::visibility::Rules;
use crate::server::kind::MatchKind;
use crate::{PlayerId, Protocol};

/// An event handler, as the kind's [`Route`](crate::Route) keeps it.
pub(crate) type EventHandler<P, G> = BoxedHandler<MatchKind<P, G>, <P as Protocol>::ToServer>;
/// A middleware, as the kind's [`Route`](crate::Route) keeps it.
pub(crate) type Middleware<P, G> = BoxedMiddleware<MatchKind<P, G>, <P as Protocol>::ToServer>;

/// A handler of a player's life (`on_join`, `on_connect`, `on_disconnect`, …).
pub(crate) trait PlayerFn<P: Protocol, G>: Send + 'static {
    fn call(&mut self, ctx: &mut EventCtx<'_, P, G>) -> HandlerResult;
    fn clone_box(&self) -> PlayerHandler<P, G>;
}

impl<P: Protocol, G: 'static, F> PlayerFn<P, G> for F
where
    F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> HandlerResult + Clone + Send + 'static,
{
    fn call(&mut self, ctx: &mut EventCtx<'_, P, G>) -> HandlerResult {
        self(ctx)
    }

    fn clone_box(&self) -> PlayerHandler<P, G> {
        Box::new(self.clone())
    }
}

pub(crate) type PlayerHandler<P, G> = Box<dyn PlayerFn<P, G>>;

/// Boxes a player handler (naming its signature lets a closure's argument types
/// be inferred).
pub(crate) fn player_handler<P: Protocol, G: 'static, F>(handler: F) -> PlayerHandler<P, G>
where
    F: for<'a> FnMut(&mut EventCtx<'a, P, G>) -> HandlerResult + Clone + Send + 'static,
{
    Box::new(handler)
}

/// `on_tick`.
pub(crate) trait TickFn<P: Protocol, G>: Send + 'static {
    fn call(&mut self, ctx: &mut ServerCtx<'_, P, G>, dt: Duration) -> HandlerResult;
    fn clone_box(&self) -> TickHandler<P, G>;
}

impl<P: Protocol, G: 'static, F> TickFn<P, G> for F
where
    F: for<'a> FnMut(&mut ServerCtx<'a, P, G>, Duration) -> HandlerResult + Clone + Send + 'static,
{
    fn call(&mut self, ctx: &mut ServerCtx<'_, P, G>, dt: Duration) -> HandlerResult {
        self(ctx, dt)
    }

    fn clone_box(&self) -> TickHandler<P, G> {
        Box::new(self.clone())
    }
}

pub(crate) type TickHandler<P, G> = Box<dyn TickFn<P, G>>;

/// Boxes `on_tick`'s handler; see [`player_handler`].
pub(crate) fn tick_handler<P: Protocol, G: 'static, F>(handler: F) -> TickHandler<P, G>
where
    F: for<'a> FnMut(&mut ServerCtx<'a, P, G>, Duration) -> HandlerResult + Clone + Send + 'static,
{
    Box::new(handler)
}

/// `on_error`.
pub(crate) trait ErrorFn<P: Protocol>: Send + 'static {
    fn call(&mut self, error: &ServerError, player: Option<&Player<P>>);
    fn clone_box(&self) -> ErrorHandler<P>;
}

impl<P: Protocol, F> ErrorFn<P> for F
where
    F: FnMut(&ServerError, Option<&Player<P>>) + Clone + Send + 'static,
{
    fn call(&mut self, error: &ServerError, player: Option<&Player<P>>) {
        self(error, player);
    }

    fn clone_box(&self) -> ErrorHandler<P> {
        Box::new(self.clone())
    }
}

pub(crate) type ErrorHandler<P> = Box<dyn ErrorFn<P>>;

/// Boxes `on_error`'s handler; see [`player_handler`].
pub(crate) fn error_handler<P: Protocol, F>(handler: F) -> ErrorHandler<P>
where
    F: FnMut(&ServerError, Option<&Player<P>>) + Clone + Send + 'static,
{
    Box::new(handler)
}

/// A player id generator.
pub(crate) trait IdFn: Send + 'static {
    fn call(&mut self) -> PlayerId;
    fn clone_box(&self) -> IdGenerator;
}

impl<F> IdFn for F
where
    F: FnMut() -> PlayerId + Clone + Send + 'static,
{
    fn call(&mut self) -> PlayerId {
        self()
    }

    fn clone_box(&self) -> IdGenerator {
        Box::new(self.clone())
    }
}

pub(crate) type IdGenerator = Box<dyn IdFn>;

/// Boxes an id generator.
pub(crate) fn id_generator<F>(generator: F) -> IdGenerator
where
    F: FnMut() -> PlayerId + Clone + Send + 'static,
{
    Box::new(generator)
}

/// Every handler of a kind; each match of the kind runs a clone.
pub(crate) struct Handlers<P: Protocol, G> {
    pub(crate) events: Vec<Option<EventHandler<P, G>>>,
    pub(crate) all: Option<EventHandler<P, G>>,
    /// Per event variant, in registration order.
    pub(crate) middleware: Vec<Vec<Middleware<P, G>>>,
    pub(crate) on_join: Option<PlayerHandler<P, G>>,
    pub(crate) on_connect: Option<PlayerHandler<P, G>>,
    pub(crate) on_disconnect: Option<PlayerHandler<P, G>>,
    pub(crate) on_pause: Option<PlayerHandler<P, G>>,
    pub(crate) on_resume: Option<PlayerHandler<P, G>>,
    pub(crate) on_tick: Option<TickHandler<P, G>>,
    pub(crate) on_error: Option<ErrorHandler<P>>,
    /// Who sees what, per recipient.
    pub(crate) rules: Rules<P>,
    pub(crate) id_generator: Option<IdGenerator>,
}

impl<P: Protocol, G> Handlers<P, G> {
    pub(crate) fn new() -> Self {
        use crate::Events;
        let variants = P::ToServer::NAMES.len();
        Self {
            events: (0..variants).map(|_| None).collect(),
            all: None,
            middleware: (0..variants).map(|_| Vec::new()).collect(),
            on_join: None,
            on_connect: None,
            on_disconnect: None,
            on_pause: None,
            on_resume: None,
            on_tick: None,
            on_error: None,
            rules: Rules::default(),
            id_generator: None,
        }
    }
}

impl<P: Protocol, G: Send + 'static> Clone for Handlers<P, G> {
    fn clone(&self) -> Self {
        Self {
            events: self.events.clone(),
            all: self.all.clone(),
            middleware: self.middleware.clone(),
            on_join: self.on_join.as_ref().map(|h| h.clone_box()),
            on_connect: self.on_connect.as_ref().map(|h| h.clone_box()),
            on_disconnect: self.on_disconnect.as_ref().map(|h| h.clone_box()),
            on_pause: self.on_pause.as_ref().map(|h| h.clone_box()),
            on_resume: self.on_resume.as_ref().map(|h| h.clone_box()),
            on_tick: self.on_tick.as_ref().map(|h| h.clone_box()),
            on_error: self.on_error.as_ref().map(|h| h.clone_box()),
            rules: self.rules.clone(),
            id_generator: self.id_generator.as_ref().map(|h| h.clone_box()),
        }
    }
}
