//! Queues: upsert, get, list, delete, pause and resume.

use qstash_sdk::QueueSettings;

use crate::support::{answering_empty, answering_fixture, client, only_request, received};

#[tokio::test]
async fn upserting_a_queue_posts_its_settings_as_json() {
    let server = answering_empty().await;

    client(&server)
        .queues()
        .upsert(QueueSettings::new("emails").parallelism(2).paused())
        .await
        .unwrap();

    insta::assert_json_snapshot!(only_request(&server).await);
}

#[tokio::test]
async fn upserting_a_queue_with_an_invalid_name_is_refused_before_sending() {
    let server = answering_empty().await;

    let err = client(&server)
        .queues()
        .upsert(QueueSettings::new("bad name"))
        .await
        .unwrap_err();

    assert!(err.is_invalid_input(), "{err:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn getting_a_queue_calls_its_path_and_decodes_it() {
    let server = answering_fixture("queue").await;

    let queue = client(&server).queues().get("emails").await.unwrap();

    insta::assert_debug_snapshot!(queue);
    insta::assert_json_snapshot!("get_queue_request", only_request(&server).await);
}

#[tokio::test]
async fn listing_queues_decodes_every_queue() {
    let server = answering_fixture("queues").await;

    let queues = client(&server).queues().list().await.unwrap();

    let names: Vec<_> = queues.iter().map(|queue| queue.name.as_str()).collect();
    assert_eq!(names, vec!["emails", "reports"]);
    assert!(queues[1].paused);
    assert_eq!(queues[0].lag, Some(7));
}

#[tokio::test]
async fn deleting_pausing_and_resuming_a_queue_call_their_paths() {
    let server = answering_empty().await;
    let client = client(&server);

    client.queues().delete("emails").await.unwrap();
    client.queues().pause("emails").await.unwrap();
    client.queues().resume("emails").await.unwrap();

    let calls: Vec<_> = received(&server)
        .await
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect();
    insta::assert_json_snapshot!(calls);
}
