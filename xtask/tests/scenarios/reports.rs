//! What reports say when expectations fail, when a step fails, and in JSON.

use crate::support::{embedded_mock, inline, library_scenario, play_embedded, target_of};
use xtask::scenario::{self, render_json, render_text};

const WRONG_CLAIMS: &str = r#"
[sinks.app]
statuses = [500]

[[step]]
publish = "app"
as = "order"
headers = { Upstash-Retries = "1" }

[[step]]
advance = "1h"

[[expect]]
message = "order"
status = "delivered"
retry_delays = ["10s"]

[[expect]]
dlq = "order"
fields = { responseStatus = 503, maxRetries = 1 }

[[expect]]
dlq_entries = []
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_expectations_show_the_expected_and_the_actual_value() {
    let scenario = inline(WRONG_CLAIMS);

    let report = play_embedded(&scenario).await;

    assert!(!report.passed());
    assert_eq!(report.failed_checks(), 4);
    assert_eq!(report.passed_checks(), 0);
    insta::assert_snapshot!(report.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_step_stops_the_scenario_and_fails_it() {
    let scenario = inline(
        r#"
        [sinks.app]

        [[step]]
        publish = "app"
        as = "order"

        [[step]]
        dlq_retry = "order"

        [[step]]
        advance = "1h"

        [[expect]]
        message = "order"
        status = "delivered"
        "#,
    );

    let report = play_embedded(&scenario).await;

    assert!(!report.passed());
    assert_eq!(report.steps.len(), 2);
    assert_eq!(
        report.error.as_deref(),
        Some("step 2 failed: `order` has not moved to the DLQ")
    );
    assert!(report.checks.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_publish_is_reported_with_the_error_the_api_gave() {
    let scenario = inline(
        r#"
        [sinks.app]

        [[step]]
        publish = "app"
        as = "order"
        headers = { Upstash-Retry-Delay = "pow(2," }

        [[expect]]
        response = "order"
        http_status = 400
        "#,
    );

    let report = play_embedded(&scenario).await;

    assert!(report.passed(), "{}", report.text());
    let outcome = report.steps[0].outcome.clone().unwrap_or_default();
    assert!(
        outcome.starts_with("answered 400 {\"error\":\"Upstash-Retry-Delay"),
        "{outcome}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_scenario_gives_the_same_report_twice_on_one_mock() {
    let scenario = library_scenario("11-failure-callback.toml");
    let mock = embedded_mock().await;
    let target = target_of(&mock);

    let first = scenario::play(&scenario, &target).await;
    let second = scenario::play(&scenario, &target).await;

    assert_eq!(first.text(), second.text());
    assert_eq!(render_json(&[first]), render_json(&[second]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_holds_the_same_checks_as_the_text() {
    let scenario = library_scenario("02-never-recovers.toml");
    let report = play_embedded(&scenario).await;

    let json: serde_json::Value =
        serde_json::from_str(&render_json(std::slice::from_ref(&report))).expect("valid JSON");

    let scenario_json = &json["scenarios"][0];
    assert_eq!(json["passed"], 1);
    assert_eq!(json["failed"], 0);
    assert_eq!(scenario_json["name"], "never-recovers");
    assert_eq!(scenario_json["checksPassed"], report.passed_checks());
    assert_eq!(
        scenario_json["steps"][5]["events"][1]["event"],
        "movedToDlq"
    );
    assert_eq!(scenario_json["steps"][5]["events"][1]["offset"], "+32m48s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_of_a_run_ends_with_the_count_of_scenarios() {
    let passing = play_embedded(&library_scenario("13-deduplication.toml")).await;
    let failing = play_embedded(&inline(WRONG_CLAIMS)).await;

    let text = render_text(&[passing, failing]);

    assert_eq!(text.lines().last(), Some("scenarios: 1 passed, 1 failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_absolute_advances_and_key_rotation_play_as_written() {
    let scenario = inline(
        r#"
        [sinks.app]
        statuses = [500, 200]

        [[step]]
        publish = "app"
        as = "order"

        [[step]]
        settle = true

        [[step]]
        rotate_keys = true

        [[step]]
        advance_to = "2030-01-01T00:00:12Z"

        [[expect]]
        message = "order"
        status = "delivered"
        attempted_at = ["+0s", "+12s"]

        [[expect]]
        event = "keysRotated"
        count = 1
        "#,
    );

    let report = play_embedded(&scenario).await;

    assert!(report.passed(), "{}", report.text());
    let rotation = &report.steps[2];
    assert_eq!(rotation.action, "rotate the signing keys");
    assert_eq!(rotation.events[0].event, "keysRotated");
    assert_eq!(report.steps[3].outcome.as_deref(), Some("clock at +12s"));
}
