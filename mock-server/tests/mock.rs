//! Black-box tests of the mock over real HTTP: the failure path, the DLQ, retention, the
//! control plane, determinism, and bad input.

mod support;

use qstash_mock::{ClockMode, MockServer, Plan, SignatureTime, SinkResponse, SinkScript};
use serde_json::json;
use std::time::Duration;
use support::{Api, Destination, DAY, HOUR, MINUTE, SECOND, START};

async fn frozen_mock(plan: Plan) -> (MockServer, Api) {
    let mock = MockServer::builder()
        .seed(42)
        .plan(plan)
        .start_at_ms(START)
        .start()
        .await
        .unwrap();
    let api = Api::new(&mock.uri(), mock.token());
    (mock, api)
}

#[tokio::test]
async fn a_message_to_a_failing_endpoint_walks_the_whole_failure_path() {
    let (mock, api) = frozen_mock(Plan::Free).await;
    let destination = Destination::start(500).await;
    let url = destination.url("/hook");

    let message_id = api.publish_ok(&url, &[]).await;
    mock.advance(Duration::from_secs(7 * 3600)).await;

    let received = destination.received();
    let times: Vec<u64> = mock
        .events()
        .iter()
        .filter(|e| e.name() == "attemptFailed")
        .map(|e| e.time - START)
        .collect();
    assert_eq!(received.len(), 4, "first attempt plus three retries");
    assert_eq!(
        times,
        vec![
            0,
            12 * SECOND,
            12 * SECOND + 148 * SECOND,
            160 * SECOND + 1_808 * SECOND
        ]
    );
    let retried: Vec<&str> = received
        .iter()
        .map(|r| r.headers["upstash-retried"].to_str().unwrap())
        .collect();
    assert_eq!(retried, vec!["0", "1", "2", "3"]);
    let dlq = api.get("/v2/dlq").await.json;
    let entry = &dlq["messages"][0];
    assert_eq!(entry["messageId"], message_id.as_str());
    assert_eq!(entry["responseStatus"], 500);
    assert_eq!(entry["responseBody"], "{\"ok\":false}");
    let dlq_id = entry["dlqId"].as_str().unwrap().to_owned();

    destination.answer_with(200);
    let retry = api
        .send("POST", &format!("/v2/dlq/retry/{dlq_id}"), &[], "")
        .await;
    mock.settle().await;

    assert_eq!(retry.status, 201);
    let new_id = retry.json["messageId"].as_str().unwrap();
    assert_ne!(new_id, message_id);
    assert_eq!(destination.received().len(), 5);
    assert_eq!(
        destination.received()[4].headers["upstash-message-id"],
        new_id
    );
    assert_eq!(api.get(&format!("/v2/dlq/{dlq_id}")).await.status, 404);
    assert_eq!(api.get("/v2/dlq").await.json["messages"], json!([]));
}

#[tokio::test]
async fn a_dlq_entry_expires_after_the_plans_retention() {
    let (mock, api) = frozen_mock(Plan::Free).await;
    let destination = Destination::start(503).await;
    api.publish_ok(&destination.url("/"), &[("Upstash-Retries", "0")])
        .await;
    mock.settle().await;
    let dlq_id = mock.dlq()[0].dlq_id.clone();

    let before = mock.advance(Duration::from_millis(3 * DAY - 1)).await;
    let still_there = api.get(&format!("/v2/dlq/{dlq_id}")).await.status;
    let after = mock.advance(Duration::from_millis(1)).await;

    assert!(before.expired_dlq_ids().is_empty());
    assert_eq!(still_there, 200);
    assert_eq!(after.expired_dlq_ids(), vec![dlq_id.as_str()]);
    assert_eq!(api.get(&format!("/v2/dlq/{dlq_id}")).await.status, 404);
    assert_eq!(api.delete(&format!("/v2/dlq/{dlq_id}")).await.status, 404);
    let retry = api
        .send("POST", &format!("/v2/dlq/retry/{dlq_id}"), &[], "")
        .await;
    assert_eq!(retry.status, 404);
}

