//! HTTPS served directly: [`Tls`] holds a certificate chain and its private key, read from PEM
//! files, and can read them again (SIGHUP, or [`Tls::reload`]) without a restart.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// Why a certificate or key could not be used. Each names the file and the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds no PEM certificate.
    #[error("{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The file holds no PEM private key the ring provider can use.
    #[error("{path} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {reason}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error("the key in {key} does not match the certificate in {cert}")]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
}

/// A certificate chain and private key for [`Server::tls`](crate::Server::tls). HTTP/1.1 and
/// HTTP/2 are offered by ALPN. Cheap to clone; clones share the certificate, so
/// [`reload`](Self::reload) on one is seen by the server.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use moveo_dialog::serve::Tls;
/// use moveo_dialog::{Reply, Router, Server};
///
/// let tls = Tls::from_pem_files("/etc/moveo/cert.pem", "/etc/moveo/key.pem")?;
/// let router = Router::new().verify_token("my-verify-token").fallback(|| async { Reply::text("Hi!") });
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
/// Server::new(router).tls(tls).serve(listener).await?; // SIGHUP reads the files again
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tls {
    inner: Arc<Inner>,
}

struct Inner {
    cert: PathBuf,
    key: PathBuf,
    config: RwLock<Arc<ServerConfig>>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").field("cert", &self.inner.cert).field("key", &self.inner.key).finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

/// Reads and checks the files, and builds the rustls configuration.
fn load(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: cert.to_owned() });
    }
    let bad_key = |reason: String| TlsError::BadKey { path: key.to_owned(), reason };
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| bad_key(err.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing = provider.key_provider.load_private_key(private).map_err(|err| bad_key(err.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|_| TlsError::KeyMismatch { cert: cert.to_owned(), key: key.to_owned() })?;
    let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider) as Arc<CryptoProvider>)
        .with_safe_default_protocol_versions()
        .map_err(|err| bad_key(err.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(Arc::new(certified))));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

impl Tls {
    /// Reads a certificate chain (PEM, leaf first) and its private key (PEM: PKCS#8, PKCS#1 or
    /// SEC1).
    ///
    /// # Errors
    ///
    /// A [`TlsError`] naming the file and the problem: missing or unreadable, no certificate,
    /// an unusable key, or a key that does not match the certificate.
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Result<Self, TlsError> {
        let (cert, key) = (cert.into(), key.into());
        let config = load(&cert, &key)?;
        Ok(Self { inner: Arc::new(Inner { cert, key, config: RwLock::new(Arc::new(config)) }) })
    }

    /// Reads the files again: new connections get the new certificate, established ones keep
    /// theirs. When the new files do not work, the old certificate stays in use.
    ///
    /// # Errors
    ///
    /// As [`from_pem_files`](Self::from_pem_files); the error is also logged.
    pub fn reload(&self) -> Result<(), TlsError> {
        match load(&self.inner.cert, &self.inner.key) {
            Ok(config) => {
                *self.inner.config.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
                tracing::info!(cert = %self.inner.cert.display(), "TLS certificate reloaded");
                Ok(())
            }
            Err(err) => {
                tracing::error!(error = %err, "TLS reload failed; still serving the previous certificate");
                Err(err)
            }
        }
    }

    /// The acceptor for a new connection, with the certificate in use now.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        let config = self.inner.config.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        TlsAcceptor::from(Arc::clone(&config))
    }
}
