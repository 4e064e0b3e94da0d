//! The client's side: which root certificates a `wss://` server's certificate
//! must chain to.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;

use super::{pem, provider, TlsError};

/// The root certificates a [`Client`](crate::client::Client) trusts for `wss://`
/// URLs: the platform's (the default), or the ones given, such as a self-signed
/// server's own certificate or a private CA's. Cheap to clone.
///
/// Set with
/// [`ClientConfig::root_certificates`](crate::client::ClientConfig::root_certificates).
/// The server's certificate must also name the URL's host (a DNS name or an IP
/// address in its subject alternative names).
#[derive(Clone, Default)]
pub struct RootCertificates {
    given: Option<Given>,
}

/// Roots given by the application, with the client config built from them.
#[derive(Clone)]
struct Given {
    count: usize,
    config: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for RootCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.given {
            None => f.write_str("RootCertificates::Platform"),
            Some(given) => f
                .debug_struct("RootCertificates")
                .field("given", &given.count)
                .finish(),
        }
    }
}

impl RootCertificates {
    /// The platform's root certificates (the system's CA bundle on Linux, the
    /// keychain on macOS, the certificate store on Windows), loaded once per
    /// process, at the first `wss://` connection that needs them.
    #[must_use]
    pub fn platform() -> Self {
        Self::default()
    }

    /// Exactly the certificates in this PEM text (one or more `CERTIFICATE`
    /// sections), and not the platform's.
    ///
    /// ```
    /// use nodelink::client::ClientConfig;
    /// use nodelink::tls::RootCertificates;
    ///
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// let roots = RootCertificates::from_pem(made.cert.pem().as_bytes())?;
    /// let config = ClientConfig::default().root_certificates(roots);
    /// # let _ = config;
    /// assert!(RootCertificates::from_pem(b"-----BEGIN CERTIFICATE-----\n!!\n").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When the text is not PEM, holds no certificate, or a certificate does not
    /// parse.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TlsError> {
        Self::build(pem, "root certificates")
    }

    /// Exactly the certificates in this PEM file, as [`from_pem`](Self::from_pem);
    /// errors name the file.
    ///
    /// # Errors
    /// When the file cannot be read ([`TlsError::Read`]), and as
    /// [`from_pem`](Self::from_pem).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let (text, name) = pem::read(path.as_ref(), "root certificates")?;
        Self::build(&text, &name)
    }

    fn build(text: &[u8], what: &str) -> Result<Self, TlsError> {
        let mut store = RootCertStore::empty();
        let certificates = pem::certificates(text, what)?;
        let count = certificates.len();
        for certificate in certificates {
            store.add(certificate).map_err(|error| TlsError::Unusable {
                what: what.to_owned(),
                reason: error.to_string(),
            })?;
        }
        Ok(Self {
            given: Some(Given {
                count,
                config: client_config(store)?,
            }),
        })
    }

    /// How a WebSocket client opens a connection to a URL with this scheme
    /// (`"wss"`: TLS trusting these roots; any other: plain TCP).
    pub(crate) fn connector(
        &self,
        scheme: Option<&str>,
    ) -> Result<tokio_tungstenite::Connector, TlsError> {
        Ok(match scheme {
            Some("wss") => tokio_tungstenite::Connector::Rustls(self.client_config()?),
            _ => tokio_tungstenite::Connector::Plain,
        })
    }

    /// The rustls config of a `wss://` connection that trusts these roots.
    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        match &self.given {
            Some(given) => Ok(given.config.clone()),
            None => platform_config(),
        }
    }
}

/// The platform's roots are read from disk and parsed, hundreds of them: once per
/// process, not once per connection (and a reconnecting client's every attempt).
fn platform_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    static PLATFORM: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let loaded = PLATFORM.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        let (added, _unparsable) = store.add_parsable_certificates(found.certs);
        if added == 0 {
            let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
            return Err(if errors.is_empty() {
                "the platform's certificate store is empty".to_owned()
            } else {
                errors.join("; ")
            });
        }
        client_config(store).map_err(|error| error.to_string())
    });
    loaded
        .clone()
        .map_err(|reason| TlsError::NoPlatformRoots { reason })
}

fn client_config(roots: RootCertStore) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Unusable {
            what: "TLS protocol versions".to_owned(),
            reason: error.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