#[tokio::test]
async fn each_plan_keeps_dlq_entries_for_its_documented_retention() {
    for (plan, days) in [
        (Plan::Free, 3),
        (Plan::Payg, 7),
        (Plan::Fixed1M, 30),
        (Plan::Fixed10M, 90),
    ] {
        let (mock, api) = frozen_mock(plan).await;
        let url = mock.sink("down").statuses(&[500]).create();
        api.publish_ok(&url, &[("Upstash-Retries", "0")]).await;
        mock.settle().await;

        let entry = &mock.dlq()[0];

        assert_eq!(entry.expires_at - entry.entered_at, days * DAY, "{plan}");
    }
}

#[tokio::test]
async fn an_explicit_retention_overrides_the_plan() {
    let mock = MockServer::builder()
        .start_at_ms(START)
        .retention(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let api = Api::new(&mock.uri(), mock.token());
    let url = mock.sink("down").statuses(&[500]).create();
    api.publish_ok(&url, &[("Upstash-Retries", "0")]).await;

    let report = mock.advance(Duration::from_millis(HOUR)).await;

    assert_eq!(report.expired_dlq_ids().len(), 1);
}

#[tokio::test]
async fn a_story_of_days_runs_in_well_under_a_second_of_wall_time() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    for _ in 0..20 {
        api.publish_ok(&url, &[("Upstash-Retries", "5")]).await;
    }

    let report = mock.advance(Duration::from_millis(30 * DAY)).await;

    // 20 messages × 6 attempts, then 20 DLQ moves and 20 expiries after 7 days.
    assert_eq!(
        report.count("attemptFailed") + mock.sink_requests("down").len() - 120,
        120
    );
    assert_eq!(report.count("movedToDlq"), 20);
    assert_eq!(report.count("dlqExpired"), 20);
    assert!(report.idle);
}

#[tokio::test]
async fn a_delivery_carries_the_headers_qstash_adds_and_a_verifiable_signature() {
    let mock = MockServer::builder()
        .start_at_ms(START)
        .signature_time(SignatureTime::Virtual)
        .start()
        .await
        .unwrap();
    let api = Api::new(&mock.uri(), mock.token());
    let destination = Destination::start(200).await;
    let url = destination.url("/orders?tenant=7");

    let message_id = api
        .publish_ok(
            &url,
            &[
                ("Content-Type", "application/json"),
                ("Upstash-Forward-X-Trace", "abc"),
                ("Upstash-Method", "PUT"),
            ],
        )
        .await;
    mock.settle().await;

    let request = &destination.received()[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(request.path_and_query, "/orders?tenant=7");
    assert_eq!(request.headers["upstash-message-id"], message_id.as_str());
    assert_eq!(request.headers["upstash-retried"], "0");
    assert_eq!(request.headers["user-agent"], "Upstash-QStash");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["x-trace"], "abc");
    assert_eq!(&request.body[..], b"payload");
    let token = request.headers["upstash-signature"].to_str().unwrap();
    let claims = verify(token, &mock.signing_keys().current, &url);
    assert_eq!(claims["iss"], "Upstash");
    assert_eq!(claims["iat"], START / 1000);
    assert_eq!(claims["exp"], START / 1000 + 300);
    assert_eq!(claims["body"], qstash_mock::signing::body_hash(b"payload"));
}

#[tokio::test]
async fn receiver_safe_signatures_stay_valid_for_receivers_on_the_wall_clock() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let destination = Destination::start(500).await;
    api.publish_ok(&destination.url("/"), &[("Upstash-Retries", "1")])
        .await;

    mock.advance(Duration::from_millis(MINUTE)).await;

    let wall = qstash_mock::clock::wall_unix_ms() / 1000;
    for request in destination.received() {
        let token = request.headers["upstash-signature"].to_str().unwrap();
        let claims = verify(token, &mock.signing_keys().current, &destination.url("/"));
        let (iat, exp) = (
            claims["iat"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert!(
            iat <= wall,
            "iat {iat} is not in the receiver's future ({wall})"
        );
        assert!(
            exp >= START / 1000 + 300,
            "exp {exp} covers the mock's clock"
        );
        assert!(
            exp > wall,
            "exp {exp} is still ahead of the receiver's clock"
        );
    }
}

fn verify(token: &str, key: &str, url: &str) -> serde_json::Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["Upstash"]);
    validation.sub = Some(url.to_owned());
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(key.as_bytes()),
        &validation,
    )
    .expect("the signature verifies with the key")
    .claims
}

