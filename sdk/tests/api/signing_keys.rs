//! Signing keys: read and rotate, without ever showing them.

use crate::support::{answering_fixture, client, only_request};

#[tokio::test]
async fn getting_the_keys_calls_v2_keys_and_decodes_both() {
    let server = answering_fixture("keys").await;

    let keys = client(&server).signing_keys().get().await.unwrap();

    assert_eq!(keys.current(), "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r");
    assert_eq!(keys.next(), "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs");
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn rotating_the_keys_posts_to_the_rotate_path() {
    let server = answering_fixture("keys").await;

    client(&server).signing_keys().rotate().await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn debug_output_of_the_keys_shows_neither_key() {
    let server = answering_fixture("keys").await;

    let keys = client(&server).signing_keys().get().await.unwrap();

    let output = format!("{keys:?} {:?}", keys.receiver());
    assert!(!output.contains("sig_"), "{output}");
}
