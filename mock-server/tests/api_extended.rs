//! Black-box tests of the QStash routes beyond publish, messages and the DLQ: logs,
//! batch, URL groups, queues, bulk cancel filters, schedules, flow control, bulk actions
//! and the optional plan limits.

mod support;

use qstash_mock::{CancelledSpelling, MockServer};
use serde_json::{json, Value};
use std::time::Duration;
use support::{Answer, Api, DAY, MINUTE, SECOND, START};

async fn mock_with(builder: qstash_mock::MockServerBuilder) -> (MockServer, Api) {
    let mock = builder.seed(3).start_at_ms(START).start().await.unwrap();
    let api = Api::new(&mock.uri(), mock.token());
    (mock, api)
}

async fn frozen_mock() -> (MockServer, Api) {
    mock_with(MockServer::builder()).await
}

fn states(answer: &Answer) -> Vec<&str> {
    answer.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect()
}

fn assert_refused(answer: &Answer, status: u16, needle: &str) {
    let error = answer.json["error"].as_str().unwrap_or_default();
    assert_eq!(answer.status, status, "{}", answer.json);
    assert!(error.contains(needle), "`{error}` lacks `{needle}`");
}

// Logs.

#[tokio::test]
async fn the_logs_tell_each_state_of_a_failing_message_newest_first() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("down").statuses(&[500]).create();
    let id = api.publish_ok(&url, &[("Upstash-Retries", "1")]).await;

    mock.advance(Duration::from_millis(MINUTE)).await;
    let logs = api.get(&format!("/v2/events?messageId={id}")).await;

    assert_eq!(logs.status, 200);
    assert_eq!(
        states(&logs),
        vec!["FAILED", "ERROR", "ACTIVE", "RETRY", "ERROR", "ACTIVE", "CREATED"]
    );
    assert_eq!(logs.json["logs"], logs.json["events"]);
    let failed_attempt = &logs.json["events"][1];
    assert_eq!(failed_attempt["responseStatus"], 500);
    assert_eq!(
        failed_attempt["body"], "cGF5bG9hZA==",
        "base64 of `payload`"
    );
    assert_eq!(failed_attempt["maxRetries"], 1);
    let retry = &logs.json["events"][3];
    assert_eq!(retry["nextDeliveryTime"], START + 12 * SECOND);
}

