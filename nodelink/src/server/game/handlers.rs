//! The handlers a match runs, as registered on its kind: boxed, and cloned for each
//! match of the kind, so that every match has its own (a handler's captures are
//! per match; what matches share, they share through an `Arc`).

use std::time::Duration;

use crate::handler::{BoxedHandler, BoxedMiddleware, HandlerResult};
use crate::server::error::ServerError;
use crate::server::game::ctx::{EventCtx, ServerCtx};
use crate::server::game::player::Player;
use crate::server::kind::MatchKind;
use crate::{EntityId, PlayerId, Protocol};

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

/// What a visibility rule decides from: the player asking, the entity, and the
/// match around them. See [`MatchKind::entity_visibility_with`](crate::server::MatchKind::entity_visibility_with).
#[non_exhaustive]
pub struct EntitySight<'a, P: Protocol> {
    /// The player whose client would see the entity.
    pub player: &'a Player<P>,
    /// The entity's id.
    pub id: EntityId,
    /// The entity's state.
    pub entity: &'a P::Entity,
    /// The room it was spawned in (`spawn_in`), or `None`.
    pub room: Option<&'a str>,
    /// The match's shared server state.
    pub server_state: &'a P::ServerState,
}

impl<P: Protocol> std::fmt::Debug for EntitySight<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntitySight")
            .field("player", &self.player.id())
            .field("id", &self.id)
            .field("room", &self.room)
            .finish_non_exhaustive()
    }
}

/// Decides whether a player sees an entity; see `Server::entity_visibility`.
pub(crate) trait VisibilityFn<P: Protocol>: Send + 'static {
    fn call(&self, sight: &EntitySight<'_, P>) -> bool;
    fn clone_box(&self) -> Box<dyn VisibilityFn<P>>;
}

impl<P: Protocol, F> VisibilityFn<P> for F
where
    F: Fn(&EntitySight<'_, P>) -> bool + Clone + Send + 'static,
{
    fn call(&self, sight: &EntitySight<'_, P>) -> bool {
        self(sight)
    }

    fn clone_box(&self) -> Box<dyn VisibilityFn<P>> {
        Box::new(self.clone())
    }
}

/// The entity visibility hook, boxed.
pub(crate) type EntityVisibility<P> = Box<dyn VisibilityFn<P>>;

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
    pub(crate) entity_visibility: Option<EntityVisibility<P>>,
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
            entity_visibility: None,
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
            entity_visibility: self.entity_visibility.as_ref().map(|h| h.clone_box()),
            id_generator: self.id_generator.as_ref().map(|h| h.clone_box()),
        }
    }
}
