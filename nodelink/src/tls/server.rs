//! The server's side: the certificate it presents, and accepted streams secured
//! with it.

use std::fmt;
use std::io::{self, IoSlice};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;

use super::{pem, provider, TlsError};

/// A server's TLS identity: its certificate chain and private key, checked
/// against each other when made. Cheap to clone.
///
/// Give it to a stand-alone server with
/// [`ServerConfig::tls`](crate::server::ServerConfig::tls); another server (a
/// relay beside the game) secures the streams it accepts with
/// [`accept`](Self::accept).
///
/// ```no_run
/// use nodelink::server::ServerConfig;
/// use nodelink::tls::TlsConfig;
///
/// # fn main() -> Result<(), nodelink::server::RunError> {
/// // The chain as a CA or certbot writes it (the server's certificate first),
/// // and its key.
/// let tls = TlsConfig::from_pem_files("/etc/game/fullchain.pem", "/etc/game/privkey.pem")?;
/// let config = ServerConfig::default().port(443).tls(tls);
/// # let _ = config;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
    chain_len: usize,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("chain_len", &self.chain_len)
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// From PEM text: `cert_chain` holds the server's certificate, then any
    /// intermediate certificates; `key` its private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// ```
    /// use nodelink::tls::{TlsConfig, TlsError};
    ///
    /// let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
    /// assert!(TlsConfig::from_pem(cert.as_bytes(), key.as_bytes()).is_ok());
    ///
    /// // Another certificate's key is refused, and so is anything that is not PEM.
    /// let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    /// let other_key = other.signing_key.serialize_pem();
    /// let refused = TlsConfig::from_pem(cert.as_bytes(), other_key.as_bytes());
    /// assert!(matches!(refused, Err(TlsError::KeyMismatch)));
    /// let refused = TlsConfig::from_pem(b"not a certificate", key.as_bytes());
    /// assert!(matches!(refused, Err(TlsError::NoCertificate { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// When either is not PEM or holds no certificate or key, when the key is not
    /// the certificate's ([`TlsError::KeyMismatch`]), or when rustls cannot use
    /// them.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Self::build((cert_chain, "certificate chain"), (key, "private key"))
    }

    /// From PEM files, as [`from_pem`](Self::from_pem); errors name the file.
    ///
    /// # Errors
    /// When a file cannot be read ([`TlsError::Read`]), and as
    /// [`from_pem`](Self::from_pem).
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let (chain_text, chain_name) = pem::read(cert_chain.as_ref(), "certificate chain")?;
        let (key_text, key_name) = pem::read(key.as_ref(), "private key")?;
        Self::build((&chain_text, &chain_name), (&key_text, &key_name))
    }

    fn build(chain: (&[u8], &str), key: (&[u8], &str)) -> Result<Self, TlsError> {
        let certificates = pem::certificates(chain.0, chain.1)?;
        let private_key = pem::private_key(key.0, key.1)?;
        let chain_len = certificates.len();
        let unusable = |error: rustls::Error| TlsError::Unusable {
            what: format!("{} and {}", chain.1, key.1),
            reason: error.to_string(),
        };
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(certificates, private_key)
            .map_err(|error| match error {
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                    TlsError::KeyMismatch
                }
                error => unusable(error),
            })?;
        Ok(Self {
            acceptor: TlsAcceptor::from(std::sync::Arc::new(config)),
            chain_len,
        })
    }

    /// Runs the server's side of the TLS handshake on an accepted stream (a
    /// `TcpStream`, usually), and returns the secured stream to read the HTTP
    /// request from.
    ///
    /// Bound it with a timeout: a peer that never completes the handshake is
    /// waited for. The stand-alone server counts it in its handshake timeout.
    ///
    /// ```no_run
    /// use tokio::io::AsyncReadExt;
    /// use tokio::net::TcpListener;
    ///
    /// # async fn serve(tls: nodelink::tls::TlsConfig) -> std::io::Result<()> {
    /// let listener = TcpListener::bind("0.0.0.0:443").await?;
    /// let (stream, _) = listener.accept().await?;
    /// let mut secured = tls.accept(stream).await?;
    /// let mut request = [0u8; 1024];
    /// let read = secured.read(&mut request).await?;
    /// # let _ = read;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the handshake fails: the peer does not speak TLS, sent garbage,
    /// refused the certificate, or the stream failed.
    pub async fn accept<S>(&self, stream: S) -> io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.acceptor.accept(stream).await.map(TlsStream)
    }
}

/// A stream secured by [`TlsConfig::accept`]: reads and writes plaintext.
pub struct TlsStream<S>(tokio_rustls::server::TlsStream<S>);

impl<S> TlsStream<S> {
    /// The underlying stream (the `TcpStream`, for its addresses).
    pub fn get_ref(&self) -> &S {
        self.0.get_ref().0
    }
}

impl<S: fmt::Debug> fmt::Debug for TlsStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TlsStream").field(self.get_ref()).finish()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
