//! URL groups (QStash's "topics"): named sets of endpoints a publish fans out to, with
//! default headers forwarded on every message published to the group.

use super::error::EngineError;
use super::message::Routing;
use super::publish::{PublishRequest, Published};
use super::queues::validate_name;
use super::state::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One endpoint of a URL group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Where messages go.
    pub url: String,
    /// An optional name, unique within the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A URL group as `GET /v2/topics/{name}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UrlGroup {
    /// The group's name.
    pub name: String,
    /// Unix ms of creation.
    pub created_at: u64,
    /// Unix ms of the last change of endpoints.
    pub updated_at: u64,
    /// The endpoints, in the order they were added.
    pub endpoints: Vec<Endpoint>,
    /// Headers forwarded with every message published to the group, unless the publish
    /// forwards a header of the same name itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// Every URL group of an engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Topics {
    groups: BTreeMap<String, UrlGroup>,
}

impl Engine {
    /// Adds endpoints to a URL group, creating the group if needed. An endpoint whose URL
    /// is already in the group replaces it.
    ///
    /// # Errors
    /// [`EngineError::InvalidInput`] for a bad group name, no endpoints, or an endpoint
    /// URL that is not http(s).
    pub fn add_endpoints(
        &mut self,
        now: u64,
        name: &str,
        endpoints: Vec<Endpoint>,
    ) -> Result<UrlGroup, EngineError> {
        validate_name("topicName", name)?;
        if endpoints.is_empty() {
            return Err(EngineError::invalid(
                "endpoints",
                "must hold at least one endpoint",
            ));
        }
        for (index, endpoint) in endpoints.iter().enumerate() {
            check_endpoint(index, endpoint)?;
        }
        let group = self
            .topics
            .groups
            .entry(name.to_owned())
            .or_insert_with(|| UrlGroup {
                name: name.to_owned(),
                created_at: now,
                updated_at: now,
                endpoints: Vec::new(),
                headers: BTreeMap::new(),
            });
        for endpoint in endpoints {
            group
                .endpoints
                .retain(|existing| existing.url != endpoint.url);
            group.endpoints.push(endpoint);
        }
        group.updated_at = now;
        Ok(group.clone())
    }

    /// Removes the endpoints matching by URL or by name; the group goes with its last
    /// endpoint.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown group; [`EngineError::InvalidInput`] for
    /// an endpoint with neither URL nor name.
    pub fn remove_endpoints(
        &mut self,
        now: u64,
        name: &str,
        endpoints: &[RemoveEndpoint],
    ) -> Result<(), EngineError> {
        if let Some(index) = endpoints
            .iter()
            .position(|e| e.url.is_none() && e.name.is_none())
        {
            return Err(EngineError::invalid(
                format!("endpoints[{index}]"),
                "needs a url or a name",
            ));
        }
        let group = self
            .topics
            .groups
            .get_mut(name)
            .ok_or_else(|| group_not_found(name))?;
        group
            .endpoints
            .retain(|existing| !endpoints.iter().any(|e| e.matches(existing)));
        group.updated_at = now;
        if group.endpoints.is_empty() {
            self.topics.groups.remove(name);
        }
        Ok(())
    }

    /// Replaces the default headers of the URL group `name`. The names should be
    /// canonical (`X-Team`), as the API layer makes them.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown group.
    pub fn set_url_group_headers(
        &mut self,
        now: u64,
        name: &str,
        headers: BTreeMap<String, String>,
    ) -> Result<UrlGroup, EngineError> {
        let group = self
            .topics
            .groups
            .get_mut(name)
            .ok_or_else(|| group_not_found(name))?;
        group.headers = headers;
        group.updated_at = now;
        Ok(group.clone())
    }

    /// The URL group `name`, if it exists.
    pub fn url_group(&self, name: &str) -> Option<&UrlGroup> {
        self.topics.groups.get(name)
    }

    /// Every URL group, by name.
    pub fn url_groups(&self) -> impl Iterator<Item = &UrlGroup> {
        self.topics.groups.values()
    }

    /// Deletes a URL group.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown group.
    pub fn delete_url_group(&mut self, name: &str) -> Result<(), EngineError> {
        self.topics
            .groups
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| group_not_found(name))
    }

    /// Publishes one message per endpoint of the group named by `request.destination`.
    ///
    /// # Errors
    /// [`EngineError::NotFound`] for an unknown group, and whatever a publish to one of
    /// its endpoints refuses (checked on the first, so nothing is half published).
    pub fn publish_to_url_group(
        &mut self,
        now: u64,
        request: PublishRequest,
        routing: Routing,
    ) -> Result<Vec<Published>, EngineError> {
        let name = request.destination.clone();
        let group = self
            .topics
            .groups
            .get(&name)
            .cloned()
            .ok_or_else(|| group_not_found(&name))?;
        let mut request = request;
        add_default_headers(&mut request, &group.headers);
        let mut published = Vec::with_capacity(group.endpoints.len());
        for endpoint in group.endpoints {
            let mut one = request.clone();
            one.destination = endpoint.url.clone();
            let routing = Routing {
                topic_name: Some(name.clone()),
                endpoint_name: endpoint.name.clone(),
                ..routing.clone()
            };
            published.push(self.publish_with(now, one, routing)?);
        }
        Ok(published)
    }
}

/// An endpoint to remove: by URL, by name, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RemoveEndpoint {
    /// The endpoint's URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The endpoint's name.
    #[serde(default)]
    pub name: Option<String>,
}

impl RemoveEndpoint {
    fn matches(&self, endpoint: &Endpoint) -> bool {
        let url = self.url.as_ref().is_none_or(|url| *url == endpoint.url);
        let name = self
            .name
            .as_ref()
            .is_none_or(|name| endpoint.name.as_ref() == Some(name));
        url && name
    }
}

/// Adds the group's default headers the publish does not set itself. A default
/// `Content-Type` stands in only when the publish gave none.
fn add_default_headers(request: &mut PublishRequest, defaults: &BTreeMap<String, String>) {
    let settings = &mut request.settings;
    for (name, value) in defaults {
        if name.eq_ignore_ascii_case("content-type") {
            settings.content_type.get_or_insert_with(|| value.clone());
            continue;
        }
        let given = settings
            .forward_headers
            .iter()
            .any(|(existing, _)| existing.eq_ignore_ascii_case(name));
        if !given {
            settings.forward_headers.push((name.clone(), value.clone()));
        }
    }
}

fn check_endpoint(index: usize, endpoint: &Endpoint) -> Result<(), EngineError> {
    let url = &endpoint.url;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(EngineError::invalid(
            format!("endpoints[{index}].url"),
            format!("`{url}` must start with http:// or https://"),
        ));
    }
    if let Some(name) = &endpoint.name {
        validate_name(&format!("endpoints[{index}].name"), name)?;
    }
    Ok(())
}

fn group_not_found(name: &str) -> EngineError {
    EngineError::NotFound {
        what: "url group",
        id: name.to_owned(),
    }
}
