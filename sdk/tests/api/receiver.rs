//! Signature verification, with tokens signed here the way QStash signs them.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine as _;
use jsonwebtoken::{encode, EncodingKey, Header};
use qstash_sdk::{Receiver, VerifyFailure};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

const CURRENT_KEY: &str = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r";
const NEXT_KEY: &str = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs";
const URL: &str = "https://example.com/jobs?kind=daily";
const BODY: &[u8] = br#"{"job":7}"#;

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims as QStash sends them: padded base64url body hash, five minutes
/// of validity.
fn claims(body: &[u8]) -> Value {
    let issued = now();
    json!({
        "iss": "Upstash",
        "sub": URL,
        "exp": issued + 300,
        "nbf": issued,
        "iat": issued,
        "jti": "jwt_67kxXD6UBAk7DqU6hzuHMDdXFXfP",
        "body": URL_SAFE.encode(Sha256::digest(body)),
    })
}

fn sign(claims: &Value, key: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

fn receiver() -> Receiver {
    Receiver::new(CURRENT_KEY, NEXT_KEY)
}

fn failure(token: &str, body: &[u8], url: Option<&str>) -> VerifyFailure {
    receiver().verify(token, body, url).unwrap_err().failure()
}

#[test]
fn a_token_signed_with_the_current_key_verifies() {
    let token = sign(&claims(BODY), CURRENT_KEY);

    let verified = receiver().verify(&token, BODY, Some(URL)).unwrap();

    assert_eq!(verified.subject.as_deref(), Some(URL));
    assert_eq!(
        verified.jwt_id.as_deref(),
        Some("jwt_67kxXD6UBAk7DqU6hzuHMDdXFXfP")
    );
}

#[test]
fn a_token_signed_with_the_next_key_verifies_after_the_current_key_fails() {
    let token = sign(&claims(BODY), NEXT_KEY);

    let result = receiver().verify(&token, BODY, Some(URL));

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_token_signed_with_neither_key_is_an_invalid_signature() {
    let token = sign(&claims(BODY), "sig_someone_else");

    let failed = failure(&token, BODY, Some(URL));

    assert_eq!(failed, VerifyFailure::InvalidSignature);
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let mut claims = claims(BODY);
    claims["iss"] = json!("Somebody");
    let token = sign(&claims, CURRENT_KEY);

    let failed = failure(&token, BODY, Some(URL));

    assert_eq!(failed, VerifyFailure::WrongIssuer);
}

#[test]
fn a_token_expired_beyond_the_tolerance_is_refused() {
    let mut claims = claims(BODY);
    claims["exp"] = json!(now() - 60);
    let token = sign(&claims, CURRENT_KEY);
    let receiver = receiver().clock_tolerance(Duration::from_secs(30));

    let failed = receiver
        .verify(&token, BODY, Some(URL))
        .unwrap_err()
        .failure();

    assert_eq!(failed, VerifyFailure::Expired);
}

#[test]
fn a_token_expired_within_the_tolerance_still_verifies() {
    let mut claims = claims(BODY);
    claims["exp"] = json!(now() - 5);
    let token = sign(&claims, CURRENT_KEY);
    let receiver = receiver().clock_tolerance(Duration::from_secs(60));

    let result = receiver.verify(&token, BODY, Some(URL));

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_token_not_valid_yet_is_refused() {
    let mut claims = claims(BODY);
    claims["nbf"] = json!(now() + 120);
    let token = sign(&claims, CURRENT_KEY);
    let receiver = receiver().clock_tolerance(Duration::from_secs(10));

    let failed = receiver
        .verify(&token, BODY, Some(URL))
        .unwrap_err()
        .failure();

    assert_eq!(failed, VerifyFailure::NotYetValid);
}

#[test]
fn a_token_for_another_url_is_refused() {
    let token = sign(&claims(BODY), CURRENT_KEY);

    let failed = failure(&token, BODY, Some("https://example.com/jobs"));

    assert_eq!(failed, VerifyFailure::UrlMismatch);
}

#[test]
fn without_a_url_the_subject_is_not_checked() {
    let token = sign(&claims(BODY), CURRENT_KEY);

    let result = receiver().verify(&token, BODY, None);

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_changed_body_is_refused() {
    let token = sign(&claims(BODY), CURRENT_KEY);

    let failed = failure(&token, br#"{"job": 7}"#, Some(URL));

    assert_eq!(failed, VerifyFailure::BodyMismatch);
}

#[test]
fn a_body_hash_without_padding_verifies_too() {
    let mut claims = claims(BODY);
    let padded = claims["body"].as_str().unwrap().to_owned();
    claims["body"] = json!(padded.trim_end_matches('='));
    let token = sign(&claims, CURRENT_KEY);

    let result = receiver().verify(&token, BODY, Some(URL));

    assert!(padded.ends_with('='));
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn an_empty_body_verifies_against_its_hash() {
    let token = sign(&claims(b""), CURRENT_KEY);

    let result = receiver().verify(&token, b"", Some(URL));

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_value_that_is_not_a_jwt_is_malformed() {
    let failed = failure("definitely-not-a-jwt", BODY, Some(URL));

    assert_eq!(failed, VerifyFailure::Malformed);
}

#[test]
fn the_error_message_names_the_failed_check() {
    let token = sign(&claims(BODY), CURRENT_KEY);

    let err = receiver().verify(&token, b"other", Some(URL)).unwrap_err();

    assert_eq!(
        err.to_string(),
        "signature verification failed: the body does not match the token's hash"
    );
}
