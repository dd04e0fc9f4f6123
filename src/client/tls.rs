//! Which root certificates HTTPS trusts: the built-in Mozilla set, the system's (read by
//! `rustls-native-certs`, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`), and the PEM file
//! named by `--ca-file` or `SSL_CERT_FILE` (e.g. a TLS-inspecting proxy's CA).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The extra roots file, set once by the command line before any client is built.
static CA_FILE: OnceLock<PathBuf> = OnceLock::new();

/// A roots file that cannot be used; the client is not built rather than trusting less.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA file {path} is not a PEM bundle of certificates: {reason}")]
    NotPem { path: String, reason: String },
    #[error("the CA file {path} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)")]
    Empty { path: String },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// Names the PEM file whose certificates every client trusts besides the built-in and system
/// ones. The first call wins: the command line makes it once, at start.
pub fn set_ca_file(path: PathBuf) {
    let _ = CA_FILE.set(path);
}

/// The TLS settings every delivery client shares: the built-in Mozilla roots, the system's,
/// and those of the file given to [`set_ca_file`]. Built once (reading the system's bundle takes
/// milliseconds); a CA file that cannot be used is an error each time it is asked for.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, TlsError> {
    static BUILT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = BUILT.get() {
        return Ok(config.clone());
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // Certificates of the system's bundle that rustls cannot use are skipped, as a browser would.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = CA_FILE.get() {
        roots.add_parsable_certificates(roots_from(path)?);
    }
    let config = Arc::new(config_trusting(roots)?);
    Ok(BUILT.get_or_init(|| config).clone())
}

/// TLS 1.2 and 1.3 on ring, trusting `roots`, with no client certificate.
pub fn config_trusting(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, TlsError> {
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| TlsError::Setup(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// The certificates of a PEM bundle.
pub fn roots_from(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: shown.clone(),
        source,
    })?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::NotPem {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Empty { path: shown });
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = roots_from(&path).unwrap_err();
        assert!(matches!(err, TlsError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("ca.pem"), "{err}");
        let err = roots_from(&dir.path().join("missing.pem")).unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }), "{err}");
    }
}
