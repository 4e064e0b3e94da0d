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

/// Declares a boxed, clonable handler type for one signature, and the function
/// that boxes a closure of that signature (naming the signature there lets the
/// compiler infer a closure's argument types).
macro_rules! clonable {
    (
        $(#[$doc:meta])*
        $trait:ident<$($param:ident),*>, $boxed:ident, $make:ident,
        for<'a> $recv:ty => fn($($arg:ident: $ty:ty),*) -> $ret:ty
    ) => {
        $(#[$doc])*
        pub(crate) trait $trait<$($param),*>: Send + 'static {
            fn call(self: $recv, $($arg: $ty),*) -> $ret;
            fn clone_box(&self) -> Box<dyn $trait<$($param),*>>;
        }

        impl<$($param,)* F> $trait<$($param),*> for F
        where
            $($param: 'static,)*
            F: for<'a> FnMut($($ty),*) -> $ret + Clone + Send + 'static,
        {
            fn call(self: $recv, $($arg: $ty),*) -> $ret {
                self($($arg),*)
            }

            fn clone_box(&self) -> Box<dyn $trait<$($param),*>> {
                Box::new(self.clone())
            }
        }

        pub(crate) type $boxed<$($param),*> = Box<dyn $trait<$($param),*>>;

        pub(crate) fn $make<$($param: 'static,)* F>(f: F) -> $boxed<$($param),*>
        where
            F: for<'a> FnMut($($ty),*) -> $ret + Clone + Send + 'static,
        {
            Box::new(f)
        }
    };
}

clonable! {
    /// A handler of a player's life (`on_connect`, `on_join`, `on_disconnect`, …).
    PlayerFn<P, G>, PlayerHandler, player_handler,
    for<'a> &mut Self => fn(ctx: &mut EventCtx<'a, P, G>) -> HandlerResult
}

clonable! {
    /// `on_tick`.
    TickFn<P, G>, TickHandler, tick_handler,
    for<'a> &mut Self => fn(ctx: &mut ServerCtx<'a, P, G>, dt: Duration) -> HandlerResult
}

clonable! {
    /// `on_error`.
    ErrorFn<P>, ErrorHandler, error_handler,
    for<'a> &mut Self => fn(error: &'a ServerError, player: Option<&'a Player<P>>) -> ()
}

clonable! {
    /// A player id generator.
    IdFn<>, IdGenerator, id_generator,
    for<'a> &mut Self => fn() -> PlayerId
}

/// Decides whether a player sees an entity; see `Server::entity_visibility`.
pub(crate) trait VisibilityFn<P: Protocol>: Send + 'static {
    fn call(&self, player: &Player<P>, id: EntityId, entity: &P::Entity) -> bool;
    fn clone_box(&self) -> Box<dyn VisibilityFn<P>>;
}

impl<P: Protocol, F> VisibilityFn<P> for F
where
    F: Fn(&Player<P>, EntityId, &P::Entity) -> bool + Clone + Send + 'static,
{
    fn call(&self, player: &Player<P>, id: EntityId, entity: &P::Entity) -> bool {
        self(player, id, entity)
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

impl<P: Protocol, G: 'static> Clone for Handlers<P, G> {
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
