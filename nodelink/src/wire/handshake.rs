//! How a client proves its protocol during the WebSocket handshake.
//!
//! The client offers the subprotocol `nodelink.<wire version>.<fingerprint as 16
//! hex digits>`. The server accepts only its own, so a client built from another
//! protocol is refused before a player exists; the refusal (HTTP 400) carries the
//! server's fingerprint in the [`FINGERPRINT_HEADER`] header.

use crate::wire::WIRE_VERSION;

/// The response header that names the server's fingerprint when it refuses a client.
pub const FINGERPRINT_HEADER: &str = "x-nodelink-fingerprint";

/// The response header that names what kind of refusal an HTTP refusal is: the
/// close code the same refusal has when told after an upgrade
/// ([`RefusalKind::close_code`](crate::wire::RefusalKind::close_code)), so a
/// client tells a full match from an unknown one without reading the text.
pub const REFUSAL_HEADER: &str = "x-nodelink-refusal";

/// The subprotocol a client with this fingerprint offers.
///
/// ```
/// use nodelink::wire::handshake::{parse_subprotocol, subprotocol};
///
/// assert_eq!(subprotocol(0xab), "nodelink.3.00000000000000ab");
/// assert_eq!(parse_subprotocol("nodelink.3.00000000000000ab"), Some(0xab));
/// assert_eq!(parse_subprotocol("nodelink.2.00000000000000ab"), None, "another wire version");
/// assert_eq!(parse_subprotocol("chat"), None);
/// ```
#[must_use]
pub fn subprotocol(fingerprint: u64) -> String {
    format!("nodelink.{WIRE_VERSION}.{fingerprint:016x}")
}

/// The reason a server gives a client of another build of its protocol (4202):
/// both fingerprints, which clients read back from it (PROTOCOL.md, "Refusals").
///
/// ```
/// use nodelink::wire::handshake::mismatch_reason;
///
/// assert_eq!(
///     mismatch_reason(1, 2),
///     "protocol mismatch: server fingerprint 0000000000000001, client fingerprint 0000000000000002"
/// );
/// ```
#[must_use]
pub fn mismatch_reason(server: u64, client: u64) -> String {
    format!("protocol mismatch: server fingerprint {server:016x}, client fingerprint {client:016x}")
}

/// The reason a server gives a client offering another wire version (4203): the
/// subprotocol it speaks.
#[must_use]
pub fn wire_version_reason(fingerprint: u64) -> String {
    format!(
        "unsupported nodelink wire version: this server speaks {}",
        subprotocol(fingerprint)
    )
}

/// The fingerprint in a nodelink subprotocol of this wire version, if it is one.
#[must_use]
pub fn parse_subprotocol(protocol: &str) -> Option<u64> {
    let rest = protocol.strip_prefix("nodelink.")?;
    let (version, fingerprint) = rest.split_once('.')?;
    if version.parse::<u64>().ok()? != WIRE_VERSION || fingerprint.len() != 16 {
        return None;
    }
    u64::from_str_radix(fingerprint, 16).ok()
}