#[tokio::test]
async fn the_logs_filter_by_state_and_page_with_a_cursor() {
    let (mock, api) = frozen_mock().await;
    let ok = mock.sink("ok").create();
    let down = mock.sink("down").statuses(&[500]).create();
    for _ in 0..3 {
        api.publish_ok(&ok, &[]).await;
    }
    api.publish_ok(&down, &[("Upstash-Retries", "2")]).await;
    mock.settle().await;

    let in_progress = api.get("/v2/logs?state=IN_PROGRESS").await;
    let delivered = api.get("/v2/logs?state=DELIVERED").await;
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = api.get(&format!("/v2/logs?count=2&cursor={cursor}")).await;
        paged.extend(page.json["logs"].as_array().unwrap().clone());
        match page.json["cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }

    // Every attempt was ACTIVE once; only the failing message is also in RETRY and ERROR.
    assert_eq!(
        states(&in_progress),
        vec!["RETRY", "ERROR", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"]
    );
    assert_eq!(delivered.json["events"].as_array().unwrap().len(), 3);
    let all = api.get("/v2/logs").await.json["logs"].clone();
    assert_eq!(Value::Array(paged), all);
}

#[tokio::test]
async fn a_cancelled_message_is_logged_canceled_unless_configured_otherwise() {
    for (builder, expected) in [
        (MockServer::builder(), "CANCELED"),
        (
            MockServer::builder().cancelled_spelling(CancelledSpelling::Cancelled),
            "CANCELLED",
        ),
    ] {
        let (mock, api) = mock_with(builder).await;
        let url = mock.sink("later").create();
        let id = api.publish_ok(&url, &[("Upstash-Delay", "1h")]).await;

        api.delete(&format!("/v2/messages/{id}")).await;
        let logs = api.get(&format!("/v2/logs?messageId={id}")).await;

        assert_eq!(states(&logs), vec![expected, "CANCEL_REQUESTED", "CREATED"]);
    }
}

#[tokio::test]
async fn bad_log_filters_are_refused_naming_the_parameter() {
    let (_mock, api) = frozen_mock().await;

    let bad_state = api.get("/v2/logs?state=LOST").await;
    let bad_count = api.get("/v2/logs?count=0").await;
    let bad_cursor = api.get("/v2/logs?cursor=abc").await;

    assert_refused(&bad_state, 400, "state: `LOST`");
    assert_refused(&bad_count, 400, "count:");
    assert_refused(&bad_cursor, 400, "cursor:");
}

// Batch.

#[tokio::test]
async fn a_batch_publishes_to_urls_groups_and_queues_and_refuses_one_item_in_its_slot() {
    let (mock, api) = frozen_mock().await;
    let one = mock.sink("one").create();
    let two = mock.sink("two").create();
    api.post_json(
        "/v2/topics/pair/endpoints",
        json!({ "endpoints": [{ "url": one }, { "url": two }] }),
    )
    .await;
    let items = json!([
        { "destination": one, "body": "a", "headers": { "Upstash-Retries": "0" } },
        { "destination": "pair", "body": "b" },
        { "destination": two, "body": "c", "queue": "line" },
        { "destination": one, "headers": { "Upstash-Delay": "soon" } },
    ]);

    let answer = api.post_json("/v2/batch", items).await;
    mock.settle().await;

    assert_eq!(answer.status, 200);
    let slots = answer.json.as_array().unwrap();
    assert!(slots[0]["messageId"].is_string());
    assert_eq!(slots[1].as_array().unwrap().len(), 2);
    assert!(slots[2]["messageId"].is_string());
    assert!(slots[3]["error"]
        .as_str()
        .unwrap()
        .starts_with("[3].Upstash-Delay:"));
    assert_eq!(mock.sink_requests("one").len(), 2);
    assert_eq!(mock.sink_requests("two").len(), 2);
    let queue = api.get("/v2/queues/line").await;
    assert_eq!(queue.json["name"], "line");
}

#[tokio::test]
async fn a_batch_that_is_not_an_array_is_refused() {
    let (_mock, api) = frozen_mock().await;

    let answer = api
        .post_json("/v2/batch", json!({ "destination": "x" }))
        .await;

    assert_refused(&answer, 400, "body: must be a JSON array");
}

// URL groups.

#[tokio::test]
async fn publishing_to_a_url_group_sends_one_message_per_endpoint() {
    let (mock, api) = frozen_mock().await;
    let a = mock.sink("a").create();
    let b = mock.sink("b").create();
    let added = api
        .post_json(
            "/v2/topics/team/endpoints",
            json!({ "endpoints": [{ "url": a, "name": "first" }, { "url": b }] }),
        )
        .await;

    let answer = api.publish("team", &[], "hello").await;
    mock.settle().await;

    assert_eq!(added.status, 200);
    assert_eq!(answer.status, 200);
    let sent = answer.json.as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["url"], a.as_str());
    let received = mock.sink_requests("a");
    assert_eq!(received[0].header("upstash-topic-name"), Some("team"));
    let logs = api.get("/v2/logs?topicName=team&state=DELIVERED").await;
    assert_eq!(logs.json["logs"].as_array().unwrap().len(), 2);
    assert_eq!(logs.json["logs"][1]["endpointName"], "first");
    let group = api.get("/v2/topics/team").await;
    assert_eq!(group.json["endpoints"].as_array().unwrap().len(), 2);
    assert_eq!(api.get("/v2/topics").await.json[0]["name"], "team");
}

#[tokio::test]
async fn a_url_group_goes_with_its_last_endpoint_and_unknown_groups_are_not_found() {
    let (mock, api) = frozen_mock().await;
    let a = mock.sink("a").create();
    api.post_json(
        "/v2/topics/solo/endpoints",
        json!({ "endpoints": [{ "url": a }] }),
    )
    .await;

    let removed = api
        .send(
            "DELETE",
            "/v2/topics/solo/endpoints",
            &[],
            json!({ "endpoints": [{ "url": a }] }).to_string(),
        )
        .await;

    assert_eq!(removed.status, 200);
    assert_refused(&api.get("/v2/topics/solo").await, 404, "solo");
    assert_refused(&api.delete("/v2/topics/solo").await, 404, "solo");
    let bad_url = api
        .post_json(
            "/v2/topics/solo/endpoints",
            json!({ "endpoints": [{ "url": "ftp://x" }] }),
        )
        .await;
    assert_refused(&bad_url, 400, "endpoints[0].url");
    let bad_name = api
        .post_json(
            "/v2/topics/so%20lo/endpoints",
            json!({ "endpoints": [{ "url": a }] }),
        )
        .await;
    assert_refused(&bad_name, 400, "topicName");
}

// Queues.

#[tokio::test]
async fn a_queue_holds_the_next_message_until_the_first_is_retried_and_called_back() {
    let (mock, api) = frozen_mock().await;
    let flaky = mock.sink("flaky").statuses(&[500, 200]).create();
    let callback = mock.sink("callback").create();
    let next = mock.sink("next").create();
    let first = api
        .send(
            "POST",
            &format!("/v2/enqueue/line/{flaky}"),
            &[("Upstash-Callback", &callback)],
            "1",
        )
        .await;
    let second = api
        .send("POST", &format!("/v2/enqueue/line/{next}"), &[], "2")
        .await;

    mock.settle().await;
    let waiting = api.get("/v2/queues/line").await;
    let before_retry = mock.sink_requests("next").len();
    mock.advance(Duration::from_millis(12 * SECOND)).await;

    assert_eq!(first.status, 200);
    assert_eq!(second.status, 200);
    assert_eq!(waiting.json["lag"], 1);
    assert_eq!(waiting.json["parallelism"], 1);
    assert_eq!(before_retry, 0, "the second waits for the first's retry");
    assert_eq!(mock.sink_requests("flaky").len(), 2);
    assert_eq!(mock.sink_requests("callback").len(), 2);
    assert_eq!(mock.sink_requests("next").len(), 1);
    let delivered_at: Vec<u64> = mock
        .events()
        .iter()
        .filter(|e| e.name() == "attemptSucceeded")
        .map(|e| e.time - START)
        .collect();
    // The first callback at 0; then the retry, its callback and the next message.
    assert_eq!(delivered_at, vec![0, 12 * SECOND, 12 * SECOND, 12 * SECOND]);
}

#[tokio::test]
async fn a_queue_is_upserted_paused_resumed_listed_and_deleted() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("ok").create();

    let created = api
        .post_json(
            "/v2/queues",
            json!({ "queueName": "jobs", "parallelism": 2 }),
        )
        .await;
    let paused = api.send("POST", "/v2/queues/jobs/pause", &[], "").await;
    api.send("POST", &format!("/v2/enqueue/jobs/{url}"), &[], "x")
        .await;
    mock.settle().await;
    let held = mock.sink_requests("ok").len();
    let resumed = api.send("POST", "/v2/queues/jobs/resume", &[], "").await;
    mock.settle().await;

    assert_eq!(created.json["parallelism"], 2);
    assert_eq!(created.json["paused"], false);
    assert_eq!(paused.json["paused"], true);
    assert_eq!(held, 0);
    assert_eq!(resumed.json["paused"], false);
    assert_eq!(mock.sink_requests("ok").len(), 1);
    assert_eq!(api.get("/v2/queues").await.json[0]["name"], "jobs");
    assert_eq!(api.delete("/v2/queues/jobs").await.status, 200);
    assert_refused(&api.get("/v2/queues/jobs").await, 404, "jobs");
}

