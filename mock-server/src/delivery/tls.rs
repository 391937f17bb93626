//! The TLS client configuration: which roots are trusted, with which crypto provider.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

use super::DeliveryError;

/// Builds a rustls client configuration that trusts the web PKI roots plus every
/// certificate in `extra_roots_pem`.
///
/// The ring provider is passed explicitly, so the result does not depend on which
/// provider, if any, the process installed as its default.
pub(super) fn client_config(extra_roots_pem: &[Vec<u8>]) -> Result<ClientConfig, DeliveryError> {
    let mut roots: RootCertStore = webpki_roots::TLS_SERVER_ROOTS.iter().cloned().collect();
    for (index, pem) in extra_roots_pem.iter().enumerate() {
        add_pem_roots(&mut roots, index, pem)?;
    }

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|cause| DeliveryError::TlsConfig { cause })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Adds every certificate of one PEM file to `roots`.
///
/// A file without any certificate is an error rather than a silent no-op, since the
/// caller asked for those roots to be trusted.
fn add_pem_roots(roots: &mut RootCertStore, index: usize, pem: &[u8]) -> Result<(), DeliveryError> {
    let mut found = 0;
    for (position, cert) in rustls_pemfile::certs(&mut &pem[..]).enumerate() {
        let cert = cert.map_err(|cause| DeliveryError::UnreadablePem { index, cause })?;
        roots
            .add(cert)
            .map_err(|cause| DeliveryError::InvalidRootCertificate {
                index,
                position,
                cause,
            })?;
        found += 1;
    }

    if found == 0 {
        return Err(DeliveryError::NoCertificateInPem { index });
    }
    Ok(())
}
