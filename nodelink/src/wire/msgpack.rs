//! MessagePack primitives for frame headers, and the field codec over them.
//!
//! Frame headers (array lengths, kind tags, ids) are written by hand in their most
//! compact form; field values go through `rmp-serde`, so any serde type works.

use serde::de::{DeserializeOwned, Visitor};
use serde::Serialize;

use crate::error::{DecodeError, EncodeError, FieldOwner};
use crate::sync::FieldMask;
use crate::wire::fields::{FieldSink, FieldSource};

/// Nesting deeper than this in one field value is rejected instead of risking the
/// stack. Protocol types nest a handful of levels; 64 leaves ample room.
const MAX_VALUE_DEPTH: usize = 64;

/// Appends MessagePack to a growing buffer.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn array_len(&mut self, len: usize) {
        // A frame never holds 2^32 elements: it would exceed every frame limit first.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        if len < 16 {
            self.buf.push(0x90 | len as u8);
        } else if let Ok(len) = u16::try_from(len) {
            self.buf.push(0xdc);
            self.buf.extend_from_slice(&len.to_be_bytes());
        } else {
            self.buf.push(0xdd);
            self.buf.extend_from_slice(&len.to_be_bytes());
        }
    }

    pub(crate) fn uint(&mut self, value: u64) {
        if value < 0x80 {
            self.buf.push(value as u8);
        } else if let Ok(v) = u8::try_from(value) {
            self.buf.extend_from_slice(&[0xcc, v]);
        } else if let Ok(v) = u16::try_from(value) {
            self.buf.push(0xcd);
            self.buf.extend_from_slice(&v.to_be_bytes());
        } else if let Ok(v) = u32::try_from(value) {
            self.buf.push(0xce);
            self.buf.extend_from_slice(&v.to_be_bytes());
        } else {
            self.buf.push(0xcf);
            self.buf.extend_from_slice(&value.to_be_bytes());
        }
    }

    pub(crate) fn nil(&mut self) {
        self.buf.push(0xc0);
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.buf.push(if value { 0xc3 } else { 0xc2 });
    }

    /// Bytes already encoded, as they are.
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn map_len(&mut self, len: usize) {
        // A frame never holds 2^32 entries, as with arrays.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        if len < 16 {
            self.buf.push(0x80 | len as u8);
        } else if let Ok(len) = u16::try_from(len) {
            self.buf.push(0xde);
            self.buf.extend_from_slice(&len.to_be_bytes());
        } else {
            self.buf.push(0xdf);
            self.buf.extend_from_slice(&len.to_be_bytes());
        }
    }

    /// Always float 64, whatever the value.
    pub(crate) fn f64(&mut self, value: f64) {
        self.buf.push(0xcb);
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn str(&mut self, value: &str) {
        let len = value.len();
        if len < 32 {
            self.buf.push(0xa0 | len as u8);
        } else if let Ok(len) = u8::try_from(len) {
            self.buf.extend_from_slice(&[0xd9, len]);
        } else if let Ok(len) = u16::try_from(len) {
            self.buf.push(0xda);
            self.buf.extend_from_slice(&len.to_be_bytes());
        } else {
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            self.buf.push(0xdb);
            self.buf.extend_from_slice(&len.to_be_bytes());
        }
        self.buf.extend_from_slice(value.as_bytes());
    }

    /// Any serde value, structs as arrays (the compact form).
    pub(crate) fn value<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value
            .serialize(&mut rmp_serde::Serializer::new(&mut self.buf))
            .map_err(|e| EncodeError::Field {
                field: name,
                reason: e.to_string(),
            })
    }
}

impl FieldSink for Encoder {
    fn field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.value(name, value)
    }

    fn nested<F>(&mut self, _: &'static str, mask: FieldMask, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Self) -> Result<(), EncodeError>,
    {
        self.array_len(1 + mask.len());
        self.uint(mask.bits());
        write(self)
    }

    fn seq<F>(&mut self, _: &'static str, len: usize, write: F) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut Self) -> Result<(), EncodeError>,
    {
        self.array_len(len);
        write(self)
    }
}

type ValueDecoder<'a> = rmp_serde::Deserializer<rmp_serde::decode::ReadReader<&'a [u8]>>;

/// The bytes left to read, and rmp-serde's decoder over them once a field needs
/// it. Made on first use: rmp-serde's decoder allocates a scratch buffer when it is
/// made, and most frames (sync frames of primitive fields) never need it.
enum Source<'a> {
    Bytes(&'a [u8]),
    Values(ValueDecoder<'a>),
}

impl<'a> Source<'a> {
    fn input(&mut self) -> &mut &'a [u8] {
        match self {
            Self::Bytes(bytes) => bytes,
            Self::Values(values) => values.get_mut(),
        }
    }

    fn remaining(&self) -> usize {
        match self {
            Self::Bytes(bytes) => bytes.len(),
            Self::Values(values) => values.get_ref().len(),
        }
    }

    fn values(&mut self) -> &mut ValueDecoder<'a> {
        if let Self::Bytes(bytes) = *self {
            let mut values = rmp_serde::Deserializer::new(bytes);
            values.set_max_depth(MAX_VALUE_DEPTH);
            *self = Self::Values(values);
        }
        match self {
            Self::Values(values) => values,
            Self::Bytes(_) => unreachable!("replaced just above"),
        }
    }
}

