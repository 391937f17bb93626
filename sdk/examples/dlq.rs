//! Works through the dead-letter queue: lists every entry, retries those
//! that failed with a server error, and deletes the rest.
//!
//! ```sh
//! QSTASH_URL=http://127.0.0.1:8080 QSTASH_TOKEN=... cargo run -p qstash-sdk --example dlq
//! ```

// An example reports to the person running it.
#![allow(clippy::print_stdout)]

use futures_util::TryStreamExt;
use qstash_sdk::{Client, DlqMessage};

#[tokio::main]
async fn main() -> Result<(), qstash_sdk::Error> {
    let client = Client::from_env()?;

    let entries: Vec<DlqMessage> = client
        .dlq()
        .list()
        .count(100)
        .into_stream()
        .try_collect()
        .await?;
    println!("{} entries in the dead-letter queue", entries.len());
    for entry in &entries {
        println!(
            "{} message {} to {:?} failed with {:?}",
            entry.dlq_id, entry.message.message_id, entry.message.url, entry.response_status
        );
    }

    // A server error may be gone by now; a client error will not be.
    let (retry, drop): (Vec<_>, Vec<_>) =
        entries
            .iter()
            .partition(|entry| match entry.response_status {
                Some(status) => status >= 500,
                None => true,
            });
    let retry_ids: Vec<String> = retry.iter().map(|entry| entry.dlq_id.clone()).collect();
    let drop_ids: Vec<String> = drop.iter().map(|entry| entry.dlq_id.clone()).collect();

    if !retry_ids.is_empty() {
        let retried = client.dlq().retry_many(retry_ids).await?;
        for message in retried {
            println!("retried as new message {}", message.message_id);
        }
    }
    if !drop_ids.is_empty() {
        let deleted = client.dlq().delete_many(drop_ids).await?;
        println!("deleted {deleted} entries");
    }
    Ok(())
}
