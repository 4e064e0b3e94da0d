//! Transports: where a socket becomes an admitted connection that plays in a
//! match. The stand-alone listener (`listener`, with TLS), an axum router
//! (`axum`, feature `axum`) and a relay link (`relay`) each take connections their
//! own way, run the same admission (`admission`) on the same request
//! (`request`), and then play them the same way (`connection`), reaching a match
//! only through the seam in `server::port`.

pub(crate) mod admission;
#[cfg(feature = "axum")]
pub(crate) mod axum;
pub(crate) mod connection;
pub(crate) mod listener;
pub(crate) mod refusal;
pub(crate) mod relay;
pub(crate) mod request;