#[tokio::test]
async fn bad_queue_names_and_settings_are_refused() {
    let (_mock, api) = frozen_mock().await;

    let bad_name = api
        .post_json("/v2/queues", json!({ "queueName": "a/b" }))
        .await;
    let no_name = api
        .post_json("/v2/queues", json!({ "parallelism": 1 }))
        .await;
    let zero = api
        .post_json("/v2/queues", json!({ "queueName": "q", "parallelism": 0 }))
        .await;
    let bad_enqueue = api
        .send("POST", "/v2/enqueue/b@d/https://example.com", &[], "")
        .await;

    assert_refused(&bad_name, 400, "queueName");
    assert_refused(&no_name, 400, "queueName: is required");
    assert_refused(&zero, 400, "parallelism");
    assert_refused(&bad_enqueue, 400, "queueName");
    assert_refused(
        &api.send("POST", "/v2/queues/none/pause", &[], "").await,
        404,
        "none",
    );
}

// Bulk cancel and DLQ filters.

#[tokio::test]
async fn bulk_cancel_and_the_dlq_filter_by_queue_label_and_url_group() {
    let (mock, api) = frozen_mock().await;
    let ok = mock.sink("ok").create();
    let down = mock.sink("down").statuses(&[500]).create();
    api.post_json("/v2/queues", json!({ "queueName": "held", "paused": true }))
        .await;
    for _ in 0..2 {
        api.send("POST", &format!("/v2/enqueue/held/{ok}"), &[], "x")
            .await;
    }
    api.publish_ok(&ok, &[("Upstash-Delay", "1h"), ("Upstash-Label", "keep")])
        .await;
    api.post_json(
        "/v2/topics/broken/endpoints",
        json!({ "endpoints": [{ "url": down }] }),
    )
    .await;
    api.publish("broken", &[("Upstash-Retries", "0")], "x")
        .await;
    api.publish_ok(&down, &[("Upstash-Retries", "0")]).await;
    mock.settle().await;

    let cancelled = api.delete("/v2/messages?queueName=held").await;
    let by_label = api.delete("/v2/messages?label=other").await;
    let dlq = api.get("/v2/dlq?topicName=broken").await;
    let no_queue = api.get("/v2/dlq?queueName=held").await;

    assert_eq!(cancelled.json["cancelled"], 2);
    assert_eq!(by_label.json["cancelled"], 0);
    assert_eq!(mock.with_engine(|e| e.message_count()), 1);
    assert_eq!(dlq.json["messages"].as_array().unwrap().len(), 1);
    assert_eq!(dlq.json["messages"][0]["topicName"], "broken");
    assert_eq!(no_queue.json["messages"], json!([]));
    assert_refused(&api.delete("/v2/messages?count=501").await, 400, "count");
}

