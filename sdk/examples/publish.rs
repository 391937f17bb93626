//! Publishes a JSON message, a delayed message and a small batch.
//!
//! ```sh
//! QSTASH_URL=http://127.0.0.1:8080 QSTASH_TOKEN=... \
//!     cargo run -p qstash-sdk --example publish -- https://example.com/webhook
//! ```
//!
//! `QSTASH_URL` is optional (the real service is the default); the
//! destination defaults to `https://example.com/webhook`.

// An example reports to the person running it.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use qstash_sdk::{Callback, Client, Destination, PublishRequest};

#[tokio::main]
async fn main() -> Result<(), qstash_sdk::Error> {
    let destination = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "https://example.com/webhook".to_owned());
    let client = Client::from_env()?;

    // A JSON message with a few retries and a failure callback.
    let request = PublishRequest::new(Destination::url(&destination))
        .json(&serde_json::json!({ "event": "signup", "user": 7 }))
        .retries(2)
        .retry_delay("1000 * (1 + retried)")
        .failure_callback(Callback::new("https://example.com/failed").retries(0))
        .label("example");
    let published = client.publish(request).await?;
    println!("published {:?}", published.message_ids());

    // The same destination, a minute from now, deduplicated by id.
    let delayed = PublishRequest::new(Destination::url(&destination))
        .body("see you in a minute")
        .content_type("text/plain")
        .delay(Duration::from_secs(60))
        .deduplication_id("example-delayed");
    let published = client.publish(delayed).await?;
    println!("delayed {:?}", published.messages());

    // Two messages in one call.
    let outcomes = client
        .batch([
            PublishRequest::new(Destination::url(&destination)).body("first"),
            PublishRequest::new(Destination::url(&destination)).body("second"),
        ])
        .await?;
    println!("batch {outcomes:?}");
    Ok(())
}
