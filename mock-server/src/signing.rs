//! Request signing: the `Upstash-Signature` JWT that lets a destination check that a
//! delivery came from QStash and that its body was not changed on the way.
//!
//! Everything here is pure: the caller passes the key, the time and the token ID, so the
//! same inputs always give the same token.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The issuer QStash writes into every signature.
const ISSUER: &str = "Upstash";

/// How long a signature stays valid after it is issued, in seconds.
const LIFETIME_SECS: u64 = 300;

/// The JOSE header of every token, written out in the order QStash uses.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The block size of SHA-256, which HMAC pads its key to.
const SHA256_BLOCK_LEN: usize = 64;

/// Hashes a request body the way the signature's `body` claim expects.
///
/// The result is the SHA-256 digest of the raw bytes, encoded as base64 with the
/// URL-safe alphabet and with `=` padding kept, so an empty body hashes to
/// `47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=`.
///
/// ```
/// use qstash_mock::signing::body_hash;
///
/// assert_eq!(body_hash(b""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
/// ```
#[must_use]
pub fn body_hash(body: &[u8]) -> String {
    URL_SAFE.encode(Sha256::digest(body))
}

/// The claims carried by an `Upstash-Signature` token.
///
/// Field names are the JWT claim names, so the struct serialises to (and deserialises
/// from) the token's payload as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureClaims {
    /// The issuer, always `Upstash`.
    pub iss: String,
    /// The destination URL exactly as published, query string included.
    pub sub: String,
    /// Expiry, in Unix seconds: five minutes after `iat`.
    pub exp: u64,
    /// Not-before, in Unix seconds. Always `0`, as QStash does since September 2024, so
    /// a receiver whose clock differs from the issuer's never rejects a fresh token.
    pub nbf: u64,
    /// Issue time, in Unix seconds.
    pub iat: u64,
    /// A unique token ID.
    pub jti: String,
    /// The body hash produced by [`body_hash`].
    pub body: String,
}

impl SignatureClaims {
    /// Builds the claims for one delivery of `body` to `url` at `now_secs`.
    ///
    /// The expiry is `now_secs + 300` and `nbf` is always `0`; see the field docs.
    #[must_use]
    pub fn for_delivery(url: &str, body: &[u8], now_secs: u64, jti: &str) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            sub: url.to_owned(),
            exp: now_secs.saturating_add(LIFETIME_SECS),
            nbf: 0,
            iat: now_secs,
            jti: jti.to_owned(),
            body: body_hash(body),
        }
    }

    /// Writes the claims as a compact JSON object, fields in declaration order.
    ///
    /// Written by hand rather than through `serde_json::to_vec`, whose `Result` can never
    /// be an error for these field types; this keeps signing free of panicking paths.
    fn to_json(&self) -> String {
        format!(
            r#"{{"iss":{},"sub":{},"exp":{},"nbf":{},"iat":{},"jti":{},"body":{}}}"#,
            json_string(&self.iss),
            json_string(&self.sub),
            self.exp,
            self.nbf,
            self.iat,
            json_string(&self.jti),
            json_string(&self.body),
        )
    }
}

/// Signs one delivery and returns the compact JWT for the `Upstash-Signature` header.
///
/// The token is HS256 with the header `{"alg":"HS256","typ":"JWT"}`. The HMAC key is the
/// UTF-8 bytes of `signing_key` itself (for example `sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r`);
/// it is not base64-decoded first, matching the official receivers. The claims are those
/// of [`SignatureClaims::for_delivery`].
///
/// ```
/// use qstash_mock::signing::sign_delivery;
///
/// let url = "https://example.com/hook";
/// let token = sign_delivery("sig_current", url, b"{}", 1_700_000_000, "jwt_1");
/// assert_eq!(token.split('.').count(), 3);
/// ```
#[must_use]
pub fn sign_delivery(
    signing_key: &str,
    url: &str,
    body: &[u8],
    now_secs: u64,
    jti: &str,
) -> String {
    sign_claims(
        signing_key,
        &SignatureClaims::for_delivery(url, body, now_secs, jti),
    )
}