#[tokio::test]
async fn after_a_key_rotation_deliveries_are_signed_with_the_new_current_key() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let destination = Destination::start(200).await;
    let old = api.get("/v2/keys").await.json;

    let rotated = api.send("POST", "/v2/keys/rotate", &[], "").await.json;
    api.publish_ok(&destination.url("/"), &[]).await;
    mock.settle().await;

    assert_eq!(rotated["current"], old["next"]);
    assert_ne!(rotated["next"], old["next"]);
    let token = destination.received()[0].headers["upstash-signature"].clone();
    verify(
        token.to_str().unwrap(),
        rotated["current"].as_str().unwrap(),
        &destination.url("/"),
    );
}

#[tokio::test]
async fn a_publish_destination_keeps_its_slashes_and_its_own_query() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let destination = Destination::start(200).await;
    let base = format!("http://{}", destination.address);

    let answer = api
        .publish(
            &format!("{base}/a//b?x=1&upstash-retries=0&y=%20"),
            &[],
            "body",
        )
        .await;
    mock.settle().await;

    assert_eq!(answer.json["url"], format!("{base}/a//b?x=1&y=%20"));
    assert_eq!(destination.received()[0].path_and_query, "/a//b?x=1&y=%20");
    let message = mock.events()[0].clone();
    assert!(matches!(
        message.kind,
        qstash_mock::engine::EventKind::Published { max_retries: 0, .. }
    ));
}

#[tokio::test]
async fn retry_after_is_honoured_and_ignored_above_one_day() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let script = SinkScript {
        responses: vec![
            SinkResponse::status(429).header("Retry-After", "30"),
            SinkResponse::status(429).header("Retry-After", "172800"),
            SinkResponse::status(200),
        ],
        ..SinkScript::default()
    };
    let url = mock.sink("limited").respond_with(script).create();

    api.publish_ok(&url, &[]).await;
    mock.advance(Duration::from_millis(DAY)).await;

    let times: Vec<u64> = mock
        .sink_requests("limited")
        .iter()
        .map(|r| r.time - START)
        .collect();
    assert_eq!(times, vec![0, 30 * SECOND, 30 * SECOND + 148 * SECOND]);
}

#[tokio::test]
async fn a_custom_retry_delay_expression_replaces_the_default_backoff() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();

    api.publish_ok(&url, &[("Upstash-Retry-Delay", "1000 * (1 + retried)")])
        .await;
    mock.advance(Duration::from_millis(MINUTE)).await;

    let times: Vec<u64> = mock
        .sink_requests("down")
        .iter()
        .map(|r| r.time - START)
        .collect();
    assert_eq!(times, vec![0, 1_000, 3_000, 6_000]);
}

#[tokio::test]
async fn a_non_retryable_answer_goes_straight_to_the_dlq() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let script = SinkScript {
        responses: vec![SinkResponse::status(489).header("Upstash-NonRetryable-Error", "true")],
        ..SinkScript::default()
    };
    let url = mock.sink("fatal").respond_with(script).create();

    api.publish_ok(&url, &[("Upstash-Retries", "5")]).await;
    mock.advance(Duration::from_millis(DAY)).await;

    assert_eq!(mock.sink_requests("fatal").len(), 1);
    let dlq = mock.dlq();
    assert_eq!(dlq[0].response.status, 489);
    let names: Vec<&str> = dlq[0]
        .response
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(
        names.contains(&"Upstash-Nonretryable-Error"),
        "canonical names: {names:?}"
    );
    assert_eq!(dlq[0].reason, qstash_mock::engine::DlqReason::NonRetryable);
}

#[tokio::test]
async fn timeouts_and_dropped_connections_count_as_failures() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let hang = mock
        .sink("slow")
        .always(SinkResponse::status(200).delay_ms(1_500))
        .create();
    let drop = mock
        .sink("rude")
        .always(SinkResponse::dropped_connection())
        .create();

    api.publish_ok(
        &hang,
        &[("Upstash-Retries", "0"), ("Upstash-Timeout", "1s")],
    )
    .await;
    api.publish_ok(&drop, &[("Upstash-Retries", "0")]).await;
    mock.settle().await;

    let dlq = mock.dlq();
    assert_eq!(dlq.len(), 2);
    let bodies: Vec<String> = dlq
        .iter()
        .map(|e| String::from_utf8_lossy(&e.response.body).into_owned())
        .collect();
    assert!(bodies.iter().any(|b| b == "timeout"), "{bodies:?}");
    assert!(
        bodies.iter().any(|b| b.starts_with("connection error")),
        "{bodies:?}"
    );
    assert!(dlq.iter().all(|e| e.response.status == 0));
}

