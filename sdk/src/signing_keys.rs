//! The signing keys QStash signs deliveries with: read and rotate.

use std::fmt;

use serde::Deserialize;

use crate::client::{ApiCall, Client};
use crate::error::Result;
use crate::receiver::Receiver;

/// The current and next signing keys.
///
/// The keys are secrets: `Debug` shows neither.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let keys = client.signing_keys().get().await?;
/// let receiver = keys.receiver();
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct SigningKeys {
    current: String,
    next: String,
}

impl SigningKeys {
    /// The key QStash signs with now.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let keys = client.signing_keys().get().await?;
    /// std::env::set_var("QSTASH_CURRENT_SIGNING_KEY", keys.current());
    /// # Ok(())
    /// # }
    /// ```
    pub fn current(&self) -> &str {
        &self.current
    }

    /// The key QStash will sign with after the next rotation.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let keys = client.signing_keys().get().await?;
    /// std::env::set_var("QSTASH_NEXT_SIGNING_KEY", keys.next());
    /// # Ok(())
    /// # }
    /// ```
    pub fn next(&self) -> &str {
        &self.next
    }

    /// A [`Receiver`] that verifies with these keys.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let receiver = client.signing_keys().get().await?.receiver();
    /// # Ok(())
    /// # }
    /// ```
    pub fn receiver(&self) -> Receiver {
        Receiver::new(self.current.clone(), self.next.clone())
    }
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeys")
            .field("current", &"<redacted>")
            .field("next", &"<redacted>")
            .finish()
    }
}

/// Signing keys API: `client.signing_keys()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let keys = client.signing_keys().get().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SigningKeysApi<'c> {
    client: &'c Client,
}

impl Client {
    /// The signing keys API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let keys = client.signing_keys().get().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn signing_keys(&self) -> SigningKeysApi<'_> {
        SigningKeysApi { client: self }
    }
}

impl SigningKeysApi<'_> {
    /// Reads the current and next keys (`GET /v2/keys`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let keys = client.signing_keys().get().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self) -> Result<SigningKeys> {
        self.client.execute_json(ApiCall::get("/v2/keys")).await
    }

    /// Makes the next key current and creates a new next key
    /// (`POST /v2/keys/rotate`). Rotating twice before redeploying your
    /// receivers breaks their verification.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let keys = client.signing_keys().rotate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rotate(&self) -> Result<SigningKeys> {
        self.client
            .execute_json(ApiCall::post("/v2/keys/rotate"))
            .await
    }
}
