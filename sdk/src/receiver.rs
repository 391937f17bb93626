//! Verifying the `Upstash-Signature` header on requests QStash delivers.
//!
//! The header is an HS256 JWT keyed with the UTF-8 bytes of a signing key.
//! Its claims name the issuer (`Upstash`), the URL it was sent to (`sub`),
//! its validity window (`nbf`, `exp`) and the base64url SHA-256 of the raw
//! body (`body`).

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The only issuer QStash signs as.
const ISSUER: &str = "Upstash";

/// Verifies that a request came from QStash.
///
/// The signature is checked with the current key, then with the next key,
/// so deliveries keep verifying across a key rotation. Verify against the
/// raw body bytes: parsing and re-serializing JSON changes the hash.
///
/// The keys are secrets: `Debug` shows neither.
///
/// ```
/// use std::time::Duration;
/// use qstash_sdk::Receiver;
///
/// let receiver = Receiver::new("sig_current", "sig_next").clock_tolerance(Duration::from_secs(5));
/// let result = receiver.verify("not-a-jwt", b"{}", Some("https://example.com/hook"));
/// assert!(result.is_err());
/// ```
#[derive(Clone)]
#[must_use]
pub struct Receiver {
    current_key: String,
    next_key: String,
    clock_tolerance: Duration,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("current_key", &"<redacted>")
            .field("next_key", &"<redacted>")
            .field("clock_tolerance", &self.clock_tolerance)
            .finish()
    }
}

impl Receiver {
    /// A receiver with both signing keys and no clock tolerance.
    ///
    /// ```
    /// let receiver = qstash_sdk::Receiver::new("sig_current", "sig_next");
    /// ```
    pub fn new(current_key: impl Into<String>, next_key: impl Into<String>) -> Self {
        Receiver {
            current_key: current_key.into(),
            next_key: next_key.into(),
            clock_tolerance: Duration::ZERO,
        }
    }

    /// A receiver with the keys in `QSTASH_CURRENT_SIGNING_KEY` and
    /// `QSTASH_NEXT_SIGNING_KEY`.
    ///
    /// # Errors
    ///
    /// A configuration error when either variable is missing or empty.
    ///
    /// ```no_run
    /// let receiver = qstash_sdk::Receiver::from_env()?;
    /// # Ok::<(), qstash_sdk::Error>(())
    /// ```
    pub fn from_env() -> Result<Self> {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .ok_or_else(|| Error::config(format!("{name} is not set")))
        };
        Ok(Receiver::new(
            read("QSTASH_CURRENT_SIGNING_KEY")?,
            read("QSTASH_NEXT_SIGNING_KEY")?,
        ))
    }

    /// How far the token's validity window may be off from this machine's
    /// clock. Whole seconds count; the default is none.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let receiver = qstash_sdk::Receiver::new("a", "b").clock_tolerance(Duration::from_secs(30));
    /// ```
    pub fn clock_tolerance(mut self, tolerance: impl Into<Duration>) -> Self {
        self.clock_tolerance = tolerance.into();
        self
    }

    /// Verifies an `Upstash-Signature` header value against the raw body
    /// and, when given, the URL the request was sent to.
    ///
    /// The URL must equal the token's `sub` exactly, query string included.
    /// On success the token's claims are returned.
    ///
    /// # Errors
    ///
    /// A [`VerifyError`] whose [`failure`](VerifyError::failure) names the
    /// check that failed.
    ///
    /// ```no_run
    /// # fn handle(signature: &str, body: &[u8]) -> Result<(), qstash_sdk::VerifyError> {
    /// let receiver = qstash_sdk::Receiver::new("sig_current", "sig_next");
    /// let claims = receiver.verify(signature, body, Some("https://example.com/hook"))?;
    /// println!("verified token {:?}", claims.jwt_id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn verify(
        &self,
        signature: &str,
        body: &[u8],
        url: Option<&str>,
    ) -> Result<SignatureClaims, VerifyError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs())
            .unwrap_or_default();
        self.verify_at(signature, body, url, i64::try_from(now).unwrap_or(i64::MAX))
    }

    /// [`verify`](Receiver::verify) with the current time given, in unix
    /// seconds.
    fn verify_at(
        &self,
        signature: &str,
        body: &[u8],
        url: Option<&str>,
        now: i64,
    ) -> Result<SignatureClaims, VerifyError> {
        let claims = self.decode(signature)?;
        let tolerance = i64::try_from(self.clock_tolerance.as_secs()).unwrap_or(i64::MAX);

        if claims.iss.as_deref() != Some(ISSUER) {
            return Err(VerifyError::new(VerifyFailure::WrongIssuer));
        }
        let Some(exp) = claims.exp else {
            return Err(VerifyError::new(VerifyFailure::Malformed));
        };
        if exp <= now.saturating_sub(tolerance) {
            return Err(VerifyError::new(VerifyFailure::Expired));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(tolerance))
        {
            return Err(VerifyError::new(VerifyFailure::NotYetValid));
        }
        if let Some(url) = url {
            if claims.sub.as_deref() != Some(url) {
                return Err(VerifyError::new(VerifyFailure::UrlMismatch));
            }
        }
        let expected = claims.body.as_deref().unwrap_or_default();
        if expected.trim_end_matches('=') != body_hash(body) {
            return Err(VerifyError::new(VerifyFailure::BodyMismatch));
        }

        Ok(SignatureClaims::from(claims))
    }

    /// Checks the HMAC with the current key, then the next key.
    fn decode(&self, token: &str) -> Result<RawClaims, VerifyError> {
        // The time and subject checks are done by hand afterwards, so that
        // each failure can be told apart.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();

        let mut failure = VerifyFailure::InvalidSignature;
        for key in [&self.current_key, &self.next_key] {
            let key = DecodingKey::from_secret(key.as_bytes());
            match jsonwebtoken::decode::<RawClaims>(token, &key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(err) if matches!(err.kind(), JwtErrorKind::InvalidSignature) => {}
                Err(err) => {
                    tracing::trace!(target: "qstash_sdk::receiver", cause = %err, "token rejected");
                    failure = VerifyFailure::Malformed;
                }
            }
        }
        Err(VerifyError::new(failure))
    }
}

