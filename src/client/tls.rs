//! Which root certificates HTTPS trusts: the built-in Mozilla set, the system's (read by
//! `rustls-native-certs`, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`), and the PEM file
//! named by `--ca-file` or `SSL_CERT_FILE` (e.g. a TLS-inspecting proxy's CA).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

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
}

/// Names the PEM file whose certificates every client trusts besides the built-in and system
/// ones. The first call wins: the command line makes it once, at start.
pub fn set_ca_file(path: PathBuf) {
    let _ = CA_FILE.set(path);
}

/// `builder` trusting the certificates of the file given to [`set_ca_file`], if any.
pub fn trust_extra_roots(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, TlsError> {
    match CA_FILE.get() {
        Some(path) => Ok(roots_from(path)?
            .into_iter()
            .fold(builder, |b, cert| b.add_root_certificate(cert))),
        None => Ok(builder),
    }
}

/// The certificates of a PEM bundle.
pub fn roots_from(path: &Path) -> Result<Vec<reqwest::Certificate>, TlsError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: shown.clone(),
        source,
    })?;
    let certificates =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| TlsError::NotPem {
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