/// Reads MessagePack from a byte slice, never past its end.
///
/// Serves generated decoders as a [`FieldSource`] over the fields of the current
/// array, counting them so that a missing or surplus field is an error.
pub(crate) struct Decoder<'a> {
    source: Source<'a>,
    fields_left: usize,
}

impl std::fmt::Debug for Decoder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("remaining", &self.source.remaining())
            .field("fields_left", &self.fields_left)
            .finish()
    }
}

fn malformed(what: &str, error: impl std::fmt::Display) -> DecodeError {
    DecodeError::Malformed(format!("{what}: {error}"))
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self {
            source: Source::Bytes(input),
            fields_left: 0,
        }
    }

    fn input(&mut self) -> &mut &'a [u8] {
        self.source.input()
    }

    pub(crate) fn array_len(&mut self, what: &str) -> Result<usize, DecodeError> {
        let len = rmp::decode::read_array_len(self.input()).map_err(|e| malformed(what, e))?;
        Ok(len as usize)
    }

    pub(crate) fn uint(&mut self, what: &str) -> Result<u64, DecodeError> {
        rmp::decode::read_int(self.input()).map_err(|e| malformed(what, e))
    }

    pub(crate) fn map_len(&mut self, what: &str) -> Result<usize, DecodeError> {
        let len = rmp::decode::read_map_len(self.input()).map_err(|e| malformed(what, e))?;
        Ok(len as usize)
    }

    /// Reads a number in any MessagePack form: float 32, float 64 or an integer.
    pub(crate) fn number(&mut self, what: &str) -> Result<f64, DecodeError> {
        let input = self.input();
        match input.first() {
            Some(0xca) => rmp::decode::read_f32(input)
                .map(f64::from)
                .map_err(|e| malformed(what, e)),
            Some(0xcb) => rmp::decode::read_f64(input).map_err(|e| malformed(what, e)),
            // A uint 64 may not fit an `i64`; every other integer form does.
            Some(0xcf) => rmp::decode::read_int::<u64, _>(input)
                .map(|value| value as f64)
                .map_err(|e| malformed(what, e)),
            _ => rmp::decode::read_int::<i64, _>(input)
                .map(|value| value as f64)
                .map_err(|e| malformed(what, e)),
        }
    }

    /// Reads past one value of any kind (nested as deep as field values may be).
    pub(crate) fn skip_value(&mut self, what: &str) -> Result<(), DecodeError> {
        use serde::Deserialize;
        serde::de::IgnoredAny::deserialize(self.source.values())
            .map(|_| ())
            .map_err(|e| malformed(what, e))
    }

    /// Reads a boolean.
    pub(crate) fn bool(&mut self, what: &str) -> Result<bool, DecodeError> {
        let input = self.input();
        match input.first() {
            Some(&byte @ (0xc2 | 0xc3)) => {
                *input = &input[1..];
                Ok(byte == 0xc3)
            }
            _ => Err(DecodeError::Malformed(format!(
                "{what}: expected a boolean"
            ))),
        }
    }

    /// Consumes a `nil` if one comes next.
    pub(crate) fn nil(&mut self) -> bool {
        let input = self.input();
        if input.first() == Some(&0xc0) {
            *input = &input[1..];
            true
        } else {
            false
        }
    }

    /// Reads a string.
    pub(crate) fn str(&mut self, what: &str) -> Result<&'a str, DecodeError> {
        let bytes = self.str_bytes(what)?;
        std::str::from_utf8(bytes).map_err(|e| malformed(what, e))
    }

    fn str_bytes(&mut self, what: &str) -> Result<&'a [u8], DecodeError> {
        let len = rmp::decode::read_str_len(self.input()).map_err(|e| malformed(what, e))? as usize;
        let input = self.input();
        if len > input.len() {
            return Err(malformed(
                what,
                format_args!("string of {len} bytes runs past the end of the frame"),
            ));
        }
        let (bytes, rest) = input.split_at(len);
        *input = rest;
        Ok(bytes)
    }

    /// Reads a string that should be one of `names`: the matching name, or
    /// [`DecodeError::UnknownEvent`] with what was found. Comparing bytes spares the
    /// UTF-8 check of a name that is known.
    pub(crate) fn name_in(
        &mut self,
        what: &str,
        names: &[&'static str],
    ) -> Result<&'static str, DecodeError> {
        let bytes = self.str_bytes(what)?;
        match names.iter().find(|name| name.as_bytes() == bytes) {
            Some(name) => Ok(name),
            None => Err(DecodeError::UnknownEvent {
                name: String::from_utf8_lossy(bytes).into_owned(),
            }),
        }
    }

    /// Fails unless at least `count` more elements could follow: every element takes
    /// a byte or more, so a header that claims more than the input holds is rejected
    /// before anything is allocated for it.
    pub(crate) fn check_claim(&mut self, what: &str, count: usize) -> Result<(), DecodeError> {
        let left = self.input().len();
        if count > left {
            return Err(malformed(
                what,
                format_args!("claims {count} elements but only {left} bytes remain"),
            ));
        }
        Ok(())
    }

    /// Serves the next `count` elements of the current array as fields.
    pub(crate) fn expect_fields(&mut self, count: usize) {
        self.fields_left = count;
    }

    /// Fails if the fields served by [`Self::expect_fields`] were not all read.
    pub(crate) fn end_fields(&self, owner: FieldOwner) -> Result<(), DecodeError> {
        match self.fields_left {
            0 => Ok(()),
            extra => Err(DecodeError::ExtraFields { owner, extra }),
        }
    }

    /// Reads a delta's field mask, checked against the state's `count` fields.
    pub(crate) fn delta_mask(
        &mut self,
        state: &'static str,
        count: usize,
    ) -> Result<FieldMask, DecodeError> {
        let mask = FieldMask::from_bits(self.uint("field mask")?);
        let unknown = mask.bits() & !FieldMask::first(count as u32).bits();
        if unknown != 0 {
            return Err(DecodeError::UnknownStateField {
                state,
                index: unknown.trailing_zeros(),
                count: count as u32,
            });
        }
        Ok(mask)
    }

    fn nested_header(
        &mut self,
        state: &'static str,
        count: usize,
    ) -> Result<(FieldMask, usize), DecodeError> {
        let len = self.array_len("nested state")?;
        let Some(values) = len.checked_sub(1) else {
            return Err(DecodeError::Malformed("nested state: no field mask".into()));
        };
        let mask = self.delta_mask(state, count)?;
        Ok((mask, values))
    }

    /// Fails if any bytes follow the frame.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.source.remaining() {
            0 => Ok(()),
            left => Err(DecodeError::TrailingBytes(left)),
        }
    }
}

