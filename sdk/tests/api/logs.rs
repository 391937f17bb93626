//! Logs: filters, both answer keys, both cancelled spellings, paging.

use futures_util::TryStreamExt;
use qstash_sdk::{LogFilter, LogState};
use time::macros::datetime;
use wiremock::matchers::{path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{answering_fixture, client, fixture, only_request, received};

#[tokio::test]
async fn listing_calls_v2_events_with_the_filter_count_and_cursor() {
    let server = answering_fixture("logs_events").await;
    let filter = LogFilter::new()
        .message_id("msg_1")
        .state(LogState::Cancelled)
        .url("https://example.com/jobs")
        .url_group("workers")
        .schedule_id("scd_1")
        .queue_name("emails")
        .label("billing")
        .flow_control_key("tenant-1")
        .from_date(datetime!(2023-06-13 0:00 UTC))
        .to_date(datetime!(2023-06-14 0:00 UTC));

    client(&server)
        .logs()
        .list()
        .filter(filter)
        .count(50)
        .cursor("1686652644442-11")
        .send()
        .await
        .unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn logs_under_the_events_key_decode() {
    let server = answering_fixture("logs_events").await;

    let page = client(&server).logs().list().send().await.unwrap();

    insta::assert_debug_snapshot!(page);
}

#[tokio::test]
async fn the_events_answer_reads_responseheader_retrydelayexpr_and_canceled() {
    let server = answering_fixture("logs_events").await;

    let page = client(&server).logs().list().send().await.unwrap();

    let error = &page.logs[0];
    assert_eq!(error.state, LogState::Error);
    assert_eq!(error.response_headers["Content-Type"], vec!["text/plain"]);
    assert_eq!(error.retry_delay_expression.as_deref(), Some("1000"));
    assert_eq!(error.timeout, Some(std::time::Duration::from_secs(30)));
    assert_eq!(error.body_bytes(), Some(br#"{"job":1}"#.to_vec()));
    assert_eq!(error.response_body_bytes(), Some(b"oops".to_vec()));
    assert_eq!(page.logs[1].state, LogState::Cancelled);
    assert_eq!(page.cursor.as_deref(), Some("1686652644442-12"));
}

#[tokio::test]
async fn logs_under_the_logs_key_decode_with_the_other_spellings() {
    let server = answering_fixture("logs_logs").await;

    let page = client(&server).logs().list().send().await.unwrap();

    let cancelled = &page.logs[0];
    assert_eq!(cancelled.state, LogState::Cancelled);
    assert_eq!(cancelled.response_headers["X-Reason"], vec!["cancelled"]);
    assert_eq!(
        cancelled.retry_delay_expression.as_deref(),
        Some("pow(2, retried) * 1000")
    );
    assert_eq!(
        cancelled
            .time
            .map(|at| at.unix_timestamp_nanos() / 1_000_000),
        Some(1_686_652_644_442)
    );
    assert_eq!(cancelled.labels, vec!["nightly"]);
    assert_eq!(cancelled.period, Some(std::time::Duration::from_secs(1)));
    assert_eq!(page.logs[1].state, LogState::Other("SOMETHING_NEW".into()));
    assert_eq!(page.cursor, None);
}

#[tokio::test]
async fn an_answer_with_both_events_and_logs_keys_decodes_once() {
    let server = answering_fixture("logs_both_keys").await;

    let page = client(&server).logs().list().send().await.unwrap();

    assert_eq!(page.logs.len(), 1);
    assert_eq!(page.logs[0].state, LogState::Delivered);
}

#[tokio::test]
async fn the_stream_walks_every_page_of_logs() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/events"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("logs_events")))
        .mount(&server)
        .await;
    Mock::given(path("/v2/events"))
        .and(query_param("cursor", "1686652644442-12"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("logs_logs")))
        .mount(&server)
        .await;

    let entries: Vec<_> = client(&server)
        .logs()
        .list()
        .count(2)
        .into_stream()
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<_> = entries
        .iter()
        .map(|entry| entry.message_id.as_str())
        .collect();
    assert_eq!(ids, vec!["msg_1", "msg_2", "msg_3", "msg_4"]);
    assert_eq!(received(&server).await.len(), 2);
}
