//! Frames encoded once per wire format for many recipients: the bytes each
//! recipient's queue gets a reference to.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::error::EncodeError;
use crate::server::port::Outgoing;
use crate::wire::WireFormat;

/// The wire formats a set of recipients speaks: which encodings a frame for them
/// needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Wires {
    native: bool,
    json: bool,
}

impl Wires {
    pub(crate) fn of(wires: impl IntoIterator<Item = WireFormat>) -> Self {
        let mut set = Self::default();
        for wire in wires {
            set = set.with(wire);
            if set.native && set.json {
                break;
            }
        }
        set
    }

    pub(crate) fn one(wire: WireFormat) -> Self {
        Self::default().with(wire)
    }

    fn with(mut self, wire: WireFormat) -> Self {
        match wire {
            WireFormat::Native => self.native = true,
            WireFormat::Json => self.json = true,
        }
        self
    }
}

/// A frame encoded in each wire format its recipients speak (and no other): the same
/// bytes are shared by every recipient of a format.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frame {
    native: Option<Bytes>,
    json: Option<Utf8Bytes>,
}

impl Frame {
    /// Encodes with `native` and `json`, each only when `wires` needs it.
    pub(crate) fn encode(
        wires: Wires,
        native: impl FnOnce() -> Result<Bytes, EncodeError>,
        json: impl FnOnce() -> Result<String, EncodeError>,
    ) -> Result<Self, EncodeError> {
        Ok(Self {
            native: wires.native.then(native).transpose()?,
            json: wires.json.then(json).transpose()?.map(Utf8Bytes::from),
        })
    }

    /// The queue item for a recipient speaking `wire`, if this frame was encoded
    /// for it.
    pub(crate) fn for_wire(&self, wire: WireFormat) -> Option<Outgoing> {
        match wire {
            WireFormat::Native => self.native.clone().map(Outgoing::Binary),
            WireFormat::Json => self.json.clone().map(Outgoing::Text),
        }
    }

    /// The native encoding, if the frame has one.
    pub(crate) fn native(&self) -> Option<&Bytes> {
        self.native.as_ref()
    }

    /// The size in `wire`'s encoding.
    pub(crate) fn len(&self, wire: WireFormat) -> usize {
        match wire {
            WireFormat::Native => self.native.as_ref().map_or(0, Bytes::len),
            WireFormat::Json => self.json.as_ref().map_or(0, |text| text.len()),
        }
    }
}
