//! Typed handlers: how `#[nodelink::events]` routes each variant to user code.

use std::any::Any;

/// What a handler can fail with: any error type, boxed.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What handlers return. Handlers may also return `()`; see [`IntoHandlerResult`].
pub type HandlerResult = Result<(), HandlerError>;

/// A handler's return value: `()` for handlers that cannot fail, or a `Result`
/// whose error converts into [`HandlerError`] (so `?` works on any error type).
pub trait IntoHandlerResult {
    /// The value as a [`HandlerResult`].
    fn into_handler_result(self) -> HandlerResult;
}

impl IntoHandlerResult for () {
    fn into_handler_result(self) -> HandlerResult {
        Ok(())
    }
}

impl<E: Into<HandlerError>> IntoHandlerResult for Result<(), E> {
    fn into_handler_result(self) -> HandlerResult {
        self.map_err(Into::into)
    }
}

/// Something that runs typed handlers for the events `E`: the server for its
/// client-to-server events, the client for its server-to-client events.
///
/// `#[nodelink::events]` on `enum ToServer` generates a trait `OnToServer` that every
/// `Route<ToServer>` implements, with one registration method per variant
/// (`on_move(|ctx, event| …)`, where `event` is the generated `ToServerMove`
/// holding the variant's fields by name), and a trait `ToServerHandler` with one method per
/// variant for users who want a forgotten event to be a compile error.
pub trait Route<E> {
    /// What handlers receive as their first argument.
    type Ctx<'a>;

    /// Registers the handler for variant `index` (declaration order), replacing any
    /// earlier one. Generated code calls this; use the generated `on_…` methods.
    fn route(&mut self, index: usize, handler: BoxedHandler<Self, E>);

    /// Registers one handler for every variant, replacing all earlier ones. Generated
    /// code calls this; use the generated `handle_all`.
    fn route_all(&mut self, handler: BoxedHandler<Self, E>);

    /// Adds a middleware for variant `index`, run before its handler after those
    /// added earlier. Generated code calls this; use the generated `before_…`.
    fn route_middleware(&mut self, index: usize, middleware: BoxedMiddleware<Self, E>);
}

/// A handler as a [`Route`] keeps it: called with the context and the event, and
/// cloned for each match a server runs of its kind, so that every match has its
/// own handlers (with their own copies of what they captured). Implemented by
/// every closure of the right shape that is `Clone` (a closure is when what it
/// captures is: an `Arc`, a channel's sender, plain values).
#[diagnostic::on_unimplemented(
    message = "this handler cannot be registered",
    note = "a handler must be `Clone + Send + 'static`: each match gets its own copy; share state between matches through an `Arc`, and keep a match's own state in its game value (`ctx.game()`)"
)]
pub trait RouteHandler<R: Route<E> + ?Sized, E>: Send + 'static {
    /// Runs the handler.
    fn call(&mut self, ctx: &mut R::Ctx<'_>, event: E) -> HandlerResult;
    /// A copy of the handler, boxed.
    fn clone_box(&self) -> BoxedHandler<R, E>;
}

impl<R, E, F> RouteHandler<R, E> for F
where
    R: Route<E> + ?Sized + 'static,
    E: 'static,
    F: for<'a> FnMut(&mut R::Ctx<'a>, E) -> HandlerResult + Clone + Send + 'static,
{
    fn call(&mut self, ctx: &mut R::Ctx<'_>, event: E) -> HandlerResult {
        self(ctx, event)
    }

    fn clone_box(&self) -> BoxedHandler<R, E> {
        Box::new(self.clone())
    }
}

/// A boxed [`RouteHandler`].
pub type BoxedHandler<R, E> = Box<dyn RouteHandler<R, E>>;

impl<R: Route<E> + ?Sized + 'static, E: 'static> Clone for BoxedHandler<R, E> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Boxes a handler closure, fixing its signature for the compiler's inference.
/// Generated code calls this.
#[doc(hidden)]
pub fn boxed_handler<R, E, F>(handler: F) -> BoxedHandler<R, E>
where
    R: Route<E> + ?Sized + 'static,
    E: 'static,
    F: for<'a> FnMut(&mut R::Ctx<'a>, E) -> HandlerResult + Clone + Send + 'static,
{
    Box::new(handler)
}

/// Boxes a middleware closure; see [`boxed_handler`].
#[doc(hidden)]
pub fn boxed_middleware<R, E, F>(middleware: F) -> BoxedMiddleware<R, E>
where
    R: Route<E> + ?Sized + 'static,
    E: 'static,
    F: for<'a> FnMut(&mut R::Ctx<'a>, &mut E) -> Result<Verdict, HandlerError>
        + Clone
        + Send
        + 'static,
{
    Box::new(middleware)
}

/// A middleware as a [`Route`] keeps it; see [`RouteHandler`].
pub trait RouteMiddleware<R: Route<E> + ?Sized, E>: Send + 'static {
    /// Runs the middleware on the event, which it may rewrite.
    ///
    /// # Errors
    /// The middleware's own error, which rejects the event.
    fn call(&mut self, ctx: &mut R::Ctx<'_>, event: &mut E) -> Result<Verdict, HandlerError>;
    /// A copy of the middleware, boxed.
    fn clone_box(&self) -> BoxedMiddleware<R, E>;
}

impl<R, E, F> RouteMiddleware<R, E> for F
where
    R: Route<E> + ?Sized + 'static,
    E: 'static,
    F: for<'a> FnMut(&mut R::Ctx<'a>, &mut E) -> Result<Verdict, HandlerError>
        + Clone
        + Send
        + 'static,
{
    fn call(&mut self, ctx: &mut R::Ctx<'_>, event: &mut E) -> Result<Verdict, HandlerError> {
        self(ctx, event)
    }

    fn clone_box(&self) -> BoxedMiddleware<R, E> {
        Box::new(self.clone())
    }
}

/// A boxed [`RouteMiddleware`].
pub type BoxedMiddleware<R, E> = Box<dyn RouteMiddleware<R, E>>;

impl<R: Route<E> + ?Sized + 'static, E: 'static> Clone for BoxedMiddleware<R, E> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// What a middleware decides about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the event through (possibly rewritten) to the next middleware and the handler.
    Pass,
    /// Drop the event: no further middleware and no handler run.
    Reject,
}

/// A middleware's return value: `()` (pass), `bool` (`false` rejects, as in
/// Python nodelink), a [`Verdict`], or a `Result` of one of those, whose error
/// rejects the event and goes to `on_error`.
pub trait IntoVerdict {
    /// The value as a verdict.
    ///
    /// # Errors
    /// The middleware's own error.
    fn into_verdict(self) -> Result<Verdict, HandlerError>;
}

impl IntoVerdict for () {
    fn into_verdict(self) -> Result<Verdict, HandlerError> {
        Ok(Verdict::Pass)
    }
}

impl IntoVerdict for bool {
    fn into_verdict(self) -> Result<Verdict, HandlerError> {
        Ok(if self { Verdict::Pass } else { Verdict::Reject })
    }
}

impl IntoVerdict for Verdict {
    fn into_verdict(self) -> Result<Verdict, HandlerError> {
        Ok(self)
    }
}

impl<V: IntoVerdict, E: Into<HandlerError>> IntoVerdict for Result<V, E> {
    fn into_verdict(self) -> Result<Verdict, HandlerError> {
        self.map_err(Into::into)?.into_verdict()
    }
}

/// The message of a caught panic, when it was a string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_owned())
}
