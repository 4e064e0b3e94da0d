//! Certificates and keys out of PEM text, each failure named after its input.

use std::path::Path;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

/// Every `CERTIFICATE` section, in order; at least one.
pub(super) fn certificates(
    text: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(what, &error))?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate {
            what: what.to_owned(),
        });
    }
    Ok(certificates)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1).
pub(super) fn private_key(text: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(text).map_err(|error| match error {
        pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            what: what.to_owned(),
        },
        error => invalid(what, &error),
    })
}

/// A file's contents, and the name its failures go by (`certificate chain
/// (cert.pem)`).
pub(super) fn read(path: &Path, what: &str) -> Result<(Vec<u8>, String), TlsError> {
    let text = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok((text, format!("{what} ({})", path.display())))
}

fn invalid(what: &str, error: &pem::Error) -> TlsError {
    TlsError::Pem {
        what: what.to_owned(),
        reason: error.to_string(),
    }
}
