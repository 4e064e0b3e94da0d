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
    #[allow(clippy::type_complexity)]
    fn route(
        &mut self,
        index: usize,
        handler: Box<dyn for<'a> FnMut(&mut Self::Ctx<'a>, E) -> HandlerResult + Send + 'static>,
    );

    /// Registers one handler for every variant, replacing all earlier ones. Generated
    /// code calls this; use the generated `handle_all`.
    #[allow(clippy::type_complexity)]
    fn route_all(
        &mut self,
        handler: Box<dyn for<'a> FnMut(&mut Self::Ctx<'a>, E) -> HandlerResult + Send + 'static>,
    );

    /// Adds a middleware for variant `index`, run before its handler after those
    /// added earlier. Generated code calls this; use the generated `before_…`.
    #[allow(clippy::type_complexity)]
    fn route_middleware(
        &mut self,
        index: usize,
        middleware: Box<
            dyn for<'a> FnMut(&mut Self::Ctx<'a>, &mut E) -> Result<Verdict, HandlerError>
                + Send
                + 'static,
        >,
    );
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
