//! The ways setting up delivery can fail.

/// Why a [`Deliverer`](super::Deliverer) or a [`HostMapping`](super::HostMapping) could
/// not be built.
///
/// Failed attempts are not errors of this kind: [`Deliverer::send`](super::Deliverer::send)
/// reports them as an [`AttemptOutcome`](crate::engine::AttemptOutcome).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// An entry of `extra_root_certs_pem` is not readable PEM.
    #[error("extra_root_certs_pem[{index}] is not valid PEM: {cause}")]
    UnreadablePem {
        /// The position of the entry in `extra_root_certs_pem`.
        index: usize,
        /// What the PEM reader objected to.
        cause: std::io::Error,
    },
    /// An entry of `extra_root_certs_pem` holds no `CERTIFICATE` block.
    #[error("extra_root_certs_pem[{index}] contains no PEM CERTIFICATE block")]
    NoCertificateInPem {
        /// The position of the entry in `extra_root_certs_pem`.
        index: usize,
    },
    /// A certificate in `extra_root_certs_pem` cannot serve as a trust anchor.
    #[error(
        "certificate {position} of extra_root_certs_pem[{index}] is not a usable root: {cause}"
    )]
    InvalidRootCertificate {
        /// The position of the entry in `extra_root_certs_pem`.
        index: usize,
        /// The position of the certificate within that entry, counting from 0.
        position: usize,
        /// Why rustls refused it.
        cause: rustls::Error,
    },
    /// The TLS client configuration could not be built.
    #[error("the TLS client configuration could not be built: {cause}")]
    TlsConfig {
        /// Why rustls refused it.
        cause: rustls::Error,
    },
    /// A host mapping is not of the form `HOST=ADDR`.
    #[error("invalid host mapping `{input}`: {problem}")]
    InvalidHostMapping {
        /// The text that was parsed.
        input: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}