// Schedules.

#[tokio::test]
async fn advancing_a_day_fires_a_daily_schedule_once_and_an_every_minute_one_1440_times() {
    let (mock, api) = frozen_mock().await;
    let daily = mock.sink("daily").create();
    let minutely = mock.sink("minutely").create();
    let create = |url: String, cron: &'static str| {
        let api = api.clone();
        async move {
            api.send(
                "POST",
                &format!("/v2/schedules/{url}"),
                &[("Upstash-Cron", cron)],
                "tick",
            )
            .await
        }
    };
    let daily_id = create(daily, "0 0 * * *").await.json["scheduleId"].clone();
    create(minutely, "* * * * *").await;

    mock.advance(Duration::from_millis(DAY)).await;

    assert_eq!(mock.sink_requests("daily").len(), 1);
    assert_eq!(mock.sink_requests("minutely").len(), 1440);
    let request = &mock.sink_requests("daily")[0];
    assert_eq!(
        request.header("upstash-schedule-id"),
        daily_id.as_str(),
        "deliveries name their schedule"
    );
    let schedule = api
        .get(&format!("/v2/schedules/{}", daily_id.as_str().unwrap()))
        .await;
    assert_eq!(schedule.json["lastScheduleTime"], START + DAY);
    assert_eq!(schedule.json["nextScheduleTime"], START + 2 * DAY);
    let states: Vec<&Value> = schedule.json["lastScheduleStates"]
        .as_object()
        .unwrap()
        .values()
        .collect();
    assert_eq!(states, vec![&json!("SUCCESS")]);
}

#[tokio::test]
async fn a_schedule_is_created_with_its_own_id_paused_resumed_listed_and_deleted() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("report").create();
    let headers = [
        ("Upstash-Cron", "CRON_TZ=Europe/Berlin 0 9 * * *"),
        ("Upstash-Schedule-Id", "morning-report"),
        ("Upstash-Retries", "2"),
        ("Content-Type", "text/plain"),
    ];

    let created = api
        .send("POST", &format!("/v2/schedules/{url}"), &headers, "go")
        .await;
    let fetched = api.get("/v2/schedules/morning-report").await;
    let paused = api
        .send("PATCH", "/v2/schedules/morning-report/pause", &[], "")
        .await;
    mock.advance(Duration::from_millis(DAY)).await;
    let held = mock.sink_requests("report").len();
    let resumed = api
        .send("POST", "/v2/schedules/morning-report/resume", &[], "")
        .await;
    mock.advance(Duration::from_millis(DAY)).await;

    assert_eq!(created.json["scheduleId"], "morning-report");
    assert_eq!(fetched.json["cron"], "CRON_TZ=Europe/Berlin 0 9 * * *");
    assert_eq!(fetched.json["destination"], url.as_str());
    assert_eq!(fetched.json["retries"], 2);
    assert_eq!(fetched.json["method"], "POST");
    assert_eq!(fetched.json["body"], "go");
    assert_eq!(fetched.json["isPaused"], false);
    assert_eq!(fetched.json["nextScheduleTime"], START + 8 * 3_600_000);
    assert_eq!(paused.status, 200);
    assert_eq!(held, 0);
    assert_eq!(resumed.status, 200);
    assert_eq!(mock.sink_requests("report").len(), 1);
    assert_eq!(
        api.get("/v2/schedules")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(api.delete("/v2/schedules/morning-report").await.status, 200);
    assert_refused(
        &api.get("/v2/schedules/morning-report").await,
        404,
        "morning-report",
    );
}

#[tokio::test]
async fn bad_schedules_are_refused_naming_the_header() {
    let (_mock, api) = frozen_mock().await;
    let create = |headers: Vec<(&'static str, &'static str)>| {
        let api = api.clone();
        async move {
            api.send("POST", "/v2/schedules/https://example.com/", &headers, "")
                .await
        }
    };

    let no_cron = create(vec![]).await;
    let bad_cron = create(vec![("Upstash-Cron", "61 * * * *")]).await;
    let bad_zone = create(vec![("Upstash-Cron", "CRON_TZ=Nowhere/City * * * * *")]).await;
    let bad_id = create(vec![
        ("Upstash-Cron", "* * * * *"),
        ("Upstash-Schedule-Id", "a b"),
    ])
    .await;

    assert_refused(&no_cron, 400, "Upstash-Cron: is required");
    assert_refused(&bad_cron, 400, "Upstash-Cron: minute: `61`");
    assert_refused(&bad_zone, 400, "Nowhere/City");
    assert_refused(&bad_id, 400, "Upstash-Schedule-Id");
    assert_refused(
        &api.send("PATCH", "/v2/schedules/none/pause", &[], "").await,
        404,
        "none",
    );
}