#[tokio::test]
async fn callbacks_follow_every_attempt_and_the_failure_callback_carries_the_dlq_id() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    let callback = mock.sink("callback").create();
    let failure = mock.sink("failure").create();

    let message_id = api
        .publish_ok(
            &url,
            &[
                ("Upstash-Retries", "1"),
                ("Upstash-Callback", &callback),
                ("Upstash-Failure-Callback", &failure),
            ],
        )
        .await;
    mock.advance(Duration::from_millis(MINUTE)).await;

    assert_eq!(mock.sink_requests("callback").len(), 2);
    let failures = mock.sink_requests("failure");
    assert_eq!(failures.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&failures[0].body_bytes()).unwrap();
    assert_eq!(body["dlqId"], mock.dlq()[0].dlq_id.as_str());
    assert_eq!(body["sourceMessageId"], message_id.as_str());
    assert_eq!(body["status"], 500);
    assert_eq!(body["retried"], 1);
    assert_eq!(body["maxRetries"], 1);
    assert_eq!(body["sourceBody"], "cGF5bG9hZA==");
    assert!(failures[0].header("upstash-signature").is_some());
}

#[tokio::test]
async fn a_duplicate_publish_answers_202_with_the_first_message_and_delivers_once() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("app").create();

    let first = api
        .publish(&url, &[("Upstash-Deduplication-Id", "order-1")], "a")
        .await;
    let second = api
        .publish(&url, &[("Upstash-Deduplication-Id", "order-1")], "b")
        .await;
    let content = api
        .publish(
            &url,
            &[("Upstash-Content-Based-Deduplication", "true")],
            "c",
        )
        .await;
    let again = api
        .publish(
            &url,
            &[("Upstash-Content-Based-Deduplication", "true")],
            "c",
        )
        .await;
    mock.settle().await;

    assert_eq!((first.status, second.status), (200, 202));
    assert_eq!(second.json["messageId"], first.json["messageId"]);
    assert_eq!(second.json["deduplicated"], true);
    assert_eq!((content.status, again.status), (200, 202));
    assert_eq!(mock.sink_requests("app").len(), 2);
}

#[tokio::test]
async fn the_dedup_window_ends() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("app").create();
    api.publish(&url, &[("Upstash-Deduplication-Id", "x")], "")
        .await;

    mock.advance(Duration::from_millis(10 * MINUTE)).await;
    let later = api
        .publish(&url, &[("Upstash-Deduplication-Id", "x")], "")
        .await;

    assert_eq!(later.status, 200);
}

#[tokio::test]
async fn a_cancelled_message_never_reaches_the_dlq() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    let message_id = api.publish_ok(&url, &[]).await;
    mock.settle().await;

    let fetched = api.get(&format!("/v2/messages/{message_id}")).await;
    let cancelled = api.delete(&format!("/v2/messages/{message_id}")).await;
    mock.advance(Duration::from_millis(2 * DAY)).await;

    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json["maxRetries"], 3);
    assert_eq!(cancelled.json, json!({ "cancelled": 1 }));
    assert!(mock.dlq().is_empty());
    assert_eq!(mock.sink_requests("down").len(), 1);
    assert_eq!(
        api.get(&format!("/v2/messages/{message_id}")).await.status,
        404
    );
}