/// Signs the given claims as a compact HS256 JWT, the HMAC key being the UTF-8 bytes of
/// `signing_key`. [`sign_delivery`] is this with the claims of one delivery.
///
/// ```
/// use qstash_mock::signing::{sign_claims, SignatureClaims};
///
/// let mut claims = SignatureClaims::for_delivery("https://example.com/", b"", 100, "jwt_1");
/// claims.exp = 1_000;
/// assert_eq!(sign_claims("sig_current", &claims).split('.').count(), 3);
/// ```
#[must_use]
pub fn sign_claims(signing_key: &str, claims: &SignatureClaims) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER_JSON),
        URL_SAFE_NO_PAD.encode(claims.to_json()),
    );

    let signature = hmac_sha256(signing_key.as_bytes(), signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Encodes `value` as a JSON string literal, quotes and escapes included.
fn json_string(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// Computes HMAC-SHA256 (RFC 2104) of `message` under `key`.
///
/// Built on `sha2` because every HMAC API at hand returns a `Result` that cannot be an
/// error for HS256; the unit tests check it against RFC 4231 and against `jsonwebtoken`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // Keys longer than a block are hashed first; shorter ones are padded with zeros.
    let mut block = [0u8; SHA256_BLOCK_LEN];
    if key.len() > SHA256_BLOCK_LEN {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }

    let inner_pad = block.map(|byte| byte ^ 0x36);
    let outer_pad = block.map(|byte| byte ^ 0x5c);
    let inner = Sha256::new()
        .chain_update(inner_pad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(outer_pad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

    const KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
    const NOW: u64 = 1_700_000_000;

    fn decode_with(key: &str, token: &str) -> jsonwebtoken::errors::Result<SignatureClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // The token is issued at a fixed past time, so expiry is checked by hand below.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["iss", "sub", "exp", "nbf"]);
        validation.set_issuer(&["Upstash"]);
        let key = DecodingKey::from_secret(key.as_bytes());
        decode::<SignatureClaims>(token, &key, &validation).map(|data| data.claims)
    }

    #[test]
    fn an_empty_body_hashes_to_the_documented_value() {
        let hash = body_hash(b"");

        assert_eq!(hash, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn a_body_hash_uses_the_url_safe_alphabet_with_padding() {
        // This body's digest contains both characters that differ between the alphabets.
        let body = b"{\"n\":1}";

        let hash = body_hash(body);

        assert_eq!(hash, "K_0U9D0X_HzqJOCReoh5tLL4gLi67sG52Q-6rWVecb0=");
    }

    #[test]
    fn a_signed_token_decodes_with_the_key_bytes_and_carries_every_claim() {
        let url = "https://example.com/hook?x=1&y=two";
        let body = b"{\"order\":42}";

        let token = sign_delivery(KEY, url, body, NOW, "jwt_abc");

        let claims = decode_with(KEY, &token).expect("token verifies with the signing key");
        let expected = SignatureClaims {
            iss: "Upstash".to_owned(),
            sub: url.to_owned(),
            exp: NOW + 300,
            nbf: 0,
            iat: NOW,
            jti: "jwt_abc".to_owned(),
            body: body_hash(body),
        };
        assert_eq!(claims, expected);
    }

    #[test]
    fn a_signed_token_has_the_hs256_jwt_header_in_qstash_order() {
        let token = sign_delivery(KEY, "https://example.com/", b"", NOW, "jwt_1");

        let header = decode_header(&token).expect("header decodes");
        let raw_header = token.split('.').next().expect("token has a header segment");
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(
            URL_SAFE_NO_PAD.decode(raw_header).unwrap(),
            HEADER_JSON.as_bytes()
        );
    }

    #[test]
    fn a_token_signed_with_one_key_fails_verification_with_another() {
        let token = sign_delivery(KEY, "https://example.com/", b"x", NOW, "jwt_1");

        let result = decode_with("sig_some_other_key", &token);

        let error = result.expect_err("a different key must not verify the token");
        assert_eq!(
            error.kind(),
            &jsonwebtoken::errors::ErrorKind::InvalidSignature
        );
    }

    #[test]
    fn claims_with_characters_that_need_json_escaping_survive_a_round_trip() {
        let url = "https://example.com/a\"b\\c?q=\u{e9}\n";

        let token = sign_delivery(KEY, url, b"", NOW, "jwt_\"quoted\"");

        let claims = decode_with(KEY, &token).expect("token verifies");
        assert_eq!(claims.sub, url);
        assert_eq!(claims.jti, "jwt_\"quoted\"");
    }

    #[test]
    fn the_same_inputs_always_give_the_same_token() {
        let first = sign_delivery(KEY, "https://example.com/", b"body", NOW, "jwt_1");

        let second = sign_delivery(KEY, "https://example.com/", b"body", NOW, "jwt_1");

        assert_eq!(first, second);
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_vectors() {
        let long_key = [0xaa_u8; 131];

        let short = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let long = hmac_sha256(
            &long_key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );

        assert_eq!(
            hex(&short),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&long),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}