// Flow control.

#[tokio::test]
async fn a_flow_control_rate_spreads_attempts_over_its_periods() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("limited").create();
    let headers = [
        ("Upstash-Flow-Control-Key", "tenant-1"),
        ("Upstash-Flow-Control-Value", "rate=1, period=1m"),
    ];
    for _ in 0..3 {
        api.publish(&url, &headers, "x").await;
    }

    mock.settle().await;
    let key = api.get("/v2/flowControl/tenant-1").await;
    mock.advance(Duration::from_millis(5 * MINUTE)).await;

    assert_eq!(key.json["waitListSize"], 2);
    assert_eq!(key.json["rateMax"], 1);
    assert_eq!(key.json["rateCount"], 1);
    assert_eq!(key.json["ratePeriod"], 60);
    let delivered_at: Vec<u64> = mock
        .events()
        .iter()
        .filter(|e| e.name() == "attemptSucceeded")
        .map(|e| e.time - START)
        .collect();
    assert_eq!(delivered_at, vec![0, MINUTE, 2 * MINUTE]);
    let keys = api.get("/v2/flowControl?search=tenant").await;
    assert_eq!(keys.json[0]["flowControlKey"], "tenant-1");
    let global = api.get("/v2/globalParallelism").await;
    assert_eq!(global.json["parallelismCount"], 0);
    assert!(global.json["parallelismMax"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn flow_control_parallelism_delivers_one_at_a_time_in_order() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("serial").create();
    let headers = [
        ("Upstash-Flow-Control-Key", "serial"),
        ("Upstash-Flow-Control-Value", "parallelism=1"),
    ];
    let mut ids = Vec::new();
    for body in ["1", "2", "3"] {
        ids.push(api.publish(&url, &headers, body).await.json["messageId"].clone());
    }

    mock.settle().await;

    let bodies: Vec<Vec<u8>> = mock
        .sink_requests("serial")
        .iter()
        .map(|r| r.body_bytes())
        .collect();
    assert_eq!(bodies, vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
    let message = api
        .get("/v2/logs?flowControlKey=serial&state=DELIVERED")
        .await;
    assert_eq!(message.json["logs"][0]["flowControlKey"], "serial");
    assert_eq!(message.json["logs"][0]["parallelism"], 1);
}

#[tokio::test]
async fn bad_flow_control_is_refused_and_unknown_keys_are_not_found() {
    let (_mock, api) = frozen_mock().await;

    let no_value = api
        .publish(
            "https://example.com/",
            &[("Upstash-Flow-Control-Key", "k")],
            "",
        )
        .await;
    let bad_value = api
        .publish(
            "https://example.com/",
            &[
                ("Upstash-Flow-Control-Key", "k"),
                ("Upstash-Flow-Control-Value", "rate=none"),
            ],
            "",
        )
        .await;

    assert_refused(&no_value, 400, "Upstash-Flow-Control-Value");
    assert_refused(&bad_value, 400, "rate: `none`");
    assert_refused(&api.get("/v2/flowControl/unknown").await, 404, "unknown");
}

// Bulk actions.

#[tokio::test]
async fn bulk_dlq_actions_and_async_cancels_report_finished_actions() {
    let (mock, api) = frozen_mock().await;
    let down = mock.sink("down").statuses(&[500]).create();
    let later = mock.sink("later").create();
    for _ in 0..3 {
        api.publish_ok(&down, &[("Upstash-Retries", "0")]).await;
    }
    api.publish_ok(&later, &[("Upstash-Delay", "1h")]).await;
    mock.settle().await;
    let first_dlq_id = mock.dlq()[0].dlq_id.clone();

    let retried = api
        .send(
            "POST",
            &format!("/v2/dlq/retry/bulk?dlqIds={first_dlq_id}"),
            &[],
            "",
        )
        .await;
    mock.settle().await;
    let deleted = api.delete("/v2/dlq/bulk").await;
    let cancelled = api.delete("/v2/messages?async=true").await;

    // The retried message failed again, so the DLQ held three entries when deleted.
    for (answer, kind, processed) in [(&retried, "retry", 1), (&deleted, "delete", 3)] {
        let action_id = answer.json["actionId"].as_str().unwrap();
        let action = api.get(&format!("/v2/bulkActions/{action_id}")).await;
        assert_eq!(action.json["kind"], kind);
        assert_eq!(action.json["state"], "FINISHED");
        assert_eq!(action.json["processed"], processed);
    }
    let action_id = cancelled.json["actionId"].as_str().unwrap();
    let action = api.get(&format!("/v2/bulkActions/{action_id}")).await;
    assert_eq!(action.json["kind"], "cancel");
    assert!(action.json["processed"].as_u64().unwrap() >= 1);
    assert_refused(&api.get("/v2/bulkActions/act_none").await, 404, "act_none");
}

// Plan limits.

#[tokio::test]
async fn a_daily_quota_refuses_publishes_with_ratelimit_headers_until_midnight() {
    let (mock, api) = mock_with(MockServer::builder().daily_message_limit(2)).await;
    let url = mock.sink("ok").create();
    api.publish_ok(&url, &[]).await;
    api.publish_ok(&url, &[]).await;

    let refused = api.publish(&url, &[], "x").await;
    mock.advance(Duration::from_millis(DAY)).await;
    let next_day = api.publish(&url, &[], "x").await;

    assert_refused(&refused, 429, "daily message quota");
    assert_eq!(refused.headers["ratelimit-limit"], "2");
    assert_eq!(refused.headers["ratelimit-remaining"], "0");
    let reset = ((START + DAY) / 1000).to_string();
    assert_eq!(refused.headers["ratelimit-reset"], reset.as_str());
    assert_eq!(next_day.status, 200);
}

#[tokio::test]
async fn a_burst_limit_refuses_other_calls_with_burst_headers_within_a_second() {
    let (mock, api) = mock_with(MockServer::builder().burst_limit(1)).await;

    let first = api.get("/v2/queues").await;
    let second = api.get("/v2/queues").await;
    mock.advance(Duration::from_millis(SECOND)).await;
    let later = api.get("/v2/queues").await;

    assert_eq!(first.status, 200);
    assert_refused(&second, 429, "burst limit");
    assert_eq!(second.headers["burst-ratelimit-limit"], "1");
    assert!(second.headers.get("ratelimit-limit").is_none());
    assert_eq!(later.status, 200);
}

// Flow-control management.

fn delayed_flow(key: &'static str, value: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("Upstash-Flow-Control-Key", key),
        ("Upstash-Flow-Control-Value", value),
        ("Upstash-Delay", "10s"),
    ]
}

fn delivery_times(mock: &MockServer, sink: &str) -> Vec<u64> {
    mock.sink_requests(sink)
        .iter()
        .map(|r| r.time - START)
        .collect()
}

#[tokio::test]
async fn a_paused_flow_control_key_holds_its_messages_until_it_is_resumed() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("held").create();
    for _ in 0..2 {
        api.publish_ok(&url, &delayed_flow("tenant-p", "parallelism=2"))
            .await;
    }

    let paused = api
        .post_json("/v2/flowControl/tenant-p/pause", json!({}))
        .await;
    mock.advance(Duration::from_millis(MINUTE)).await;
    let while_paused = api.get("/v2/flowControl/tenant-p").await;
    let delivered_while_paused = mock.sink_requests("held").len();
    let resumed = api
        .post_json("/v2/flowControl/tenant-p/resume", json!({}))
        .await;
    mock.settle().await;

    assert_eq!(paused.status, 200);
    assert_eq!(paused.json["isPaused"], true);
    assert_eq!(while_paused.json["isPaused"], true);
    assert_eq!(while_paused.json["waitListSize"], 2);
    assert_eq!(delivered_while_paused, 0);
    assert_eq!(resumed.json["isPaused"], false);
    assert_eq!(delivery_times(&mock, "held"), vec![MINUTE, MINUTE]);
}

