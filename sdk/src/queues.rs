//! Queues: FIFO lanes with a parallelism limit.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::client::{ApiCall, Client};
use crate::de;
use crate::encoding::path_segment;
use crate::error::Result;
use crate::publish::validate_name;

/// A queue as QStash reports it.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let queue = client.queues().get("emails").await?;
/// println!("{} lag={:?} paused={}", queue.name, queue.lag, queue.paused);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Queue {
    /// The queue name.
    pub name: String,
    /// When the queue was created.
    #[serde(default, deserialize_with = "de::millis")]
    pub created_at: Option<OffsetDateTime>,
    /// When the queue was last changed.
    #[serde(default, deserialize_with = "de::millis")]
    pub updated_at: Option<OffsetDateTime>,
    /// How many messages are delivered at once.
    #[serde(default, deserialize_with = "de::integer")]
    pub parallelism: Option<u32>,
    /// True while delivery is paused.
    #[serde(default)]
    pub paused: bool,
    /// How many messages wait in the queue.
    #[serde(default, deserialize_with = "de::integer")]
    pub lag: Option<u64>,
}

/// The settings of a queue to create or update.
///
/// ```
/// let settings = qstash_sdk::QueueSettings::new("emails").parallelism(2).paused();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct QueueSettings {
    queue_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallelism: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paused: Option<bool>,
}

impl QueueSettings {
    /// Settings for the named queue, leaving QStash's defaults.
    ///
    /// ```
    /// let settings = qstash_sdk::QueueSettings::new("emails");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        QueueSettings {
            queue_name: name.into(),
            parallelism: None,
            paused: None,
        }
    }

    /// How many messages are delivered at once (at least 1).
    ///
    /// ```
    /// let settings = qstash_sdk::QueueSettings::new("emails").parallelism(4);
    /// ```
    pub fn parallelism(mut self, parallelism: u32) -> Self {
        self.parallelism = Some(parallelism);
        self
    }

    /// Creates or keeps the queue paused.
    ///
    /// ```
    /// let settings = qstash_sdk::QueueSettings::new("emails").paused();
    /// ```
    pub fn paused(mut self) -> Self {
        self.paused = Some(true);
        self
    }
}

/// Queues API: `client.queues()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// use qstash_sdk::QueueSettings;
///
/// client.queues().upsert(QueueSettings::new("emails").parallelism(2)).await?;
/// client.queues().pause("emails").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Queues<'c> {
    client: &'c Client,
}

impl Client {
    /// The queues API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let queues = client.queues().list().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn queues(&self) -> Queues<'_> {
        Queues { client: self }
    }
}

fn queue_path(name: &str, action: &str) -> Result<String> {
    validate_name("queue name", name)?;
    Ok(format!("/v2/queues/{}{action}", path_segment(name)))
}

impl Queues<'_> {
    /// Creates the queue or updates its settings (`POST /v2/queues`).
    ///
    /// # Errors
    ///
    /// Invalid input for a bad queue name; otherwise the errors of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.queues().upsert(qstash_sdk::QueueSettings::new("emails")).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upsert(&self, settings: QueueSettings) -> Result<()> {
        validate_name("queue name", &settings.queue_name)?;
        let call = ApiCall::post("/v2/queues").json(&settings)?;

        self.client.execute(call).await?;
        Ok(())
    }

    /// Gets one queue (`GET /v2/queues/{name}`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let queue = client.queues().get("emails").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, name: &str) -> Result<Queue> {
        let call = ApiCall::get(queue_path(name, "")?);

        self.client.execute_json(call).await
    }

    /// Lists every queue (`GET /v2/queues`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// for queue in client.queues().list().await? {
    ///     println!("{}", queue.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<Queue>> {
        self.client.execute_json(ApiCall::get("/v2/queues")).await
    }

    /// Deletes a queue (`DELETE /v2/queues/{name}`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.queues().delete("emails").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, name: &str) -> Result<()> {
        let call = ApiCall::delete(queue_path(name, "")?);

        self.client.execute(call).await?;
        Ok(())
    }

    /// Pauses delivery from a queue (`POST /v2/queues/{name}/pause`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.queues().pause("emails").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn pause(&self, name: &str) -> Result<()> {
        let call = ApiCall::post(queue_path(name, "/pause")?);

        self.client.execute(call).await?;
        Ok(())
    }

    /// Resumes delivery from a queue (`POST /v2/queues/{name}/resume`).
    /// QStash may take up to a minute to act on it.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.queues().resume("emails").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume(&self, name: &str) -> Result<()> {
        let call = ApiCall::post(queue_path(name, "/resume")?);

        self.client.execute(call).await?;
        Ok(())
    }
}
