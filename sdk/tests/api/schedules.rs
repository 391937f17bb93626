//! Schedules: create, get, list, delete, pause and resume.

use std::time::Duration;

use qstash_sdk::{Callback, Destination, PublishRequest, ScheduleRequest};

use crate::support::{answering_empty, answering_fixture, client, only_request, received};

#[tokio::test]
async fn creating_a_schedule_sends_the_cron_id_queue_and_publish_headers() {
    let server = answering_fixture("schedule_created").await;
    let message = PublishRequest::new(Destination::url("https://example.com/report?day=1"))
        .json(&serde_json::json!({ "report": "daily" }))
        .retries(2)
        .delay(Duration::from_secs(30))
        .queue("reports")
        .failure_callback(Callback::new("https://example.com/failed"))
        .label("reports");
    let schedule = ScheduleRequest::new("CRON_TZ=Europe/Berlin 0 6 * * *", message)
        .schedule_id("daily-report");

    let id = client(&server).schedules().create(schedule).await.unwrap();

    assert_eq!(id, "scd_new");
    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn getting_a_schedule_decodes_every_field() {
    let server = answering_fixture("schedule").await;

    let schedule = client(&server).schedules().get("scd_123").await.unwrap();

    insta::assert_debug_snapshot!(schedule);
    insta::assert_json_snapshot!("get_schedule_request", only_request(&server).await);
}

#[tokio::test]
async fn listing_schedules_reads_string_timestamps_and_older_names() {
    let server = answering_fixture("schedules").await;

    let schedules = client(&server).schedules().list().await.unwrap();

    assert_eq!(schedules.len(), 2);
    assert_eq!(
        schedules[0].created_at.map(|at| at.unix_timestamp()),
        Some(1_690_000_000)
    );
    assert_eq!(schedules[1].retry_delay_expression.as_deref(), Some("500"));
    assert!(schedules[1].is_paused);
}

#[tokio::test]
async fn deleting_pausing_and_resuming_a_schedule_use_delete_and_patch() {
    let server = answering_empty().await;
    let client = client(&server);

    client.schedules().delete("scd_123").await.unwrap();
    client.schedules().pause("scd_123").await.unwrap();
    client.schedules().resume("scd_123").await.unwrap();

    let calls: Vec<_> = received(&server)
        .await
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect();
    insta::assert_json_snapshot!(calls);
}
