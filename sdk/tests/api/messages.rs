//! Getting and cancelling messages.

use wiremock::ResponseTemplate;

use crate::support::{
    answering, answering_empty, answering_fixture, client, only_request, received,
};

#[tokio::test]
async fn getting_a_message_calls_its_path() {
    let server = answering_fixture("message").await;

    client(&server).messages().get("msg_123").await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn a_message_decodes_with_every_field() {
    let server = answering_fixture("message").await;

    let message = client(&server).messages().get("msg_123").await.unwrap();

    insta::assert_debug_snapshot!(message);
}

#[tokio::test]
async fn a_message_with_string_timestamps_and_older_field_names_decodes() {
    let server = answering_fixture("message_older_fields").await;

    let message = client(&server).messages().get("msg_456").await.unwrap();

    assert_eq!(message.retry_delay_expression.as_deref(), Some("1000"));
    assert_eq!(message.max_retries, Some(5));
    assert_eq!(
        message
            .created_at
            .map(|at| at.unix_timestamp_nanos() / 1_000_000),
        Some(1_701_198_400_000)
    );
    assert_eq!(message.caller_ip.as_deref(), Some("198.51.100.1"));
    assert_eq!(message.labels, vec!["legacy"]);
    assert_eq!(message.rate, Some(3));
    assert_eq!(message.period, Some(std::time::Duration::from_secs(60)));
    assert_eq!(message.header["Content-Type"], vec!["text/plain"]);
    assert_eq!(message.body_bytes(), Some(vec![0, 1, 2, 255]));
}

#[tokio::test]
async fn cancelling_a_message_sends_a_delete_to_its_path() {
    let server =
        answering(ResponseTemplate::new(200).set_body_json(serde_json::json!({"cancelled": 1})))
            .await;

    client(&server).messages().cancel("msg_123").await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn cancelling_a_message_accepts_the_older_plain_text_answer() {
    let server = answering(ResponseTemplate::new(202).set_body_string("OK")).await;

    let result = client(&server).messages().cancel("msg_123").await;

    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn cancelling_many_sends_the_ids_as_repeated_query_parameters() {
    let server = answering_fixture("cancelled").await;

    let cancelled = client(&server)
        .messages()
        .cancel_many(["msg_1", "msg_2", "msg_3"])
        .await
        .unwrap();

    assert_eq!(cancelled, 3);
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn cancelling_an_empty_list_of_ids_is_refused_before_sending() {
    let server = answering_fixture("cancelled").await;

    let err = client(&server)
        .messages()
        .cancel_many(Vec::<String>::new())
        .await
        .unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn cancelling_with_an_empty_id_is_refused_before_sending() {
    let server = answering_empty().await;

    let err = client(&server).messages().cancel("").await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn cancelling_all_sends_a_delete_without_ids() {
    let server = answering_fixture("cancelled").await;

    let cancelled = client(&server).messages().cancel_all().await.unwrap();

    assert_eq!(cancelled, 3);
    insta::assert_json_snapshot!(only_request(&server).await);
}
