//! The interface between generated code and a wire format.
//!
//! `#[derive(SyncState)]` and `#[nodelink::events]` generate code that writes and
//! reads one field at a time through these traits, naming each field. The MessagePack
//! wire ignores the names (fields go out positionally, in declaration order); a
//! self-describing format can key values by them. Generated code therefore never
//! depends on a particular format.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::sync::FieldMask;

/// Where generated encoders write field values, in declaration order.
pub trait FieldSink {
    /// Writes one field's value.
    ///
    /// # Errors
    /// When the value's `Serialize` impl fails.
    fn field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError>;

    /// Writes one field holding a nested state: the sub-fields of `mask`, which
    /// `write` writes in turn. MessagePack writes `[mask, value…]`; a
    /// self-describing format, an object of the sub-fields.
    ///
    /// # Errors
    /// When `write` fails.
    fn nested<F>(
        &mut self,
        name: &'static str,
        mask: FieldMask,
        write: F,
    ) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Self) -> Result<(), EncodeError>;

    /// Writes one field holding a sequence of `len` items, which `write` writes in
    /// turn as fields (their names are not written): an array on every wire.
    ///
    /// # Errors
    /// When `write` fails.
    fn seq<F>(&mut self, name: &'static str, len: usize, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Self) -> Result<(), EncodeError>;
}

/// Where generated decoders read field values, in declaration order.
pub trait FieldSource {
    /// Reads the next field's value.
    ///
    /// # Errors
    /// [`DecodeError::MissingField`] when the input has no more fields,
    /// [`DecodeError::Field`] when the value does not fit `T`.
    fn field<T: DeserializeOwned>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
    ) -> Result<T, DecodeError>;

    /// Reads the next field, a nested state named `state` with `count` synced
    /// fields: its mask, then `read` reads the sub-fields the mask names.
    ///
    /// # Errors
    /// [`DecodeError::UnknownStateField`] for a mask bit at or above `count`; field
    /// errors as for [`field`](Self::field); whatever `read` returns.
    fn nested<T, F>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
        state: &'static str,
        count: usize,
        read: F,
    ) -> Result<T, DecodeError>
    where
        F: FnOnce(FieldMask, &mut Self) -> Result<T, DecodeError>;

    /// Reads the next field, a sequence: `read` gets its length and reads its items
    /// as fields, all of them.
    ///
    /// # Errors
    /// A field error when the value is not a sequence or holds more items than
    /// `read` reads; whatever `read` returns.
    fn seq<T, F>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
        read: F,
    ) -> Result<T, DecodeError>
    where
        F: FnOnce(usize, &mut Self) -> Result<T, DecodeError>;
}