#[tokio::test]
async fn a_pinned_rate_overrides_the_published_one_until_it_is_unpinned() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("paced").create();
    let headers = delayed_flow("tenant-r", "rate=10, period=60");
    for _ in 0..3 {
        api.publish_ok(&url, &headers).await;
    }

    let pinned = api
        .post_json("/v2/flowControl/tenant-r/pin?rate=1", json!({}))
        .await;
    api.publish_ok(&url, &headers).await;
    let after_publish = api.get("/v2/flowControl/tenant-r").await;
    mock.advance(Duration::from_millis(5 * MINUTE)).await;
    let unpinned = api
        .post_json(
            "/v2/flowControl/tenant-r/unpin?rate=true&parallelism=false",
            json!({}),
        )
        .await;

    assert_eq!(pinned.json["isPinnedRate"], true);
    assert_eq!(pinned.json["isPinnedParallelism"], false);
    assert_eq!(after_publish.json["rateMax"], 1);
    assert_eq!(after_publish.json["ratePeriod"], 60);
    assert_eq!(
        delivery_times(&mock, "paced"),
        vec![10 * SECOND, MINUTE, 2 * MINUTE, 3 * MINUTE]
    );
    assert_eq!(unpinned.json["isPinnedRate"], false);
    assert_eq!(
        unpinned.json["rateMax"], 1,
        "kept until a publish brings another"
    );
}