impl FieldSource for Decoder<'_> {
    fn field<T: DeserializeOwned>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
    ) -> Result<T, DecodeError> {
        if self.fields_left == 0 {
            return Err(DecodeError::MissingField { owner, field: name });
        }
        self.fields_left -= 1;
        T::deserialize(Primitives(&mut self.source)).map_err(|e| DecodeError::Field {
            owner,
            field: name,
            reason: e.to_string(),
        })
    }

    fn nested<T, F>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
        state: &'static str,
        count: usize,
        read: F,
    ) -> Result<T, DecodeError>
    where
        F: FnOnce(FieldMask, &mut Self) -> Result<T, DecodeError>,
    {
        if self.fields_left == 0 {
            return Err(DecodeError::MissingField { owner, field: name });
        }
        self.fields_left -= 1;
        let outer = self.fields_left;
        let (mask, values) = self
            .nested_header(state, count)
            .map_err(|error| match error {
                DecodeError::Malformed(reason) => DecodeError::Field {
                    owner,
                    field: name,
                    reason,
                },
                other => other,
            })?;
        self.fields_left = values;
        let value = read(mask, self)?;
        self.end_fields(FieldOwner::State(state))?;
        self.fields_left = outer;
        Ok(value)
    }

    fn seq<T, F>(
        &mut self,
        owner: FieldOwner,
        name: &'static str,
        read: F,
    ) -> Result<T, DecodeError>
    where
        F: FnOnce(usize, &mut Self) -> Result<T, DecodeError>,
    {
        if self.fields_left == 0 {
            return Err(DecodeError::MissingField { owner, field: name });
        }
        self.fields_left -= 1;
        let outer = self.fields_left;
        let field_error = |reason: String| DecodeError::Field {
            owner,
            field: name,
            reason,
        };
        let len = self
            .array_len(name)
            .map_err(|e| field_error(e.to_string()))?;
        self.check_claim(name, len)
            .map_err(|e| field_error(e.to_string()))?;
        self.fields_left = len;
        let value = read(len, self)?;
        if self.fields_left != 0 {
            return Err(field_error(format!(
                "{} item(s) too many",
                self.fields_left
            )));
        }
        self.fields_left = outer;
        Ok(value)
    }
}

