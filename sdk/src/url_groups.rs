//! URL groups (formerly topics): one publish fans out to every endpoint.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::client::{ApiCall, Client};
use crate::de;
use crate::encoding::path_segment;
use crate::error::{Error, Result};
use crate::publish::validate_name;

/// One endpoint of a URL group.
///
/// ```
/// let endpoint = qstash_sdk::Endpoint::new("https://example.com/a").name("primary");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Endpoint {
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's optional name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Endpoint {
    /// An endpoint at `url`, without a name.
    ///
    /// ```
    /// let endpoint = qstash_sdk::Endpoint::new("https://example.com/a");
    /// ```
    pub fn new(url: impl Into<String>) -> Self {
        Endpoint {
            url: url.into(),
            name: None,
        }
    }

    /// Names the endpoint.
    ///
    /// ```
    /// let endpoint = qstash_sdk::Endpoint::new("https://example.com/a").name("a");
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl From<&str> for Endpoint {
    fn from(url: &str) -> Self {
        Endpoint::new(url)
    }
}

impl From<String> for Endpoint {
    fn from(url: String) -> Self {
        Endpoint::new(url)
    }
}

/// A URL group and its endpoints.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// let group = client.url_groups().get("workers").await?;
/// for endpoint in &group.endpoints {
///     println!("{}", endpoint.url);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UrlGroup {
    /// The group name.
    pub name: String,
    /// When the group was created.
    #[serde(default, deserialize_with = "de::millis")]
    pub created_at: Option<OffsetDateTime>,
    /// When the group was last changed.
    #[serde(default, deserialize_with = "de::millis")]
    pub updated_at: Option<OffsetDateTime>,
    /// The group's endpoints.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Endpoints {
    endpoints: Vec<Endpoint>,
}

/// URL groups API: `client.url_groups()`.
///
/// ```no_run
/// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
/// client.url_groups().add_endpoints("workers", ["https://a.example.com", "https://b.example.com"]).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct UrlGroups<'c> {
    client: &'c Client,
}

impl Client {
    /// The URL groups API.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let groups = client.url_groups().list().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn url_groups(&self) -> UrlGroups<'_> {
        UrlGroups { client: self }
    }
}

fn group_path(name: &str, suffix: &str) -> Result<String> {
    validate_name("URL group name", name)?;
    Ok(format!("/v2/topics/{}{suffix}", path_segment(name)))
}

fn endpoints_body<I>(endpoints: I) -> Result<Endpoints>
where
    I: IntoIterator,
    I::Item: Into<Endpoint>,
{
    let endpoints: Vec<Endpoint> = endpoints.into_iter().map(Into::into).collect();
    if endpoints.is_empty() {
        return Err(Error::invalid_input("the list of endpoints is empty"));
    }
    Ok(Endpoints { endpoints })
}

impl UrlGroups<'_> {
    /// Adds endpoints to a group, creating it if needed
    /// (`POST /v2/topics/{name}/endpoints`).
    ///
    /// # Errors
    ///
    /// Invalid input for a bad name or an empty list; otherwise the errors
    /// of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// use qstash_sdk::Endpoint;
    ///
    /// client
    ///     .url_groups()
    ///     .add_endpoints("workers", [Endpoint::new("https://a.example.com").name("a")])
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn add_endpoints<I>(&self, name: &str, endpoints: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Endpoint>,
    {
        let call =
            ApiCall::post(group_path(name, "/endpoints")?).json(&endpoints_body(endpoints)?)?;

        self.client.execute(call).await?;
        Ok(())
    }

    /// Removes endpoints from a group; QStash deletes the group with its
    /// last endpoint (`DELETE /v2/topics/{name}/endpoints`).
    ///
    /// # Errors
    ///
    /// Invalid input for a bad name or an empty list; otherwise the errors
    /// of any call.
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.url_groups().remove_endpoints("workers", ["https://a.example.com"]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn remove_endpoints<I>(&self, name: &str, endpoints: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Into<Endpoint>,
    {
        let call =
            ApiCall::delete(group_path(name, "/endpoints")?).json(&endpoints_body(endpoints)?)?;

        self.client.execute(call).await?;
        Ok(())
    }

    /// Gets one group (`GET /v2/topics/{name}`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let group = client.url_groups().get("workers").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, name: &str) -> Result<UrlGroup> {
        let call = ApiCall::get(group_path(name, "")?);

        self.client.execute_json(call).await
    }

    /// Lists every group (`GET /v2/topics`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// let groups = client.url_groups().list().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<UrlGroup>> {
        self.client.execute_json(ApiCall::get("/v2/topics")).await
    }

    /// Deletes a group (`DELETE /v2/topics/{name}`).
    ///
    /// ```no_run
    /// # async fn run(client: qstash_sdk::Client) -> Result<(), qstash_sdk::Error> {
    /// client.url_groups().delete("workers").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, name: &str) -> Result<()> {
        let call = ApiCall::delete(group_path(name, "")?);

        self.client.execute(call).await?;
        Ok(())
    }
}
