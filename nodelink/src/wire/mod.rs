//! The wire formats: the native one, MessagePack frames over WebSocket binary
//! messages, and [`json`], Python nodelink's JSON text frames for its clients.
//!
//! Pure encoding and decoding: nothing here touches a socket or the clock, so every
//! frame can be built, checked and benchmarked in memory. A broadcast or a sync
//! frame is encoded once into [`bytes::Bytes`] and the same bytes go to every
//! recipient.
//!
//! See PROTOCOL.md in the repository for the byte-level layout of every frame.

mod close;
pub mod fields;
mod frame;
pub mod handshake;
pub mod json;
pub(crate) mod matchmaking;
mod msgpack;
mod resume;
mod settings;

pub use close::{
    close_reason_text, CloseReason, RefusalKind, MAX_CLOSE_REASON_LEN, REFUSALS_SUBPROTOCOL,
};
pub use frame::{
    decode_client_frame, decode_server_frame, encode_event, encode_ping, encode_pong, encode_sync,
    encode_sync_with_entities, ClientFrame, NetId, ServerFrame, SyncFrame, SyncHeader, Welcome,
};
pub(crate) use frame::{frame_kind, KIND_EVENT, KIND_PONG};
pub use matchmaking::{
    decode_listing, encode_listing, encode_listing_raw, MatchListing, MatchRequest, RawListing,
};
pub use resume::{
    ParseResumeOfferError, ParseResumeTokenError, ResumeOffer, ResumeToken, RESUME_PREFIX,
};
pub use settings::Settings;

/// Which fields of a state `S` an encoder writes: all, or those its changes name.
pub type StateSelection<'a, S> = crate::sync::Selection<'a, <S as crate::SyncState>::Changes>;

/// An entity to list in a sync frame: its id, its state, and what of it to send.
pub type EntityEntry<'a, P> = (
    crate::EntityId,
    &'a <P as crate::Protocol>::Entity,
    StateSelection<'a, <P as crate::Protocol>::Entity>,
);

/// `<relay>/join/<code>`: where a player joins the game hosted under `code` on the
/// relay at `relay`, the code as players type it, upper-cased.
pub(crate) fn relay_join_url(relay: &str, code: &str) -> String {
    format!(
        "{}/join/{}",
        relay.trim_end_matches('/'),
        code.trim().to_ascii_uppercase()
    )
}

/// The wire format one connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireFormat {
    /// MessagePack frames in binary messages, with compact player numbers and field
    /// masks: what nodelink's own client speaks.
    Native,
    /// Python nodelink 0.6.0's `{"event", "data"}` text frames; see [`json`].
    Json,
}

/// The version of the frame layouts in this module; part of every
/// [`Protocol::FINGERPRINT`](crate::Protocol::FINGERPRINT) and of the welcome frame.
///
/// Version 3 added the welcome's [`Settings`].
pub const WIRE_VERSION: u64 = 3;

/// The default limit on an inbound frame's size: 64 KiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;