/// The base64url SHA-256 of a body, without padding.
fn body_hash(body: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(body))
}

#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

/// The claims of a verified signature.
///
/// ```no_run
/// # fn run(signature: &str, body: &[u8]) -> Result<(), qstash_sdk::VerifyError> {
/// let receiver = qstash_sdk::Receiver::new("sig_current", "sig_next");
/// let claims = receiver.verify(signature, body, None)?;
/// println!("sent to {:?}", claims.subject);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureClaims {
    /// The URL the request was sent to (`sub`).
    pub subject: Option<String>,
    /// When the token expires, in unix seconds (`exp`).
    pub expires_at: i64,
    /// When the token becomes valid, in unix seconds (`nbf`).
    pub not_before: Option<i64>,
    /// When the token was issued, in unix seconds (`iat`).
    pub issued_at: Option<i64>,
    /// The token's unique id (`jti`).
    pub jwt_id: Option<String>,
}

impl From<RawClaims> for SignatureClaims {
    fn from(raw: RawClaims) -> Self {
        SignatureClaims {
            subject: raw.sub,
            expires_at: raw.exp.unwrap_or_default(),
            not_before: raw.nbf,
            issued_at: raw.iat,
            jwt_id: raw.jti,
        }
    }
}

/// The check a signature failed.
///
/// ```
/// use qstash_sdk::{Receiver, VerifyFailure};
///
/// let err = Receiver::new("a", "b").verify("garbage", b"", None).unwrap_err();
/// assert_eq!(err.failure(), VerifyFailure::Malformed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// The header is not an HS256 JWT with readable claims, or lacks `exp`.
    Malformed,
    /// Neither the current nor the next key produced the signature.
    InvalidSignature,
    /// The issuer is not `Upstash`.
    WrongIssuer,
    /// The token expired, beyond the clock tolerance.
    Expired,
    /// The token is not valid yet, beyond the clock tolerance.
    NotYetValid,
    /// The token was issued for another URL.
    UrlMismatch,
    /// The body's hash differs from the token's `body` claim.
    BodyMismatch,
}

/// Why a signature was refused.
///
/// ```
/// let err = qstash_sdk::Receiver::new("a", "b").verify("x.y.z", b"", None).unwrap_err();
/// println!("{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    failure: VerifyFailure,
}

impl VerifyError {
    fn new(failure: VerifyFailure) -> Self {
        VerifyError { failure }
    }

    /// The check that failed.
    ///
    /// ```
    /// use qstash_sdk::{Receiver, VerifyFailure};
    ///
    /// let err = Receiver::new("a", "b").verify("garbage", b"", None).unwrap_err();
    /// assert_eq!(err.failure(), VerifyFailure::Malformed);
    /// ```
    pub fn failure(&self) -> VerifyFailure {
        self.failure
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = match self.failure {
            VerifyFailure::Malformed => "the signature is not a well-formed QStash token",
            VerifyFailure::InvalidSignature => "the signature matches neither signing key",
            VerifyFailure::WrongIssuer => "the token was not issued by Upstash",
            VerifyFailure::Expired => "the token has expired",
            VerifyFailure::NotYetValid => "the token is not valid yet",
            VerifyFailure::UrlMismatch => "the token was issued for another URL",
            VerifyFailure::BodyMismatch => "the body does not match the token's hash",
        };
        write!(f, "signature verification failed: {reason}")
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_an_empty_body_matches_the_documented_value() {
        let hash = body_hash(b"");

        assert_eq!(hash, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    }

    #[test]
    fn debug_output_of_a_receiver_hides_both_keys() {
        let receiver = Receiver::new("sig_secret_current", "sig_secret_next");

        let output = format!("{receiver:?}");

        assert!(!output.contains("secret"), "{output}");
    }
}