#[tokio::test]
async fn the_dlq_pages_with_a_cursor_and_filters() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let a = mock.sink("a").statuses(&[500]).create();
    let b = mock.sink("b").statuses(&[404]).create();
    for _ in 0..3 {
        api.publish_ok(
            &a,
            &[("Upstash-Retries", "0"), ("Upstash-Label", "billing")],
        )
        .await;
        api.publish_ok(&b, &[("Upstash-Retries", "0")]).await;
    }
    mock.settle().await;

    let first = api.get("/v2/dlq?count=4").await.json;
    let cursor = first["cursor"].as_str().unwrap();
    let second = api
        .get(&format!("/v2/dlq?count=4&cursor={cursor}"))
        .await
        .json;
    let by_status = api.get("/v2/dlq?responseStatus=404").await.json;
    let by_label = api.get("/v2/dlq?label=billing").await.json;
    let by_url = api.get(&format!("/v2/dlq?url={b}")).await.json;

    assert_eq!(first["messages"].as_array().unwrap().len(), 4);
    assert_eq!(second["messages"].as_array().unwrap().len(), 2);
    assert!(second.get("cursor").is_none());
    assert_eq!(by_status["messages"].as_array().unwrap().len(), 3);
    assert_eq!(by_label["messages"].as_array().unwrap().len(), 3);
    assert_eq!(by_url["messages"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn dlq_entries_carry_every_field_the_python_sdk_reads() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    api.publish_ok(&url, &[("Upstash-Retries", "0")]).await;
    mock.settle().await;

    let entry = api.get("/v2/dlq").await.json["messages"][0].clone();

    for field in [
        "messageId",
        "url",
        "method",
        "header",
        "body",
        "maxRetries",
        "notBefore",
        "createdAt",
        "dlqId",
        "responseStatus",
        "responseHeader",
        "responseBody",
        "callerIP",
    ] {
        assert!(entry.get(field).is_some(), "missing {field} in {entry}");
    }
}

#[tokio::test]
async fn bulk_delete_works_with_query_ids_json_ids_and_filters() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    for _ in 0..5 {
        api.publish_ok(&url, &[("Upstash-Retries", "0")]).await;
    }
    mock.settle().await;
    let ids: Vec<String> = mock.dlq().iter().map(|e| e.dlq_id.clone()).collect();

    let by_query = api.delete(&format!("/v2/dlq?dlqIds={}", ids[0])).await.json;
    let by_body = api
        .send(
            "DELETE",
            "/v2/dlq",
            &[("Content-Type", "application/json")],
            json!({ "dlqIds": [ids[1], ids[2]] }).to_string(),
        )
        .await
        .json;
    let typo = api.delete("/v2/dlq?urll=x").await;
    let rest = api.delete("/v2/dlq").await.json;

    assert_eq!(by_query, json!({ "deleted": 1 }));
    assert_eq!(by_body, json!({ "deleted": 2 }));
    assert_eq!(typo.status, 400);
    assert!(typo.json["error"].as_str().unwrap().contains("urll"));
    assert_eq!(rest, json!({ "deleted": 2 }));
}

#[tokio::test]
async fn bulk_retry_republishes_every_entry_and_overrides_settings() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    for _ in 0..3 {
        api.publish_ok(&url, &[("Upstash-Retries", "0")]).await;
    }
    mock.settle().await;
    let ids: Vec<String> = mock.dlq().iter().map(|e| e.dlq_id.clone()).collect();

    let missing = api
        .send(
            "POST",
            &format!("/v2/dlq/retry?dlqIds={},nope", ids[0]),
            &[],
            "",
        )
        .await;
    let answer = api
        .send("POST", "/v2/dlq/retry", &[("Upstash-Retries", "2")], "")
        .await;
    mock.advance(Duration::from_millis(HOUR)).await;

    assert_eq!(missing.status, 404);
    assert_eq!(answer.status, 201);
    assert_eq!(answer.json["responses"].as_array().unwrap().len(), 3);
    assert_eq!(mock.sink_requests("down").len(), 3 + 3 * 3);
    assert!(mock.dlq().iter().all(|e| e.message.max_retries == 2));
}

#[tokio::test]
async fn host_mapping_delivers_production_urls_to_a_local_address() {
    let destination = Destination::start(200).await;
    let mock = MockServer::builder()
        .start_at_ms(START)
        .map_host("api.example.com", destination.address.to_string())
        .start()
        .await
        .unwrap();
    let api = Api::new(&mock.uri(), mock.token());

    api.publish_ok("https://api.example.com/jobs?id=1", &[])
        .await;
    mock.settle().await;

    let request = &destination.received()[0];
    assert_eq!(request.path_and_query, "/jobs?id=1");
    let token = request.headers["upstash-signature"].to_str().unwrap();
    verify(
        token,
        &mock.signing_keys().current,
        "https://api.example.com/jobs?id=1",
    );
}