#[tokio::test]
async fn resetting_the_rate_lets_a_waiting_message_go_at_once() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("hourly").create();
    for _ in 0..2 {
        api.publish_ok(&url, &delayed_flow("tenant-h", "rate=1, period=1h"))
            .await;
    }
    mock.advance(Duration::from_millis(MINUTE)).await;
    let before = api.get("/v2/flowControl/tenant-h").await;

    let reset = api
        .post_json("/v2/flowControl/tenant-h/resetRate", json!({}))
        .await;
    mock.settle().await;

    assert_eq!(
        (
            before.json["rateCount"].clone(),
            before.json["waitListSize"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(reset.status, 200);
    assert_eq!(reset.json["ratePeriodStart"], (START + MINUTE) / 1000);
    assert_eq!(delivery_times(&mock, "hourly"), vec![10 * SECOND, MINUTE]);
}

#[tokio::test]
async fn reset_resumes_and_unpins_a_flow_control_key() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("reset").create();
    api.publish_ok(&url, &delayed_flow("tenant-x", "parallelism=1"))
        .await;
    api.post_json("/v2/flowControl/tenant-x/pause", json!({}))
        .await;
    api.post_json(
        "/v2/flowControl/tenant-x/pin?parallelism=3&rate=2&period=30",
        json!({}),
    )
    .await;

    let reset = api
        .post_json("/v2/flowControl/tenant-x/reset", json!({}))
        .await;
    mock.advance(Duration::from_millis(MINUTE)).await;

    assert_eq!(reset.json["isPaused"], false);
    assert_eq!(reset.json["isPinnedParallelism"], false);
    assert_eq!(reset.json["isPinnedRate"], false);
    assert_eq!(reset.json["parallelismMax"], 3);
    assert_eq!(reset.json["ratePeriod"], 30);
    assert_eq!(delivery_times(&mock, "reset"), vec![10 * SECOND]);
}

#[tokio::test]
async fn bad_flow_control_management_is_refused_naming_the_parameter() {
    let (mock, api) = frozen_mock().await;
    let url = mock.sink("k").create();
    api.publish_ok(&url, &delayed_flow("k", "rate=1")).await;
    let post = |path: &'static str| {
        let api = api.clone();
        async move { api.post_json(path, json!({})).await }
    };

    assert_refused(&post("/v2/flowControl/nope/pause").await, 404, "`nope`");
    assert_refused(&post("/v2/flowControl/k/fly").await, 404, "`fly`");
    assert_refused(&post("/v2/flowControl/k/pin").await, 400, "pin:");
    assert_refused(
        &post("/v2/flowControl/k/pin?parallelism=0").await,
        400,
        "parallelism: `0`",
    );
    assert_refused(
        &post("/v2/flowControl/k/pin?rate=x").await,
        400,
        "rate: `x`",
    );
    assert_refused(
        &post("/v2/flowControl/k/pin?period=8d").await,
        400,
        "period: `8d`",
    );
    assert_refused(
        &post("/v2/flowControl/k/unpin?rate=maybe").await,
        400,
        "rate: `maybe`",
    );
    assert_refused(&post("/v2/flowControl/k/unpin").await, 400, "unpin:");
    assert_refused(&api.delete("/v2/flowControl/k").await, 405, "DELETE");
    let unchanged = api.get("/v2/flowControl/k").await;
    assert_eq!(unchanged.json["isPinnedRate"], false);
    assert_eq!(unchanged.json["rateMax"], 1);
}

// URL group default headers.

