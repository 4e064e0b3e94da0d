//! Errors of the data layer: encoding and decoding frames, events and state.

use std::fmt;

/// What a field belongs to, so a decode error can say where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldOwner {
    /// A field of the event with this wire name.
    Event(&'static str),
    /// A field of the `SyncState` type with this name.
    State(&'static str),
    /// A match's `options` or `metadata`.
    Match(&'static str),
}

impl fmt::Display for FieldOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Event(name) => write!(f, "event `{name}`"),
            Self::State(name) => write!(f, "state `{name}`"),
            Self::Match(name) => write!(f, "match {name}"),
        }
    }
}

/// A value could not be encoded.
///
/// Encoding into memory only fails when a hand-written `Serialize` impl reports an
/// error; the derives never do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field's `Serialize` impl failed.
    #[error("cannot encode field `{field}`: {reason}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What the serializer said.
        reason: String,
    },
}

/// Bytes could not be decoded into a frame, an event or a state delta.
///
/// Every decoder returns this for malformed input; none of them panics, and none
/// allocates more than the input can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is larger than the configured limit; it was not decoded.
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    FrameTooLarge {
        /// The frame's length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The frame is not the MessagePack structure nodelink sends.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The frame's kind tag is not one this side understands.
    #[error("unknown frame kind {0}")]
    UnknownFrameKind(u64),
    /// The frame was built for another version of the nodelink wire format.
    #[error("wire version {found} is not supported (this build speaks version {expected})")]
    WireVersion {
        /// The version this build speaks.
        expected: u64,
        /// The version in the frame.
        found: u64,
    },
    /// The event name is not a variant of the receiving events enum.
    #[error("unknown event `{name}`")]
    UnknownEvent {
        /// The name found in the frame.
        name: String,
    },
    /// A field was absent.
    #[error("{owner}: missing field `{field}`")]
    MissingField {
        /// The event or state the field belongs to.
        owner: FieldOwner,
        /// The field's name.
        field: &'static str,
    },
    /// A self-describing frame names a field the event or state does not have.
    #[error("{owner}: unknown field `{field}`")]
    UnknownField {
        /// The event or state the field was sent for.
        owner: FieldOwner,
        /// The name found in the frame.
        field: String,
    },
    /// More fields arrived than the event or state delta has.
    #[error("{owner}: {extra} unexpected extra field(s)")]
    ExtraFields {
        /// The event or state the fields were sent for.
        owner: FieldOwner,
        /// How many fields were left over.
        extra: usize,
    },
    /// A field's value does not fit the field's type.
    #[error("{owner}: field `{field}`: {reason}")]
    Field {
        /// The event or state the field belongs to.
        owner: FieldOwner,
        /// The field's name.
        field: &'static str,
        /// What the deserializer said.
        reason: String,
    },
    /// A state delta names a field index the state type does not have.
    #[error("state `{state}` has {count} synced field(s); the delta names field index {index}")]
    UnknownStateField {
        /// The state type's name.
        state: &'static str,
        /// The lowest unknown index in the delta's mask.
        index: u32,
        /// How many synced fields the type has.
        count: u32,
    },
    /// Bytes were left after the frame's last value.
    #[error("{0} unexpected byte(s) after the end of the frame")]
    TrailingBytes(usize),
}