#[tokio::test]
async fn two_mocks_in_one_process_have_independent_clocks_and_state() {
    let (first, first_api) = frozen_mock(Plan::Payg).await;
    let (second, _) = frozen_mock(Plan::Payg).await;
    let url = first.sink("down").statuses(&[500]).create();
    first_api
        .publish_ok(&url, &[("Upstash-Retries", "0")])
        .await;

    first.advance(Duration::from_millis(DAY)).await;

    assert_eq!(first.now_ms(), START + DAY);
    assert_eq!(second.now_ms(), START);
    assert_eq!(first.dlq().len(), 1);
    assert!(second.dlq().is_empty());
}

async fn story(seed: u64) -> String {
    let mock = MockServer::builder()
        .seed(seed)
        .plan(Plan::Free)
        .start_at_ms(START)
        .start()
        .await
        .unwrap();
    let api = Api::new(&mock.uri(), mock.token());
    let down = mock.sink("down").statuses(&[500, 503, 429]).create();
    let flaky = mock.sink("flaky").statuses(&[500, 200]).create();
    let callback = mock.sink("callback").create();
    api.publish_ok(&down, &[("Upstash-Failure-Callback", &callback)])
        .await;
    api.publish_ok(&flaky, &[("Upstash-Retry-Delay", "pow(2, retried) * 1000")])
        .await;
    api.publish_ok(&down, &[("Upstash-Delay", "1h"), ("Upstash-Retries", "1")])
        .await;
    mock.advance(Duration::from_millis(DAY)).await;
    let dlq_id = mock.dlq()[0].dlq_id.clone();
    api.send("POST", &format!("/v2/dlq/retry/{dlq_id}"), &[], "")
        .await;
    mock.advance(Duration::from_millis(4 * DAY)).await;
    // The port is the one input that differs between runs; name it instead.
    serde_json::to_string_pretty(&mock.events())
        .unwrap()
        .replace(&mock.uri(), "http://mock")
}

#[tokio::test]
async fn the_same_seed_and_calls_give_a_byte_identical_event_log() {
    let first = story(7).await;
    let second = story(7).await;
    let other_seed = story(8).await;

    assert_eq!(first, second);
    assert_ne!(first, other_seed);
    insta::assert_snapshot!("event_log_of_a_representative_story", first);
}

#[tokio::test]
async fn the_timeline_explains_each_attempt_the_dlq_move_and_the_deadline() {
    let (mock, api) = frozen_mock(Plan::Free).await;
    let url = mock.sink("down").statuses(&[500]).create();
    let message_id = api.publish_ok(&url, &[("Upstash-Retries", "2")]).await;
    mock.advance(Duration::from_millis(HOUR)).await;

    let timeline = api
        .get(&format!("/__mock/messages/{message_id}/timeline"))
        .await
        .json
        .to_string()
        .replace(&mock.uri(), "http://mock");
    let timeline: serde_json::Value = serde_json::from_str(&timeline).unwrap();

    insta::assert_json_snapshot!("timeline_of_a_message_that_failed", timeline);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_loses_nothing_already_accepted() {
    let (mock, api) = frozen_mock(Plan::Free).await;
    let url = mock.sink("app").statuses(&[500]).create();
    let kept = api.publish_ok(&url, &[("Upstash-Delay", "1h")]).await;
    let big = "x".repeat(1024 * 1024 + 1);

    let cases = vec![
        (
            api.without_token().publish(&url, &[], "").await,
            401,
            "missing token",
        ),
        (
            api.with_token("nope").publish(&url, &[], "").await,
            401,
            "invalid token",
        ),
        (
            api.publish(&url, &[("Upstash-Retries", "abc")], "").await,
            400,
            "Upstash-Retries",
        ),
        (
            api.publish(&url, &[("Upstash-Delay", "-5s")], "").await,
            400,
            "Upstash-Delay",
        ),
        (
            api.publish(&url, &[("Upstash-Delay", "8d")], "").await,
            400,
            "maximum delay",
        ),
        (
            api.publish(&url, &[("Upstash-Retry-Delay", "1000 *")], "")
                .await,
            400,
            "Upstash-Retry-Delay",
        ),
        (api.publish("not-a-url", &[], "").await, 400, "destination"),
        (
            api.publish("ftp://x.example.com/", &[], "").await,
            400,
            "destination",
        ),
        (api.publish(&url, &[], big.as_str()).await, 413, "limit"),
        (
            api.get("/v2/messages/msg_unknown").await,
            404,
            "msg_unknown",
        ),
        (api.get("/v2/dlq/1-0").await, 404, "1-0"),
        (
            api.send("POST", "/v2/dlq/retry/1-0", &[], "").await,
            404,
            "1-0",
        ),
        (api.get("/v2/dlq?count=abc").await, 400, "count"),
        (api.get("/v2/dlq?cursor=zzz").await, 400, "cursor"),
        (
            api.post_json("/__mock/clock/advance", json!({"by": "soon"}))
                .await,
            400,
            "by",
        ),
        (
            api.post_json("/__mock/clock/advance-to", json!({"to": START - 1}))
                .await,
            400,
            "forward",
        ),
        (
            api.post_json("/__mock/clock/advance", json!({"ms": 1, "by": "1s"}))
                .await,
            400,
            "exactly one",
        ),
        (
            api.send("PUT", "/__mock/sinks/a%2Fb", &[], "").await,
            400,
            "sink name",
        ),
        (
            api.send("PUT", "/__mock/sinks/x", &[], "{\"responses\": 5}")
                .await,
            400,
            "script",
        ),
        (api.get("/v2/workflows/runs").await, 501, "does not support"),
    ];

    for (answer, status, needle) in cases {
        assert_eq!(answer.status, status, "{}", answer.json);
        let error = answer.json["error"].as_str().unwrap_or_default();
        assert!(error.contains(needle), "expected `{needle}` in `{error}`");
    }
    assert_eq!(api.get(&format!("/v2/messages/{kept}")).await.status, 200);
    assert_eq!(mock.with_engine(|e| e.message_count()), 1);
}

#[tokio::test]
async fn the_token_may_come_as_a_query_parameter() {
    let (mock, _) = frozen_mock(Plan::Payg).await;
    let anonymous = Api::new(&mock.uri(), "").without_token();

    let answer = anonymous
        .get(&format!("/v2/keys?qstash_token={}", mock.token()))
        .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["current"], qstash_mock::DEV_CURRENT_SIGNING_KEY);
}

