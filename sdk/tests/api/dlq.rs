//! The dead-letter queue: listing, streaming, deleting and retrying.

use futures_util::TryStreamExt;
use qstash_sdk::DlqFilter;
use time::macros::datetime;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    answering_empty, answering_fixture, client, fixture, only_request, received, shape,
};

#[tokio::test]
async fn listing_sends_the_filter_count_and_cursor_as_query_parameters() {
    let server = answering_fixture("dlq_page").await;
    let filter = DlqFilter::new()
        .message_id("msg_1")
        .url("https://example.com/a")
        .url("https://example.com/b")
        .url_group("workers")
        .schedule_id("scd_1")
        .queue_name("emails")
        .response_status(500)
        .response_status(503)
        .caller_ip("203.0.113.7")
        .label("billing")
        .flow_control_key("tenant-1")
        .from_date(datetime!(2024-09-03 0:00 UTC))
        .to_date(datetime!(2024-09-04 0:00 UTC));

    client(&server)
        .dlq()
        .list()
        .filter(filter)
        .count(25)
        .cursor("1725323658779-0")
        .send()
        .await
        .unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn a_dlq_page_decodes_its_entries_and_cursor() {
    let server = answering_fixture("dlq_page").await;

    let page = client(&server).dlq().list().send().await.unwrap();

    insta::assert_debug_snapshot!(page);
}

#[tokio::test]
async fn an_empty_cursor_marks_the_last_page_and_older_field_names_decode() {
    let server = answering_fixture("dlq_page_last").await;

    let page = client(&server).dlq().list().send().await.unwrap();

    assert_eq!(page.cursor, None);
    let entry = &page.messages[0];
    assert_eq!(entry.response_headers["X-Reason"], vec!["missing"]);
    assert_eq!(entry.message.retry_delay_expression.as_deref(), Some("500"));
    assert_eq!(entry.response_body_bytes(), Some(vec![0xff, 0x00]));
    assert_eq!(
        entry.message.not_before.map(|at| at.unix_timestamp()),
        Some(1_725_323_600)
    );
}

#[tokio::test]
async fn the_stream_walks_every_page_following_the_cursor() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/dlq"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("dlq_page")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/dlq"))
        .and(query_param("cursor", "1725323658779-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("dlq_page_last")))
        .mount(&server)
        .await;

    let entries: Vec<_> = client(&server)
        .dlq()
        .list()
        .filter(DlqFilter::new().label("billing"))
        .into_stream()
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<_> = entries.iter().map(|entry| entry.dlq_id.as_str()).collect();
    assert_eq!(ids, vec!["1725323658779-0", "1725323658779-1"]);
    let queries: Vec<_> = received(&server)
        .await
        .iter()
        .map(|request| shape(request)["query"].clone())
        .collect();
    insta::assert_json_snapshot!(queries);
}

#[tokio::test]
async fn the_stream_yields_an_error_when_a_page_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("dlq_page")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("cursor", "1725323658779-1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(fixture("error")))
        .mount(&server)
        .await;

    let results: Vec<_> =
        futures_util::StreamExt::collect(client(&server).dlq().list().into_stream()).await;

    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn getting_an_entry_calls_its_path_and_decodes_it() {
    let server = answering_fixture("dlq_message").await;

    let entry = client(&server).dlq().get("1725323658779-0").await.unwrap();

    assert_eq!(entry.dlq_id, "1725323658779-0");
    assert_eq!(entry.response_status, Some(503));
    assert_eq!(entry.response_headers["Retry-After"], vec!["10"]);
    assert_eq!(entry.message.message_id, "msg_failed_1");
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn deleting_an_entry_sends_a_delete_to_its_path() {
    let server = answering_empty().await;

    client(&server)
        .dlq()
        .delete("1725323658779-0")
        .await
        .unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn deleting_many_sends_the_ids_and_returns_the_count() {
    let server = answering_fixture("dlq_deleted").await;

    let deleted = client(&server)
        .dlq()
        .delete_many(["1725323658779-0", "1725323658779-1"])
        .await
        .unwrap();

    assert_eq!(deleted, 2);
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn deleting_an_empty_list_of_ids_is_refused_before_sending() {
    let server = answering_fixture("dlq_deleted").await;

    let err = client(&server)
        .dlq()
        .delete_many(Vec::<String>::new())
        .await
        .unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(err.to_string().contains("dlq ids"), "{err}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn deleting_with_an_empty_id_is_refused_before_sending() {
    let server = answering_empty().await;

    let err = client(&server).dlq().delete("").await.unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn deleting_all_follows_the_cursor_and_adds_up_the_counts() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"deleted": 100, "cursor": "c1"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(query_param("cursor", "c1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"deleted": 7, "cursor": ""})),
        )
        .mount(&server)
        .await;

    let deleted = client(&server).dlq().delete_all().await.unwrap();

    assert_eq!(deleted, 107);
    let targets: Vec<_> = received(&server)
        .await
        .iter()
        .map(|request| shape(request)["target"].clone())
        .collect();
    insta::assert_json_snapshot!(targets);
}

#[tokio::test]
async fn retrying_an_entry_returns_the_new_message_id() {
    let server = answering_fixture("dlq_retry").await;

    let retried = client(&server)
        .dlq()
        .retry("1725323658779-0")
        .await
        .unwrap();

    assert_eq!(retried.message_id, "msg_redriven");
    assert!(!retried.deduplicated);
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn retrying_many_returns_every_new_message_id() {
    let server = answering_fixture("dlq_retry_many").await;

    let retried = client(&server)
        .dlq()
        .retry_many(["1725323658779-0", "1725323658779-1"])
        .await
        .unwrap();

    let ids: Vec<_> = retried.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, vec!["msg_redriven_1", "msg_redriven_2"]);
    assert!(retried[1].deduplicated);
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn retrying_an_empty_list_of_ids_is_refused_before_sending() {
    let server = answering_fixture("dlq_retry_many").await;

    let err = client(&server)
        .dlq()
        .retry_many(Vec::<&str>::new())
        .await
        .unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}
