//! What the world task hands a connection's writer, and frames encoded once per
//! wire format for many recipients.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::future::{AbortHandle, AbortRegistration, Abortable};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::error::EncodeError;
use crate::wire::{CloseReason, WireFormat};

/// One item of a connection's bounded send queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A native frame, sent as a binary message.
    Binary(Bytes),
    /// A JSON frame, sent as a text message.
    Text(Utf8Bytes),
    /// Native frames sent one after the other: a resumed session's welcome and the
    /// events it replays, which count as one item of the bounded queue.
    Batch(Vec<Bytes>),
    /// Close the connection with this reason, after the frames queued before it.
    Close(CloseReason),
}

/// Closes a connection without waiting for its queue to drain (the peer is not
/// reading, and the writer may be stuck on a full socket): the world's half.
///
/// Aborting the writer's drain loop costs it one atomic check per wake-up, which
/// matters because the writer wakes for every frame.
#[derive(Debug)]
pub(crate) struct HardClose {
    abort: AbortHandle,
    reason: Arc<AtomicU16>,
}

/// The writer's half of [`HardClose`].
#[derive(Debug)]
pub(crate) struct HardCloseSignal {
    registration: AbortRegistration,
    reason: Arc<AtomicU16>,
}

impl HardClose {
    pub(crate) fn new() -> (Self, HardCloseSignal) {
        let (abort, registration) = AbortHandle::new_pair();
        let reason = Arc::new(AtomicU16::new(0));
        let signal = HardCloseSignal {
            registration,
            reason: reason.clone(),
        };
        (Self { abort, reason }, signal)
    }

    pub(crate) fn close(&self, reason: CloseReason) {
        self.reason.store(reason.code(), Ordering::Release);
        self.abort.abort();
    }
}

impl HardCloseSignal {
    /// Runs `drain` until it ends (with its close reason) or a hard close
    /// interrupts it (with the hard close's reason).
    pub(crate) async fn interrupt<F>(self, drain: F) -> Option<CloseReason>
    where
        F: std::future::Future<Output = Option<CloseReason>>,
    {
        match Abortable::new(drain, self.registration).await {
            Ok(reason) => reason,
            Err(_) => CloseReason::from_code(self.reason.load(Ordering::Acquire)),
        }
    }
}

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