/// A field value's deserializer that reads the common primitives (a float, a small
/// integer, a bool) straight from the bytes and hands everything else, and any other
/// encoding of those, to rmp-serde: most event and state fields are primitives, and
/// the direct read is several times cheaper.
///
/// Used only at the top of a field, where rmp-serde holds no look-ahead.
struct Primitives<'d, 'a>(&'d mut Source<'a>);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                self.0.values().$method(visitor)
            }
        )*
    };
}

impl<'de> serde::Deserializer<'de> for Primitives<'_, '_> {
    type Error = rmp_serde::decode::Error;

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let input = self.0.input();
        if let &[0xca, a, b, c, d, ref rest @ ..] = *input {
            *input = rest;
            return visitor.visit_f32(f32::from_be_bytes([a, b, c, d]));
        }
        self.0.values().deserialize_f32(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let input = self.0.input();
        if let &[0xcb, a, b, c, d, e, f, g, h, ref rest @ ..] = *input {
            *input = rest;
            return visitor.visit_f64(f64::from_be_bytes([a, b, c, d, e, f, g, h]));
        }
        self.0.values().deserialize_f64(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let input = self.0.input();
        if let &[marker @ (0xc2 | 0xc3), ref rest @ ..] = *input {
            *input = rest;
            return visitor.visit_bool(marker == 0xc3);
        }
        self.0.values().deserialize_bool(visitor)
    }

    // Integers: a positive fixint is the value itself; the visitors of every integer
    // type range-check a `u64`.
    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match fixint(self.0) {
            Some(value) => visitor.visit_u64(value),
            None => self.0.values().deserialize_u8(visitor),
        }
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match fixint(self.0) {
            Some(value) => visitor.visit_u64(value),
            None => self.0.values().deserialize_u16(visitor),
        }
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match fixint(self.0) {
            Some(value) => visitor.visit_u64(value),
            None => self.0.values().deserialize_u32(visitor),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match fixint(self.0) {
            Some(value) => visitor.visit_u64(value),
            None => self.0.values().deserialize_u64(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.values().deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.values().deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.values().deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.values().deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.values().deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.values().deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        false
    }

    forward!(
        deserialize_any,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u128,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );
}

/// Consumes a positive fixint (0 to 127) if one comes next.
fn fixint(source: &mut Source<'_>) -> Option<u64> {
    let input = source.input();
    match *input {
        &[byte @ 0x00..=0x7f, ref rest @ ..] => {
            *input = rest;
            Some(byte.into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(write: impl FnOnce(&mut Encoder)) -> Vec<u8> {
        let mut encoder = Encoder::default();
        write(&mut encoder);
        encoder.into_vec()
    }

    #[test]
    fn headers_match_rmp_for_every_size_class() {
        for value in [
            0,
            1,
            0x7f,
            0x80,
            0xff,
            0x100,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            1 << 32,
        ] {
            let mut expected = Vec::new();
            rmp::encode::write_uint(&mut expected, value).unwrap();
            assert_eq!(encoded(|e| e.uint(value)), expected, "uint {value}");
        }
        for len in [0usize, 15, 16, 0xffff, 0x1_0000] {
            let mut expected = Vec::new();
            rmp::encode::write_array_len(&mut expected, len as u32).unwrap();
            assert_eq!(encoded(|e| e.array_len(len)), expected, "array {len}");
        }
        for len in [0usize, 31, 32, 0xff, 0x100, 0x1_0000] {
            let text = "x".repeat(len);
            let mut expected = Vec::new();
            rmp::encode::write_str(&mut expected, &text).unwrap();
            assert_eq!(encoded(|e| e.str(&text)), expected, "str {len}");
        }
    }

    #[test]
    fn a_string_longer_than_the_input_is_rejected_without_allocating() {
        // str32 header claiming 4 GiB, followed by 1 byte.
        let input = [0xdb, 0xff, 0xff, 0xff, 0xff, b'a'];
        let err = Decoder::new(&input).str_bytes("name").unwrap_err();
        assert!(matches!(err, DecodeError::Malformed(_)), "{err}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // 100,000 nested one-element arrays.
        let input = vec![0x91; 100_000];
        let mut decoder = Decoder::new(&input);
        decoder.expect_fields(1);
        let err = decoder
            .field::<serde::de::IgnoredAny>(FieldOwner::Event("e"), "f")
            .unwrap_err();
        assert!(matches!(err, DecodeError::Field { .. }), "{err}");
    }
}
