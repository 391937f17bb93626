//! The engine without sockets: attempts are answered by hand.

use super::*;
use bytes::Bytes;

const START: u64 = 1_893_456_000_000;

fn engine() -> Engine {
    Engine::new(EngineConfig {
        seed: 1,
        plan: Plan::Free,
        ..EngineConfig::default()
    })
}

fn publish(engine: &mut Engine, now: u64, settings: PublishSettings) -> String {
    let request = PublishRequest {
        destination: "https://app.example.com/hook".to_owned(),
        body: Bytes::from_static(b"{}"),
        settings,
        caller_ip: None,
    };
    engine.publish(now, request).unwrap().message_id
}

fn answer(status: u16) -> AttemptOutcome {
    AttemptOutcome::Response(CapturedResponse {
        status,
        headers: Vec::new(),
        body: Bytes::new(),
    })
}

/// Runs every due instant up to `until`, answering each attempt with `status`; returns
/// the instants attempts were made at, relative to `START`.
fn run(engine: &mut Engine, until: u64, status: u16) -> Vec<u64> {
    let mut times = Vec::new();
    while let Some(at) = engine.next_due_at().filter(|at| *at <= until) {
        for attempt in engine.start_due(at) {
            times.push(at - START);
            engine.finish_attempt(at, &attempt, answer(status));
        }
    }
    times
}

#[test]
fn a_failing_message_follows_the_default_backoff_into_the_dlq() {
    let mut engine = engine();
    publish(&mut engine, START, PublishSettings::default());

    let times = run(&mut engine, START + 86_400_000, 500);

    assert_eq!(times, vec![0, 12_000, 160_000, 1_968_000]);
    assert_eq!(engine.dlq_len(), 1);
    assert_eq!(engine.message_count(), 0);
}

#[test]
fn the_fifth_retry_and_later_wait_a_day() {
    let mut engine = engine();
    let settings = PublishSettings {
        retries: Some(6),
        ..PublishSettings::default()
    };
    publish(&mut engine, START, settings);

    let times = run(&mut engine, START + 10 * 86_400_000, 500);

    let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]) / 1000).collect();
    assert_eq!(gaps, vec![12, 148, 1_808, 22_026, 86_400, 86_400]);
}

#[test]
fn an_attempt_signature_names_the_url_and_uses_the_current_key() {
    let mut engine = engine();
    publish(&mut engine, START, PublishSettings::default());

    let attempt = engine.start_due(START).remove(0);

    let signature = attempt
        .request
        .headers
        .iter()
        .find(|(name, _)| name == "Upstash-Signature")
        .map(|(_, value)| value.clone())
        .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_exp = false;
    validation.sub = Some("https://app.example.com/hook".to_owned());
    let key = jsonwebtoken::DecodingKey::from_secret(DEV_CURRENT_SIGNING_KEY.as_bytes());
    assert!(jsonwebtoken::decode::<serde_json::Value>(&signature, &key, &validation).is_ok());
}

#[test]
fn a_cancel_during_an_attempt_drops_its_outcome() {
    let mut engine = engine();
    let id = publish(&mut engine, START, PublishSettings::default());
    let attempt = engine.start_due(START).remove(0);

    engine.cancel(START, &id).unwrap();
    engine.finish_attempt(START, &attempt, answer(500));

    assert_eq!(engine.message_count(), 0);
    assert!(engine.is_idle());
    assert_eq!(engine.dlq_len(), 0);
    assert!(engine.cancel(START, &id).is_err());
}

#[test]
fn a_dlq_retry_takes_overrides_and_a_new_id() {
    let mut engine = engine();
    let id = publish(&mut engine, START, PublishSettings::default());
    run(&mut engine, START + 86_400_000, 500);
    let dlq_id = engine.dlq_entries().next().unwrap().dlq_id.clone();
    let overrides = PublishSettings {
        retries: Some(0),
        ..PublishSettings::default()
    };

    let retried = engine
        .dlq_retry(START + 86_400_000, &dlq_id, &overrides)
        .unwrap();

    assert_ne!(retried.message_id, id);
    assert_eq!(engine.message(&retried.message_id).unwrap().max_retries, 0);
    assert!(engine.dlq_entry(&dlq_id).is_none());
    assert!(engine.dlq_retry(START, &dlq_id, &overrides).is_err());
}

#[test]
fn a_dlq_entry_expires_exactly_at_the_end_of_retention() {
    let mut engine = engine();
    let settings = PublishSettings {
        retries: Some(0),
        ..PublishSettings::default()
    };
    publish(&mut engine, START, settings);
    run(&mut engine, START, 500);
    let expires_at = engine.dlq_entries().next().unwrap().expires_at;

    engine.start_due(expires_at - 1);
    let before = engine.dlq_len();
    engine.start_due(expires_at);

    assert_eq!(expires_at - START, 3 * 86_400_000);
    assert_eq!((before, engine.dlq_len()), (1, 0));
    assert_eq!(engine.events().last().unwrap().name(), "dlqExpired");
}

#[test]
fn exported_state_imports_into_an_equal_engine() {
    let mut engine = engine();
    publish(&mut engine, START, PublishSettings::default());
    run(&mut engine, START + 60_000, 500);

    let copy = Engine::import(engine.export()).unwrap();

    assert_eq!(copy.export(), engine.export());
    assert_eq!(copy.next_due_at(), engine.next_due_at());
}

#[test]
fn a_delay_over_the_plan_limit_is_refused_and_nothing_changes() {
    let mut engine = engine();
    let request = PublishRequest {
        destination: "https://app.example.com/".to_owned(),
        body: Bytes::new(),
        settings: PublishSettings {
            delay_ms: Some(8 * 86_400_000),
            ..PublishSettings::default()
        },
        caller_ip: None,
    };

    let error = engine.publish(START, request).unwrap_err();

    assert_eq!(error.status(), 400);
    assert!(error.to_string().starts_with("Upstash-Delay:"));
    assert_eq!(engine.event_count(), 0);
}