#[tokio::test]
async fn the_control_plane_drives_the_clock_over_http() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    api.publish_ok(&url, &[("Upstash-Delay", "10m")]).await;

    let clock = api.get("/__mock/clock").await.json;
    let next = api.send("POST", "/__mock/clock/next", &[], "").await.json;
    let advanced = api
        .post_json("/__mock/clock/advance", json!({ "by": "1h30m" }))
        .await
        .json;
    api.publish_ok(&url, &[("Upstash-Delay", "1d")]).await;
    let idle = api
        .post_json("/__mock/clock/run-until-idle", json!({ "maxSteps": 1 }))
        .await
        .json;
    let finished = api
        .post_json("/__mock/clock/run-until-idle", json!({}))
        .await
        .json;

    assert_eq!(clock["now"], START);
    assert_eq!(clock["mode"], "frozen");
    assert_eq!(clock["nextDueAt"], START + 10 * MINUTE);
    assert_eq!(next["to"], START + 10 * MINUTE);
    assert_eq!(next["attempts"], 1);
    assert_eq!(advanced["to"], START + 10 * MINUTE + 90 * MINUTE);
    assert_eq!(idle["stepLimitReached"], true);
    assert_eq!(finished["idle"], true);
    assert_eq!(finished["stepLimitReached"], false);
    assert_eq!(mock.dlq().len(), 0, "expired after the payg retention");
}

#[tokio::test]
async fn switching_to_running_mode_lets_time_pass_by_itself() {
    let (mock, api) = frozen_mock(Plan::Payg).await;

    let answer = api
        .send(
            "PUT",
            "/__mock/clock/mode",
            &[],
            json!({"mode": "running", "speed": 1000.0}).to_string(),
        )
        .await;
    let url = mock.sink("later").create();
    api.publish_ok(&url, &[("Upstash-Delay", "2s")]).await;
    // A wall-clock wait is the point here: the running clock delivers by itself.
    tokio::time::sleep(Duration::from_millis(200)).await;
    mock.set_clock_mode(ClockMode::Frozen);
    mock.settle().await;

    assert_eq!(answer.json["mode"], "running");
    assert_eq!(mock.sink_requests("later").len(), 1);
}

