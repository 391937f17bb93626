//! Every scenario of the built-in library passes, and its text report is pinned.

use crate::support::{library_scenario, play_embedded};
use std::collections::BTreeSet;

/// One test per library file; the list is checked against the folder below.
macro_rules! library_tests {
    ($($test:ident => $file:literal,)*) => {
        const PINNED: &[&str] = &[$($file),*];

        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let scenario = library_scenario($file);

                let report = play_embedded(&scenario).await;

                insta::assert_snapshot!(scenario.name.clone(), report.text());
                assert!(report.passed(), "{}", report.text());
            }
        )*
    };
}

library_tests! {
    an_endpoint_that_recovers_within_its_retries_is_delivered => "01-recovers-within-retries.toml",
    an_endpoint_that_never_recovers_lands_in_the_dlq_on_schedule => "02-never-recovers.toml",
    a_dlq_retry_that_succeeds_uses_a_new_id_and_removes_the_entry => "03-dlq-retry-succeeds.toml",
    a_dlq_retry_that_fails_again_returns_to_the_dlq => "04-dlq-retry-fails-again.toml",
    a_deleted_dlq_entry_is_gone => "05-dlq-delete.toml",
    a_dlq_entry_expires_after_three_days_on_the_free_plan => "06-expiry-free-plan.toml",
    a_dlq_entry_expires_after_seven_days_on_pay_as_you_go => "07-expiry-payg.toml",
    a_non_retryable_answer_goes_straight_to_the_dlq => "08-non-retryable.toml",
    retry_after_is_honoured_up_to_one_day => "09-retry-after.toml",
    a_custom_retry_delay_replaces_the_backoff => "10-custom-retry-delay.toml",
    a_failure_callback_carries_the_dlq_id => "11-failure-callback.toml",
    a_callback_is_called_after_every_attempt => "12-callback-every-attempt.toml",
    a_duplicate_publish_is_answered_with_the_first_id => "13-deduplication.toml",
    a_cancelled_message_is_not_retried_nor_dead_lettered => "14-cancel.toml",
}

#[test]
fn every_library_file_has_a_pinned_report() {
    let files: BTreeSet<String> = std::fs::read_dir(xtask::scenario::library_dir())
        .expect("the library folder exists")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();

    let pinned: BTreeSet<String> = PINNED.iter().map(|f| (*f).to_owned()).collect();

    assert_eq!(files, pinned);
    assert!(
        files.len() >= 12,
        "the library holds {} scenarios",
        files.len()
    );
}
