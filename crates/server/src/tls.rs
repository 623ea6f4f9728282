//! HTTPS: a rustls server configuration from PEM files (a certificate chain and its private key),
//! as Elasticsearch's `xpack.security.http.ssl.certificate` and `.key` settings take them.

pub use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// The TLS configuration of a server presenting the certificate chain in `cert` (PEM, the
/// server's certificate first) with the private key in `key` (PEM: PKCS#8, PKCS#1 or SEC1).
///
/// TLS 1.2 and 1.3, ring's cipher suites; ALPN offers `http/1.1`.
///
/// # Errors
/// A message naming the file: unreadable, no certificate or key in it, or a key that does not
/// match the certificate.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("reading the certificate {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading the certificate {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no PEM certificate (-----BEGIN CERTIFICATE-----) found", cert.display()));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("{}: no PEM private key (-----BEGIN PRIVATE KEY-----) found", key.display())
        }
        other => format!("reading the private key {}: {other}", key.display()),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("configuring TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| format!("the key {} does not fit the certificate {}: {e}", key.display(), cert.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