#[tokio::test]
async fn state_exported_from_one_mock_continues_in_another() {
    let (first, api) = frozen_mock(Plan::Payg).await;
    let url = first.sink("down").statuses(&[500]).create();
    api.publish_ok(&url, &[]).await;
    first.advance(Duration::from_millis(MINUTE)).await;
    let state = api.get("/__mock/state").await.json;
    let (second, second_api) = frozen_mock(Plan::Payg).await;

    let imported = second_api
        .send("PUT", "/__mock/state", &[], state.to_string())
        .await;
    second.advance(Duration::from_millis(DAY)).await;

    assert_eq!(imported.status, 200);
    assert_eq!(second.now_ms(), START + MINUTE + DAY);
    assert_eq!(second.dlq().len(), 1);
    assert_eq!(
        second.events().len(),
        first.events().len() + 3,
        "two more failed attempts and the DLQ move"
    );
}

#[tokio::test]
async fn reset_forgets_everything_and_can_change_the_settings() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("down").statuses(&[500]).create();
    api.publish_ok(&url, &[("Upstash-Retries", "0")]).await;
    mock.settle().await;

    let answer = api
        .post_json(
            "/__mock/reset",
            json!({ "plan": "free", "seed": 3, "start": "2031-01-01T00:00:00Z" }),
        )
        .await
        .json;

    assert_eq!(answer["config"]["plan"], "free");
    assert_eq!(answer["config"]["seed"], 3);
    assert_eq!(answer["clock"]["nowIso"], "2031-01-01T00:00:00Z");
    assert!(mock.dlq().is_empty());
    assert!(mock.events().is_empty());
    assert_eq!(api.get("/__mock/sinks").await.json["sinks"], json!([]));
}

#[tokio::test]
async fn expectations_are_met_silently() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock
        .sink("app")
        .statuses(&[500, 200])
        .expect_requests(2)
        .expect_request_offsets(vec![Duration::ZERO, Duration::from_secs(12)])
        .create();

    api.publish_ok(&url, &[]).await;
    mock.advance(Duration::from_secs(60)).await;

    mock.verify();
}

#[tokio::test]
#[should_panic(expected = "expected 3 requests, received 1")]
async fn unmet_expectations_fail_the_test_when_the_mock_is_dropped() {
    let (mock, api) = frozen_mock(Plan::Payg).await;
    let url = mock.sink("app").expect_requests(3).create();

    api.publish_ok(&url, &[]).await;
    mock.settle().await;

    drop(mock);
}

#[tokio::test]
async fn the_control_plane_lists_messages_in_flight_and_dlq_details() {
    let (mock, api) = frozen_mock(Plan::Free).await;
    let down = mock.sink("down").statuses(&[500]).create();
    let later = mock.sink("later").create();
    let failing = api.publish_ok(&down, &[("Upstash-Retries", "1")]).await;
    let waiting = api
        .publish_ok(
            &later,
            &[("Upstash-Delay", "1h"), ("Upstash-Label", "nightly")],
        )
        .await;
    mock.settle().await;

    let all = api.get("/__mock/messages").await.json;
    let labelled = api.get("/__mock/messages?label=nightly").await.json;
    let retrying = api.get("/__mock/messages?state=RETRY").await.json;
    let clock = api.get("/__mock/clock").await.json;

    let ids: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![failing.as_str(), waiting.as_str()],
        "oldest first"
    );
    assert_eq!(labelled["messages"][0]["messageId"], waiting.as_str());
    assert_eq!(labelled["messages"].as_array().unwrap().len(), 1);
    assert_eq!(retrying["messages"][0]["messageId"], failing.as_str());
    assert_eq!(
        retrying["messages"][0]["nextDeliveryAt"],
        START + 12 * SECOND
    );
    assert_eq!(clock["messageCount"], 2);

    mock.advance(Duration::from_millis(MINUTE)).await;
    let dlq_id = mock.dlq()[0].dlq_id.clone();
    let details = api.get(&format!("/__mock/dlq?dlqId={dlq_id}")).await.json;

    let entry = &details["entries"][0];
    assert_eq!(entry["messageId"], failing.as_str());
    assert_eq!(entry["attempts"], 2);
    assert_eq!(entry["reason"], "retriesExhausted");
    assert_eq!(
        entry["expiresAt"],
        entry["enteredAt"].as_u64().unwrap() + 3 * DAY
    );
    assert_eq!(api.get("/__mock/clock").await.json["dlqCount"], 1);
}
