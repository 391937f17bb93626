//! Malformed scenario files are refused before anything runs, with the file, the line,
//! the column and what was expected.

use std::path::Path;
use xtask::scenario;

/// The error a scenario text gives, as printed.
fn error_of(text: &str) -> String {
    match scenario::parse(text, "broken.toml", "broken") {
        Ok(_) => panic!("the scenario loaded"),
        Err(error) => error.to_string(),
    }
}

const SINK_AND_PUBLISH: &str = "[sinks.app]\n\n[[step]]\npublish = \"app\"\nas = \"order\"\n";

#[test]
fn an_unknown_key_is_refused_with_its_line_and_the_keys_expected() {
    let text =
        format!("{SINK_AND_PUBLISH}\n[[expect]]\nmessage = \"order\"\nstauts = \"delivered\"\n");

    let error = error_of(&text);

    assert!(
        error.starts_with("broken.toml:9:1: unknown field `stauts`, expected one of `message`"),
        "{error}"
    );
}

#[test]
fn invalid_toml_is_refused_with_its_line() {
    let error = error_of("[sinks.app]\nstatuses = [500,\n\n[[step]]\n");

    assert_eq!(error, "broken.toml:4:3: invalid array; expected `]`");
}

#[test]
fn a_value_of_the_wrong_type_names_the_type_expected() {
    let error = error_of("[[step]]\nadvance = 12\n");

    assert_eq!(
        error,
        "broken.toml:2:11: invalid type: integer `12`, expected a string"
    );
}

#[test]
fn a_scenario_without_steps_is_refused() {
    let error = error_of("[sinks.app]\n");

    assert_eq!(
        error,
        "broken.toml:1:1: a scenario needs at least one `[[step]]`"
    );
}

#[test]
fn a_step_without_an_action_lists_the_actions() {
    let error = error_of("[[step]]\nas = \"order\"\n");

    assert_eq!(
        error,
        "broken.toml:1:1: a step needs one action; expected one of publish, advance, \
         advance_to, next, run_until_idle, settle, dlq_retry, dlq_delete, cancel, rotate_keys"
    );
}

#[test]
fn a_step_with_two_actions_points_at_the_second() {
    let error = error_of("[[step]]\nadvance = \"1s\"\nnext = 1\n");

    assert_eq!(
        error,
        "broken.toml:3:8: a step has one action, but this one also has `next`; \
         split it into two `[[step]]` tables"
    );
}

#[test]
fn a_publish_to_an_undeclared_sink_is_refused() {
    let error = error_of("[sinks.app]\n\n[[step]]\npublish = \"ap\"\n");

    assert_eq!(
        error,
        "broken.toml:4:11: `publish`: no sink named `ap`; declare `[sinks.ap]` or give a \
         URL starting with http:// or https://"
    );
}

#[test]
fn a_message_named_before_it_is_published_is_refused() {
    let text = format!("{SINK_AND_PUBLISH}\n[[step]]\ncancel = \"ordr\"\n");

    let error = error_of(&text);

    assert_eq!(
        error,
        "broken.toml:8:10: no message is named `ordr` before this point; name one with \
         `as = \"ordr\"` on a publish step"
    );
}

#[test]
fn a_bad_duration_says_what_a_duration_looks_like() {
    let error = error_of("[[step]]\nadvance = \"12 seconds\"\n");

    assert!(
        error.starts_with("broken.toml:2:11: `advance`: "),
        "{error}"
    );
    assert!(
        error.ends_with("expected a duration like \"12s\", \"2m28s\" or \"7d\""),
        "{error}"
    );
}

#[test]
fn an_offset_without_a_plus_is_refused() {
    let text =
        format!("{SINK_AND_PUBLISH}\n[[expect]]\nmessage = \"order\"\nattempted_at = [\"12s\"]\n");

    let error = error_of(&text);

    assert_eq!(
        error,
        "broken.toml:9:16: `attempted_at`: `12s` is not a time; expected an offset from \
         the scenario's start like \"+2m28s\""
    );
}

#[test]
fn a_fact_that_does_not_fit_the_subject_lists_the_facts_that_do() {
    let text = format!("{SINK_AND_PUBLISH}\n[[expect]]\nsink = \"app\"\nstatus = \"delivered\"\n");

    let error = error_of(&text);

    assert_eq!(
        error,
        "broken.toml:9:10: `status` is not a fact about a sink; expected requests, \
         statuses, retried, received_at, nth, headers, json_body, body"
    );
}

#[test]
fn an_expectation_with_two_subjects_is_refused() {
    let text = format!("{SINK_AND_PUBLISH}\n[[expect]]\nmessage = \"order\"\nsink = \"app\"\n");

    let error = error_of(&text);

    assert_eq!(
        error,
        "broken.toml:9:8: an expectation has one subject, but this one has `message` and \
         `sink`; split it into two"
    );
}

#[test]
fn an_unknown_message_status_lists_the_statuses() {
    let text = format!("{SINK_AND_PUBLISH}\n[[expect]]\nmessage = \"order\"\nstatus = \"done\"\n");

    let error = error_of(&text);

    assert_eq!(
        error,
        "broken.toml:9:10: `status`: `done` is not a message status; expected one of \
         pending, retrying, delivered, inDlq, retriedFromDlq, deletedFromDlq, expired, \
         cancelled"
    );
}

#[test]
fn an_unknown_sink_response_key_is_refused_with_its_line() {
    let error =
        error_of("[sinks.app]\nresponses = [{ stauts = 500 }]\n\n[[step]]\nsettle = true\n");

    assert!(
        error.starts_with("broken.toml:2:16: unknown field `stauts`, expected one of `status`"),
        "{error}"
    );
}

#[test]
fn an_unknown_plan_names_the_plans() {
    let error = error_of("[mock]\nplan = \"pro\"\n\n[[step]]\nsettle = true\n");

    assert_eq!(
        error,
        "broken.toml:2:8: `plan`: unknown plan `pro`, expected free, payg, fixed-1m or \
         fixed-10m"
    );
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let error = scenario::load(Path::new("no/such/scenario.toml")).unwrap_err();

    assert!(
        error
            .to_string()
            .starts_with("no/such/scenario.toml: could not read the file: "),
        "{error}"
    );
}
