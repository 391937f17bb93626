//! The Rust SDK against the mock: an app that verifies every delivery with the SDK's
//! `Receiver` fails, its message lands in the DLQ, the SDK finds, retries, filters,
//! pages through and deletes DLQ entries, and retention expires them.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use futures_util::TryStreamExt;
use qstash_mock::MockServer;
use qstash_sdk::{
    Client, Destination, DlqFilter, PublishRequest, PublishResponse, Receiver, RetryPolicy,
};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An application endpoint: checks the signature of every request, then answers with the
/// status it is told to.
struct App {
    receiver: Receiver,
    url: String,
    status: AtomicU16,
    verified: Mutex<Vec<String>>,
    refused: AtomicUsize,
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("upstash-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if app
        .receiver
        .verify(signature, &body, Some(&app.url))
        .is_err()
    {
        app.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let id = headers["upstash-message-id"].to_str().unwrap().to_owned();
    app.verified.lock().unwrap().push(id);
    StatusCode::from_u16(app.status.load(Ordering::SeqCst)).unwrap()
}

async fn start_app(mock: &MockServer) -> Arc<App> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    let keys = mock.signing_keys();
    let app = Arc::new(App {
        receiver: Receiver::new(keys.current, keys.next),
        url,
        status: AtomicU16::new(500),
        verified: Mutex::new(Vec::new()),
        refused: AtomicUsize::new(0),
    });
    let router = Router::new()
        .route("/webhook", post(webhook))
        .with_state(Arc::clone(&app));
    tokio::spawn(async move { axum::serve(listener, router).await });
    app
}

fn client(mock: &MockServer) -> Client {
    Client::builder()
        .base_url(mock.uri())
        .token(mock.token())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

async fn publish(client: &Client, request: PublishRequest) -> String {
    match client.publish(request).await.unwrap() {
        PublishResponse::Url(message) => message.message_id,
        other => panic!("expected a single message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_message_is_found_retried_from_the_dlq_and_then_delivered() {
    let mock = MockServer::start().await;
    let app = start_app(&mock).await;
    let client = client(&mock);
    let request = PublishRequest::new(Destination::url(&app.url))
        .retries(1)
        .body("order 42");

    let message_id = publish(&client, request).await;
    mock.advance(Duration::from_secs(3600)).await;
    let entries: Vec<_> = client
        .dlq()
        .list()
        .into_stream()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.message.message_id, message_id);
    assert_eq!(entry.response_status, Some(500));

    app.status.store(200, Ordering::SeqCst);
    let retried = client.dlq().retry(&entry.dlq_id).await.unwrap();
    mock.settle().await;

    assert_ne!(retried.message_id, message_id);
    let verified = app.verified.lock().unwrap().clone();
    assert_eq!(
        verified,
        vec![message_id.clone(), message_id, retried.message_id]
    );
    assert_eq!(
        app.refused.load(Ordering::SeqCst),
        0,
        "every delivery verifies"
    );
    assert!(client
        .dlq()
        .list()
        .send()
        .await
        .unwrap()
        .messages
        .is_empty());
}

#[tokio::test]
async fn the_sdk_pages_filters_deletes_and_sees_entries_expire() {
    let mock = MockServer::start().await;
    let sink = mock.sink("down").statuses(&[500]).create();
    let client = client(&mock);
    for n in 0..130 {
        let mut request = PublishRequest::new(Destination::url(&sink)).retries(0);
        if n % 10 == 0 {
            request = request.label("vip");
        }
        publish(&client, request).await;
    }
    mock.settle().await;

    let all: Vec<_> = client
        .dlq()
        .list()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let first_page = client.dlq().list().count(100).send().await.unwrap();
    let vip = client
        .dlq()
        .list()
        .filter(DlqFilter::new().label("vip"))
        .send()
        .await
        .unwrap();

    assert_eq!(all.len(), 130, "the stream walks more than one page");
    assert!(first_page.cursor.is_some());
    assert_eq!(vip.messages.len(), 13);

    client.dlq().delete(&all[0].dlq_id).await.unwrap();
    let deleted = client
        .dlq()
        .delete_many(all[1..11].iter().map(|e| e.dlq_id.clone()))
        .await
        .unwrap();
    let gone = client.dlq().get(&all[0].dlq_id).await.unwrap_err();

    assert_eq!(deleted, 10);
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    assert!(client
        .dlq()
        .delete_many(Vec::<String>::new())
        .await
        .unwrap_err()
        .is_invalid_input());

    mock.advance(Duration::from_secs(7 * 24 * 3600)).await;
    let left = client.dlq().list().send().await.unwrap();

    assert!(
        left.messages.is_empty(),
        "the payg retention of 7 days expired them"
    );
    let expired = client.dlq().get(&all[20].dlq_id).await.unwrap_err();
    assert_eq!(expired.status().map(|s| s.as_u16()), Some(404));
}