async fn patch_group(api: &support::Api, name: &str, body: Value) -> Answer {
    let headers = [("Content-Type", "application/json")];
    api.send(
        "PATCH",
        &format!("/v2/topics/{name}"),
        &headers,
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn a_url_group_forwards_its_default_headers_unless_the_publish_sets_them() {
    let (mock, api) = frozen_mock().await;
    let a = mock.sink("a").create();
    let b = mock.sink("b").create();
    api.post_json(
        "/v2/topics/crew/endpoints",
        json!({ "endpoints": [{ "url": a }, { "url": b }] }),
    )
    .await;

    let patched = patch_group(
        &api,
        "crew",
        json!({ "headers": {
            "x-team": "core",
            "X-Env": "test",
            "Upstash-Forward-X-Origin": "hook",
        } }),
    )
    .await;
    let published = api
        .publish("crew", &[("Upstash-Forward-X-Env", "prod")], "hi")
        .await;
    mock.settle().await;

    assert_eq!(patched.status, 200, "{}", patched.json);
    assert_eq!(
        patched.json["headers"],
        json!({ "X-Env": "test", "X-Origin": "hook", "X-Team": "core" })
    );
    assert_eq!(
        api.get("/v2/topics/crew").await.json["headers"],
        patched.json["headers"]
    );
    for sink in ["a", "b"] {
        let request = &mock.sink_requests(sink)[0];
        assert_eq!(request.header("x-team"), Some("core"));
        assert_eq!(request.header("x-env"), Some("prod"));
        assert_eq!(request.header("x-origin"), Some("hook"));
    }
    let id = published.json[0]["messageId"].as_str().unwrap();
    let logs = api.get(&format!("/v2/logs?messageId={id}")).await;
    assert_eq!(logs.json["logs"][0]["header"]["X-Team"], json!(["core"]));
}

#[tokio::test]
async fn bad_url_group_defaults_are_refused_and_unknown_groups_are_not_found() {
    let (mock, api) = frozen_mock().await;
    let a = mock.sink("a").create();
    api.post_json(
        "/v2/topics/crew/endpoints",
        json!({ "endpoints": [{ "url": a }] }),
    )
    .await;

    let unknown = patch_group(&api, "ghosts", json!({ "headers": { "X-A": "1" } })).await;
    let missing = patch_group(&api, "crew", json!({})).await;
    let not_text = patch_group(&api, "crew", json!({ "headers": { "X-A": 1 } })).await;
    let setting = patch_group(
        &api,
        "crew",
        json!({ "headers": { "Upstash-Retries": "1" } }),
    )
    .await;
    let bad_name = patch_group(&api, "crew", json!({ "headers": { "X A": "1" } })).await;

    assert_refused(&unknown, 404, "ghosts");
    assert_refused(&missing, 400, "headers: is required");
    assert_refused(&not_text, 400, "headers.X-A: must be a string");
    assert_refused(&setting, 400, "headers.Upstash-Retries:");
    assert_refused(&bad_name, 400, "headers.X A:");
    assert_eq!(api.get("/v2/topics/crew").await.json.get("headers"), None);
}

// Callback headers and header-name case.

#[tokio::test]
async fn callback_headers_reach_the_callbacks_with_or_without_the_forward_prefix() {
    let (mock, api) = frozen_mock().await;
    let ok = mock.sink("ok").create();
    let down = mock.sink("down").statuses(&[500]).create();
    let callback = mock.sink("callback").create();
    let failure = mock.sink("failure").create();
    let headers = [
        ("Upstash-Retries", "0"),
        ("Upstash-Callback", callback.as_str()),
        ("Upstash-Callback-X-Key", "k1"),
        ("Upstash-Callback-Forward-X-Other", "o1"),
        ("Upstash-Callback-Retries", "0"),
        ("Upstash-Failure-Callback", failure.as_str()),
        ("Upstash-Failure-Callback-X-Key", "k2"),
        ("Upstash-Failure-Callback-Timeout", "5s"),
    ];

    let id = api.publish_ok(&ok, &headers).await;
    let message = api.get(&format!("/v2/messages/{id}")).await;
    api.publish_ok(&down, &headers).await;
    mock.settle().await;

    assert_eq!(
        message.json["callbackHeader"],
        json!({ "X-Key": ["k1"], "X-Other": ["o1"] })
    );
    assert_eq!(
        message.json["failureCallbackHeader"],
        json!({ "X-Key": ["k2"] })
    );
    let called = mock.sink_requests("callback");
    assert_eq!(called.len(), 2, "one callback per attempt");
    assert_eq!(called[0].header("x-key"), Some("k1"));
    assert_eq!(called[0].header("x-other"), Some("o1"));
    assert_eq!(called[0].header("retries"), None);
    let failed = &mock.sink_requests("failure")[0];
    assert_eq!(failed.header("x-key"), Some("k2"));
    assert_eq!(failed.header("timeout"), None);
    let bad = api
        .publish(
            &ok,
            &[
                ("Upstash-Callback", callback.as_str()),
                ("Upstash-Callback-Retries", "many"),
            ],
            "x",
        )
        .await;
    assert_refused(&bad, 400, "Upstash-Callback-Retries: `many`");
}

#[tokio::test]
async fn forwarded_header_names_read_as_go_canonicalises_them() {
    let (mock, api) = frozen_mock().await;
    let down = mock.sink("down").statuses(&[500]).create();
    let headers = [
        ("content-type", "text/plain"),
        ("upstash-forward-x-trace-id", "t-1"),
        ("Upstash-Retries", "0"),
        ("Upstash-Delay", "10s"),
    ];

    let id = api.publish_ok(&down, &headers).await;
    let pending = api.get(&format!("/v2/messages/{id}")).await;
    mock.advance(Duration::from_millis(MINUTE)).await;
    let dlq = api.get("/v2/dlq").await;

    let expected = json!({ "Content-Type": ["text/plain"], "X-Trace-Id": ["t-1"] });
    assert_eq!(pending.json["header"], expected);
    assert_eq!(dlq.json["messages"][0]["header"], expected);
    let delivered = &mock.sink_requests("down")[0];
    assert_eq!(delivered.header("x-trace-id"), Some("t-1"));
    let bad = api
        .publish(&down, &[("Upstash-Header-Forward", "sometimes")], "x")
        .await;
    assert_refused(&bad, 400, "Upstash-Header-Forward: `sometimes`");
}
