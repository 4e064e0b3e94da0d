//! TLS for `wss://` (feature `tls`): the certificate a server presents and the
//! roots a client trusts.
//!
//! - A stand-alone server serves `wss://` when its config has a [`TlsConfig`]:
//!   [`ServerConfig::tls`](crate::server::ServerConfig::tls). Each connection's
//!   TLS handshake comes first, then the upgrade request, both within the
//!   handshake timeout.
//! - A [`Client`](crate::client::Client) connects to `wss://` URLs, trusting the
//!   platform's root certificates, or the ones given in
//!   [`ClientConfig::root_certificates`](crate::client::ClientConfig::root_certificates)
//!   (a self-signed certificate, a private CA).
//! - Another server can reuse the same setup: [`TlsConfig::accept`] secures any
//!   accepted stream and returns a [`TlsStream`].
//!
//! rustls does the work, with its `ring` crypto provider, named in every config
//! built here: nothing relies on a process-wide default provider, and an
//! application remains free to install one of its own. A server mounted on an axum router does
//! not use any of this: TLS is its HTTP server's job.
//!
//! ```
//! use nodelink::client::ClientConfig;
//! use nodelink::server::ServerConfig;
//! use nodelink::tls::{RootCertificates, TlsConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A self-signed certificate for this machine (a real server's comes from a CA).
//! let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
//! let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
//!
//! let server = ServerConfig::default().tls(TlsConfig::from_pem(cert.as_bytes(), key.as_bytes())?);
//! // Clients of wss://localhost:5000/ trust it as a root.
//! let client = ClientConfig::default().root_certificates(RootCertificates::from_pem(cert.as_bytes())?);
//! # let _ = (server, client);
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod pem;
mod server;

pub use client::RootCertificates;
pub use error::TlsError;
pub use server::{TlsConfig, TlsStream};

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The crypto provider of every TLS config nodelink builds.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
