//! A scenario plays the same against a separately started mock as against the embedded
//! one, whatever that mock was launched with.

use crate::support::{library_scenario, play_embedded, target_of};
use qstash_mock::{ClockMode, MockServer, Plan};
use xtask::scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_reports_the_same_against_a_separately_started_mock() {
    let scenario = library_scenario("02-never-recovers.toml");
    let separate = MockServer::builder()
        .seed(99)
        .plan(Plan::Free)
        .start_at_ms(1_000)
        .clock_mode(ClockMode::Running { speed: 1.0 })
        .start()
        .await
        .expect("the mock starts");
    let embedded = play_embedded(&scenario).await;

    let remote = scenario::play(&scenario, &target_of(&separate)).await;

    assert!(remote.passed(), "{}", remote.text());
    assert_eq!(remote.text(), embedded.text());
    separate.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_stops_the_scenario_before_any_step() {
    let scenario = library_scenario("13-deduplication.toml");
    let mock = MockServer::start().await;
    let mut target = target_of(&mock);
    target.token = "not-the-token".to_owned();

    let report = scenario::play(&scenario, &target).await;

    assert!(!report.passed());
    assert!(report.steps.is_empty());
    assert!(report.settings.is_none());
    let error = report.error.unwrap_or_default();
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains("not-the-token"), "{error}");
}
