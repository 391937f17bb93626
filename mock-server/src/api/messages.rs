//! `GET` and `DELETE /v2/messages/{id}` and bulk cancel, `DELETE /v2/messages`.

use super::bulk_actions::filter_of;
use super::error::ApiError;
use super::query::{value, values};
use super::{json, views, ApiRequest, HttpResponse};
use crate::engine::Message;
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The legacy JSON form of bulk cancel.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelBody {
    #[serde(default)]
    message_ids: Vec<String>,
    /// Filter fields, in the same names as the query form.
    #[serde(flatten)]
    filters: BTreeMap<String, serde_json::Value>,
}

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let id = rest.strip_prefix('/').unwrap_or_default();
    match (&request.method, id) {
        (&Method::DELETE, "") => cancel_many(shared, request),
        (&Method::GET, id) if !id.is_empty() => {
            let engine = shared.engine();
            let message = engine
                .message(id)
                .ok_or_else(|| ApiError::not_found(format!("message `{id}` not found")))?;
            Ok(json(StatusCode::OK, &views::message(message)))
        }
        (&Method::DELETE, id) if !id.is_empty() => {
            let now = shared.clock.now_ms();
            shared.engine().cancel(now, id)?;
            Ok(json(StatusCode::OK, &serde_json::json!({ "cancelled": 1 })))
        }
        (method, _) => Err(ApiError::method_not_allowed(method, &request.path)),
    }
}

/// Cancels the messages named by `messageIds` (query or JSON body), or those the
/// filters select (`topicName`, `queueName`, `url`, `host`, `path`, `label`,
/// `flowControlKey`, `scheduleId`, `callerIp`, `fromDate`, `toDate` on the creation
/// time, and `count` from 1 to 500); with neither, every message. With `async=true` the
/// answer is the id of a bulk action instead of the count.
fn cancel_many(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let mut pairs = request.query_pairs();
    let body: CancelBody = request.json_body()?;
    pairs.extend(body_pairs(&body.filters));
    let mut ids = values(&pairs, &["messageIds", "messageIds[]", "messageId"]);
    ids.extend(body.message_ids);
    let filter = CancelFilter::parse(&pairs)?;
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();

    let selected: Vec<String> = if !ids.is_empty() {
        ids
    } else {
        engine
            .messages()
            .filter(|m| filter.matches(m))
            .take(filter.count)
            .map(|m| m.message_id.clone())
            .collect()
    };
    let cancelled = selected
        .iter()
        .filter(|id| engine.cancel(now, id).is_ok())
        .count();
    if value(&pairs, "async") == Some("true") {
        let action = engine.record_bulk_action(now, "cancel", filter_of(&pairs), cancelled as u64);
        let body = serde_json::json!({ "actionId": action.action_id });
        return Ok(json(StatusCode::OK, &body));
    }
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "cancelled": cancelled }),
    ))
}

/// The largest `count` of a bulk cancel.
const MAX_CANCEL_COUNT: usize = 500;

/// What a bulk cancel selects when it names no ids. Each list matches when empty or when
/// the message has one of its values; the fields combine with AND.
#[derive(Debug, Default)]
struct CancelFilter {
    topic_names: Vec<String>,
    queue_names: Vec<String>,
    urls: Vec<String>,
    hosts: Vec<String>,
    paths: Vec<String>,
    labels: Vec<String>,
    flow_control_keys: Vec<String>,
    schedule_ids: Vec<String>,
    caller_ips: Vec<String>,
    from_date: Option<u64>,
    to_date: Option<u64>,
    count: usize,
}

impl CancelFilter {
    fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let list = |name: &str| values(pairs, &[name, &format!("{name}[]")]);
        let date = |name: &str| -> Result<Option<u64>, ApiError> {
            value(pairs, name)
                .map(|raw| {
                    raw.parse().map_err(|_| {
                        ApiError::invalid(name, format!("`{raw}` is not a unix time in ms"))
                    })
                })
                .transpose()
        };
        let count = match value(pairs, "count") {
            None => usize::MAX,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_CANCEL_COUNT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "count",
                        format!("`{raw}` is not a whole number from 1 to {MAX_CANCEL_COUNT}"),
                    )
                })?,
        };
        let mut caller_ips = list("callerIp");
        caller_ips.extend(list("callerIP"));
        Ok(CancelFilter {
            topic_names: list("topicName"),
            queue_names: list("queueName"),
            urls: list("url"),
            hosts: list("host"),
            paths: list("path"),
            labels: list("label"),
            flow_control_keys: list("flowControlKey"),
            schedule_ids: list("scheduleId"),
            caller_ips,
            from_date: date("fromDate")?,
            to_date: date("toDate")?,
            count,
        })
    }

    fn matches(&self, message: &Message) -> bool {
        let in_list = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l == v))
        };
        let routing = &message.routing;
        let uri = message.url.parse::<http::Uri>().ok();
        in_list(&self.topic_names, routing.topic_name.as_deref())
            && in_list(&self.queue_names, routing.queue_name.as_deref())
            && in_list(&self.urls, Some(&message.url))
            && in_list(&self.hosts, uri.as_ref().and_then(|u| u.host()))
            && in_list(&self.paths, uri.as_ref().map(|u| u.path()))
            && (self.labels.is_empty() || message.labels.iter().any(|l| self.labels.contains(l)))
            && in_list(
                &self.flow_control_keys,
                routing.flow_control.as_ref().map(|f| f.key.as_str()),
            )
            && in_list(&self.schedule_ids, routing.schedule_id.as_deref())
            && in_list(&self.caller_ips, message.caller_ip.as_deref())
            && self.from_date.is_none_or(|from| message.created_at >= from)
            && self.to_date.is_none_or(|to| message.created_at <= to)
    }
}

/// The filter fields of the legacy JSON body, as query pairs.
fn body_pairs(fields: &BTreeMap<String, serde_json::Value>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (name, field) in fields {
        let items = match field {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for item in items {
            let text = match item {
                serde_json::Value::String(text) => text,
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            pairs.push((name.clone(), text));
        }
    }
    pairs
}
