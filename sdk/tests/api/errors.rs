//! Error answers, rate limits, timeouts, transport failures and retries.

use std::time::Duration;

use http::StatusCode;
use qstash_sdk::{Client, RateLimitScope, RetryPolicy};
use time::OffsetDateTime;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{answering, client, client_with, fixture, quick_retries, received, TOKEN};

#[tokio::test]
async fn an_error_body_becomes_an_api_error_with_status_and_message() {
    let server = answering(ResponseTemplate::new(404).set_body_json(fixture("error"))).await;

    let err = client(&server)
        .messages()
        .get("msg_gone")
        .await
        .unwrap_err();

    assert!(err.is_api(), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.api_message(), Some("message not found"));
    assert_eq!(
        err.to_string(),
        "qstash answered 404 Not Found: message not found"
    );
}

#[tokio::test]
async fn a_plain_text_error_body_is_kept_as_the_message() {
    let server = answering(ResponseTemplate::new(401).set_body_string("unauthorized\n")).await;

    let err = client(&server).queues().list().await.unwrap_err();

    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(err.api_message(), Some("unauthorized"));
}

#[tokio::test]
async fn a_burst_rate_limit_carries_its_limit_and_reset_time() {
    let response = ResponseTemplate::new(429)
        .set_body_json(serde_json::json!({"error": "too many requests"}))
        .insert_header("Burst-RateLimit-Limit", "100")
        .insert_header("Burst-RateLimit-Remaining", "0")
        .insert_header("Burst-RateLimit-Reset", "1700000001");
    let server = answering(response).await;

    let err = client(&server).queues().list().await.unwrap_err();

    assert!(err.is_rate_limited());
    assert!(err.is_burst_rate_limited());
    assert!(!err.is_daily_rate_limited());
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    let limit = err.rate_limit().unwrap();
    assert_eq!(limit.scope, RateLimitScope::Burst);
    assert_eq!(limit.limit, Some(100));
    assert_eq!(limit.remaining, Some(0));
    assert_eq!(
        err.reset_at().map(|at| at.unix_timestamp()),
        Some(1_700_000_001)
    );
}

#[tokio::test]
async fn a_daily_rate_limit_is_told_apart_by_its_ratelimit_limit_header() {
    let response = ResponseTemplate::new(429)
        .set_body_json(serde_json::json!({"error": "daily quota exceeded"}))
        .insert_header("RateLimit-Limit", "1000")
        .insert_header("RateLimit-Remaining", "0")
        .insert_header("RateLimit-Reset", "1700086400");
    let server = answering(response).await;

    let err = client(&server).queues().list().await.unwrap_err();

    assert!(err.is_daily_rate_limited());
    assert_eq!(err.rate_limit().unwrap().limit, Some(1000));
    assert_eq!(
        err.reset_at().map(|at| at.unix_timestamp()),
        Some(1_700_086_400)
    );
}

#[tokio::test]
async fn a_server_error_is_retried_until_the_call_succeeds() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("keys")))
        .mount(&server)
        .await;

    let result = client_with(&server, quick_retries(3))
        .signing_keys()
        .get()
        .await;

    assert!(result.is_ok(), "{result:?}");
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn the_last_error_is_returned_once_the_retries_are_used_up() {
    let server = answering(ResponseTemplate::new(500).set_body_json(fixture("error"))).await;

    let err = client_with(&server, quick_retries(2))
        .signing_keys()
        .get()
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn with_retries_turned_off_a_server_error_is_returned_at_once() {
    let server = answering(ResponseTemplate::new(502)).await;

    let err = client_with(&server, RetryPolicy::none())
        .signing_keys()
        .get()
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = answering(ResponseTemplate::new(400).set_body_json(fixture("error"))).await;

    let err = client_with(&server, quick_retries(3))
        .signing_keys()
        .get()
        .await
        .unwrap_err();

    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_burst_rate_limit_whose_reset_has_passed_is_retried() {
    let reset = (OffsetDateTime::now_utc().unix_timestamp() - 10).to_string();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429).insert_header("Burst-RateLimit-Reset", reset.as_str()),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("queues")))
        .mount(&server)
        .await;

    let result = client_with(&server, quick_retries(1)).queues().list().await;

    assert!(result.is_ok(), "{result:?}");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_daily_rate_limit_resetting_beyond_the_maximum_wait_is_not_retried() {
    let reset = (OffsetDateTime::now_utc().unix_timestamp() + 86_400).to_string();
    let response = ResponseTemplate::new(429)
        .insert_header("RateLimit-Limit", "1000")
        .insert_header("RateLimit-Reset", reset.as_str());
    let server = answering(response).await;
    let policy = quick_retries(3).max_wait(Duration::from_secs(5));

    let err = client_with(&server, policy)
        .queues()
        .list()
        .await
        .unwrap_err();

    assert!(err.is_daily_rate_limited());
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout_error() {
    let server = answering(ResponseTemplate::new(200).set_delay(Duration::from_secs(2))).await;
    let client = Client::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .timeout(Duration::from_millis(50))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();

    let err = client.signing_keys().get().await.unwrap_err();

    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder()
        .base_url(format!("http://{address}"))
        .token(TOKEN)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();

    let err = client.signing_keys().get().await.unwrap_err();

    assert!(err.is_transport(), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn an_answer_that_is_not_the_expected_json_is_a_decode_error() {
    let server = answering(ResponseTemplate::new(200).set_body_string("<html>proxy</html>")).await;

    let err = client(&server).signing_keys().get().await.unwrap_err();

    assert!(err.is_decode(), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::OK));
}

#[tokio::test]
async fn the_token_is_sent_as_a_bearer_header_and_never_shown_in_errors() {
    let server = answering(ResponseTemplate::new(403).set_body_json(fixture("error"))).await;

    let err = client(&server).signing_keys().get().await.unwrap_err();

    let requests = received(&server).await;
    let authorization = requests[0].headers.get("authorization").unwrap();
    assert_eq!(authorization.to_str().unwrap(), format!("Bearer {TOKEN}"));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}
