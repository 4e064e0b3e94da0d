//! The `Events` trait: what `#[nodelink::events]` generates for an enum.

use crate::error::{DecodeError, EncodeError};
use crate::fingerprint::Fingerprint;
use crate::schema::{EventsSchema, TypeRegistry};
use crate::wire::fields::{FieldSink, FieldSource};

/// A set of typed events, one per variant of an enum marked `#[nodelink::events]`.
///
/// Each variant travels under its wire name (the variant's name in snake_case:
/// `PlayerMoved` becomes `player_moved`) with its fields in declaration order. Unit,
/// tuple and struct variants are all allowed; a tuple variant's fields are named
/// `0`, `1`, … in errors.
///
/// ```
/// #[nodelink::events]
/// #[derive(Debug, PartialEq)]
/// pub enum ToServer {
///     Move { x: f32, y: f32 },
///     Chat(String),
///     Ready,
/// }
///
/// use nodelink::Events;
/// assert_eq!(ToServer::NAMES, ["move", "chat", "ready"]);
/// assert_eq!(ToServer::FIELDS, [&["x", "y"][..], &["0"], &[]]);
/// assert_eq!(ToServer::Ready.name(), "ready");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nodelink events enum",
    label = "expected an enum marked `#[nodelink::events]`",
    note = "put `#[nodelink::events]` on an enum whose variants are the events"
)]
pub trait Events: Sized + Send + 'static + Fingerprint {
    /// The wire names of the variants, in declaration order.
    const NAMES: &'static [&'static str];

    /// Each variant's field names, in declaration order (`0`, `1`, … for a tuple
    /// variant; none for a unit variant), indexed like [`NAMES`](Self::NAMES). A
    /// self-describing wire uses them to shape an event's payload.
    const FIELDS: &'static [&'static [&'static str]];

    /// This event's wire name.
    fn name(&self) -> &'static str;

    /// This event's variant index, in declaration order.
    fn index(&self) -> usize;

    /// How many fields this event's variant has.
    fn field_count(&self) -> usize;

    /// Writes this event's fields in declaration order.
    ///
    /// # Errors
    /// When a field's `Serialize` impl fails.
    fn encode_fields<W: FieldSink>(&self, out: &mut W) -> Result<(), EncodeError>;

    /// Reads the fields of the variant called `name`.
    ///
    /// # Errors
    /// [`DecodeError::UnknownEvent`] when no variant has that name; a field error
    /// naming the event and the field when a value does not fit.
    fn decode_fields<R: FieldSource>(name: &str, input: &mut R) -> Result<Self, DecodeError>;

    /// The enum described for the [schema](crate::schema): each event's wire name,
    /// fields and types, defining in `types` the user types they use.
    fn schema(types: &mut TypeRegistry) -> EventsSchema;
}
