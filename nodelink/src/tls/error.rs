//! Why a certificate, a key or a set of roots cannot be used.

use std::path::PathBuf;

/// A certificate, private key or root certificate that cannot be used, found when
/// a [`TlsConfig`](super::TlsConfig) or [`RootCertificates`](super::RootCertificates)
/// is made (so before a server binds or a client connects), or when the
/// platform's roots are first loaded. Converts into
/// [`RunError::Tls`](crate::server::RunError::Tls), so that a server's setup can
/// use `?`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The text is not valid PEM (a broken section, bad base64).
    #[error("invalid PEM in the {what}: {reason}")]
    Pem {
        /// Which input: `certificate chain`, `private key`, `root certificates`,
        /// with the file's path when it came from one.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The PEM holds no `CERTIFICATE` section.
    #[error("no certificate in the {what}: expected a PEM `CERTIFICATE` section")]
    NoCertificate {
        /// Which input, as in [`Pem`](Self::Pem).
        what: String,
    },
    /// The PEM holds no private key.
    #[error(
        "no private key in the {what}: expected a PEM `PRIVATE KEY`, \
         `RSA PRIVATE KEY` or `EC PRIVATE KEY` section"
    )]
    NoPrivateKey {
        /// Which input, as in [`Pem`](Self::Pem).
        what: String,
    },
    /// The private key is not the key of the chain's first certificate.
    #[error("the private key does not match the certificate (the chain's first)")]
    KeyMismatch,
    /// rustls refused the certificate or key: an unsupported key type, a
    /// certificate that does not parse.
    #[error("unusable {what}: {reason}")]
    Unusable {
        /// Which input, as in [`Pem`](Self::Pem).
        what: String,
        /// rustls's reason.
        reason: String,
    },
    /// The platform's root certificates could not be loaded, or there are none
    /// (a minimal container image without a CA bundle).
    #[error("no root certificates found on this platform: {reason}")]
    NoPlatformRoots {
        /// What the loader reported.
        reason: String,
    },
}
