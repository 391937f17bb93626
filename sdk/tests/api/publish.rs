//! Publishing, enqueueing and batches.

use std::time::Duration;

use qstash_sdk::{
    BatchOutcome, Callback, Destination, FlowControl, Method, PublishRequest, PublishResponse,
};
use time::macros::datetime;

use crate::support::{answering_fixture, client, only_request, received, target};

#[tokio::test]
async fn publishing_with_every_setting_sends_each_publish_header() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("https://example.com/jobs?kind=daily"))
        .body("plain body")
        .content_type("text/plain")
        .method(Method::PUT)
        .retries(5)
        .retry_delay("pow(2, retried) * 1000")
        .delay(Duration::from_secs(90))
        .not_before(datetime!(2030-01-01 0:00 UTC))
        .timeout(Duration::from_secs(20))
        .header("Authorization", "Bearer for-the-destination")
        .header("X-Tenant", "42")
        .deduplication_id("job-7")
        .content_based_deduplication()
        .flow_control(
            FlowControl::new("tenant-42")
                .parallelism(2)
                .rate(10)
                .period(Duration::from_secs(60)),
        )
        .label("billing")
        .label("nightly");

    client(&server).publish(request).await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn callbacks_carry_their_forwarded_headers_and_settings() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("https://example.com/jobs"))
        .callback(
            Callback::new("https://example.com/callback")
                .header("X-Callback-Secret", "c")
                .method(Method::PUT)
                .timeout(Duration::from_secs(10))
                .retries(1)
                .retry_delay("500")
                .delay(Duration::from_secs(5)),
        )
        .failure_callback(
            Callback::new("https://example.com/failed")
                .header("X-Failure-Secret", "f")
                .retries(0),
        );

    client(&server).publish(request).await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn the_destination_url_goes_into_the_path_unencoded() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("https://example.com/x?a=b&c=%2F"));

    client(&server).publish(request).await.unwrap();

    let requests = received(&server).await;
    assert_eq!(
        target(&requests[0]),
        "/v2/publish/https://example.com/x?a=b&c=%2F"
    );
}

#[tokio::test]
async fn a_json_body_is_serialized_with_its_content_type() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("https://example.com/jobs"))
        .json(&serde_json::json!({ "job": "resize", "id": 7 }));

    client(&server).publish(request).await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn enqueueing_puts_the_queue_and_then_the_destination_in_the_path() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("https://example.com/jobs"))
        .queue("emails")
        .body("hi");

    client(&server).publish(request).await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn publishing_to_a_url_group_puts_the_group_name_in_the_path() {
    let server = answering_fixture("publish_url_group").await;
    let request = PublishRequest::new(Destination::url_group("workers"));

    client(&server).publish(request).await.unwrap();

    let requests = received(&server).await;
    assert_eq!(target(&requests[0]), "/v2/publish/workers");
}

#[tokio::test]
async fn a_url_answer_decodes_into_one_message() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("https://example.com/jobs?kind=daily"));

    let published = client(&server).publish(request).await.unwrap();

    let PublishResponse::Url(message) = published else {
        panic!("expected a single message, got {published:?}");
    };
    assert_eq!(
        message.message_id,
        "msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep"
    );
    assert_eq!(
        message.url.as_deref(),
        Some("https://example.com/jobs?kind=daily")
    );
    assert!(!message.deduplicated);
}

#[tokio::test]
async fn a_duplicate_publish_is_reported_as_deduplicated() {
    let server = answering_fixture("publish_url_deduplicated").await;
    let request = PublishRequest::new(Destination::url("https://example.com/jobs"));

    let published = client(&server).publish(request).await.unwrap();

    assert!(published.messages()[0].deduplicated);
}

#[tokio::test]
async fn a_url_group_answer_as_a_bare_array_gives_one_message_per_endpoint() {
    let server = answering_fixture("publish_url_group").await;
    let request = PublishRequest::new(Destination::url_group("workers"));

    let published = client(&server).publish(request).await.unwrap();

    insta::assert_debug_snapshot!(published);
}

#[tokio::test]
async fn a_url_group_answer_wrapped_in_messages_gives_the_same_result() {
    let server = answering_fixture("publish_url_group_wrapped").await;
    let request = PublishRequest::new(Destination::url_group("workers"));

    let published = client(&server).publish(request).await.unwrap();

    assert!(matches!(published, PublishResponse::UrlGroup(_)));
    assert_eq!(published.message_ids(), vec!["msg_first", "msg_second"]);
}

#[tokio::test]
async fn a_batch_sends_one_item_per_request_with_its_headers_and_queue() {
    let server = answering_fixture("batch").await;
    let requests = [
        PublishRequest::new(Destination::url("https://example.com/a"))
            .body("one")
            .retries(1)
            .header("X-Tenant", "42"),
        PublishRequest::new(Destination::url_group("workers"))
            .json(&serde_json::json!({ "two": 2 })),
        PublishRequest::new(Destination::url("https://example.com/b"))
            .queue("slow")
            .delay(Duration::from_secs(5)),
    ];

    client(&server).batch(requests).await.unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn a_batch_answer_mixes_single_group_and_rejected_items() {
    let server = answering_fixture("batch").await;
    let requests = [
        PublishRequest::new(Destination::url("https://example.com/a")),
        PublishRequest::new(Destination::url_group("workers")),
        PublishRequest::new(Destination::url("https://example.com/c")),
    ];

    let outcomes = client(&server).batch(requests).await.unwrap();

    insta::assert_debug_snapshot!(outcomes);
    assert!(
        matches!(&outcomes[2], BatchOutcome::Rejected { error } if error == "invalid destination")
    );
}

#[tokio::test]
async fn an_empty_batch_is_refused_before_sending() {
    let server = answering_fixture("batch").await;

    let err = client(&server).batch(Vec::new()).await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_batch_item_with_a_binary_body_is_refused_before_sending() {
    let server = answering_fixture("batch").await;
    let request =
        PublishRequest::new(Destination::url("https://example.com/a")).body(vec![0xff, 0x00]);

    let err = client(&server).batch([request]).await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_destination_without_a_scheme_is_refused_before_sending() {
    let server = answering_fixture("publish_url").await;
    let request = PublishRequest::new(Destination::url("example.com/jobs"));

    let err = client(&server).publish(request).await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_forwarded_header_with_an_invalid_name_is_refused_before_sending() {
    let server = answering_fixture("publish_url").await;
    let request =
        PublishRequest::new(Destination::url("https://example.com/jobs")).header("Bad Name", "x");

    let err = client(&server).publish(request).await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_body_that_cannot_be_serialized_is_refused_before_sending() {
    let server = answering_fixture("publish_url").await;
    let mut not_json = std::collections::HashMap::new();
    not_json.insert((1, 2), "tuple keys are not JSON object keys");
    let request = PublishRequest::new(Destination::url("https://example.com/jobs")).json(&not_json);

    let err = client(&server).publish(request).await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}
