//! What the world task hands a connection's writer.

use bytes::Bytes;

use crate::wire::CloseReason;

/// One item of a connection's bounded send queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// An encoded frame; the same `Bytes` are shared by every recipient.
    Frame(Bytes),
    /// Close the connection with this reason, after the frames queued before it.
    Close(CloseReason),
}
