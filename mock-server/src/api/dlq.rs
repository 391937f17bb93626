//! The dead letter queue routes: list, get, delete one or many, retry one or many.

use super::bulk_actions::filter_of;
use super::error::ApiError;
use super::publish::parse_settings;
use super::query::{unix_ms, value, values};
use super::{json, views, ApiRequest, HttpResponse};
use crate::engine::{DlqFilter, Published};
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use serde::Deserialize;
use std::sync::Arc;

/// The most entries one page holds.
const MAX_COUNT: usize = 100;

/// Every query parameter the DLQ routes understand; bulk deletes refuse others.
const KNOWN_PARAMETERS: &[&str] = &[
    "cursor",
    "count",
    "dlqIds",
    "dlqIds[]",
    "messageId",
    "url",
    "url[]",
    "topicName",
    "topicName[]",
    "scheduleId",
    "scheduleId[]",
    "queueName",
    "queueName[]",
    "responseStatus",
    "responseStatus[]",
    "callerIp",
    "callerIp[]",
    "callerIP",
    "label",
    "label[]",
    "flowControlKey",
    "flowControlKey[]",
    "fromDate",
    "toDate",
    "order",
    "qstash_token",
];

/// The JSON body of the legacy bulk delete and of the `multi` routes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdsBody {
    #[serde(default)]
    dlq_ids: Vec<String>,
}

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    match (&request.method, rest) {
        (&Method::GET, "") => list(shared, request),
        (&Method::DELETE, "") => delete_many(shared, request),
        (&Method::DELETE, "/multi") => delete_listed(shared, request),
        (&Method::DELETE, "/bulk") => delete_bulk(shared, request),
        (&Method::POST, "/retry/bulk") => retry_bulk(shared, request),
        (&Method::POST, "/retry") => retry_many(shared, request),
        (&Method::POST, "/retry/multi") => retry_listed(shared, request),
        (&Method::POST, rest) if rest.starts_with("/retry/") => {
            retry_one(shared, request, &rest["/retry/".len()..])
        }
        (&Method::GET, rest) if rest.len() > 1 => {
            let id = &rest[1..];
            let engine = shared.engine();
            let entry = engine.dlq_entry(id).ok_or_else(|| not_found(id))?;
            Ok(json(StatusCode::OK, &views::dlq_entry(entry)))
        }
        (&Method::DELETE, rest) if rest.len() > 1 => {
            let now = shared.clock.now_ms();
            shared.engine().dlq_delete(now, &rest[1..])?;
            Ok(json(StatusCode::OK, &serde_json::json!({})))
        }
        (method, _) => Err(ApiError::method_not_allowed(method, &request.path)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("dlq entry `{id}` not found"))
}

fn list(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let pairs = request.query_pairs();
    let filter = parse_filter(&pairs)?;
    let count = parse_count(&pairs)?.unwrap_or(MAX_COUNT);
    let engine = shared.engine();
    let page = engine.dlq_page(&filter, value(&pairs, "cursor"), count)?;

    let messages: Vec<serde_json::Value> = page.entries.iter().map(views::dlq_entry).collect();
    let mut body = serde_json::json!({ "messages": messages });
    if let Some(cursor) = page.cursor {
        body["cursor"] = serde_json::Value::String(cursor);
    }
    Ok(json(StatusCode::OK, &body))
}

/// `DELETE /v2/dlq`: the legacy JSON body `{"dlqIds": [...]}`, or query parameters
/// (`dlqIds`, or filters with `count` and `cursor`; nothing at all means every entry).
fn delete_many(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: IdsBody = request.json_body()?;
    if !body.dlq_ids.is_empty() {
        return delete_ids(shared, &body.dlq_ids);
    }
    let pairs = request.query_pairs();
    reject_unknown(&pairs)?;
    let filter = parse_filter(&pairs)?;
    let count = parse_count(&pairs)?;
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    let page = engine.dlq_page(
        &filter,
        value(&pairs, "cursor"),
        count.unwrap_or(usize::MAX),
    )?;

    let deleted = page
        .entries
        .iter()
        .filter(|entry| engine.dlq_delete(now, &entry.dlq_id).is_ok())
        .count();
    let mut answer = serde_json::json!({ "deleted": deleted });
    if let Some(cursor) = page.cursor.filter(|_| count.is_some()) {
        answer["cursor"] = serde_json::Value::String(cursor);
    }
    Ok(json(StatusCode::OK, &answer))
}

/// `DELETE /v2/dlq/bulk`: deletes every entry the filters select and answers with the
/// id of a bulk action, finished at once.
fn delete_bulk(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let pairs = request.query_pairs();
    reject_unknown(&pairs)?;
    let filter = parse_filter(&pairs)?;
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    let page = engine.dlq_page(&filter, None, usize::MAX)?;
    let deleted = page
        .entries
        .iter()
        .filter(|entry| engine.dlq_delete(now, &entry.dlq_id).is_ok())
        .count();
    let action = engine.record_bulk_action(now, "delete", filter_of(&pairs), deleted as u64);
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "actionId": action.action_id }),
    ))
}

/// `POST /v2/dlq/retry/bulk`: retries every entry the filters select and answers with
/// the id of a bulk action, finished at once.
fn retry_bulk(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let pairs = request.query_pairs();
    reject_unknown(&pairs)?;
    let filter = parse_filter(&pairs)?;
    let overrides = parse_settings(&request.headers, &pairs)?;
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    let page = engine.dlq_page(&filter, None, usize::MAX)?;
    let mut retried = 0;
    for entry in &page.entries {
        engine.dlq_retry(now, &entry.dlq_id, &overrides)?;
        retried += 1;
    }
    let action = engine.record_bulk_action(now, "retry", filter_of(&pairs), retried);
    drop(engine);
    shared.wake.notify_one();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "actionId": action.action_id }),
    ))
}

/// `DELETE /v2/dlq/multi` with `{"dlqIds": [...]}`.
fn delete_listed(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: IdsBody = request.json_body()?;
    if body.dlq_ids.is_empty() {
        return Err(ApiError::invalid(
            "dlqIds",
            "must name at least one DLQ entry",
        ));
    }
    delete_ids(shared, &body.dlq_ids)
}

fn delete_ids(shared: &Arc<Shared>, ids: &[String]) -> Result<HttpResponse, ApiError> {
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    let deleted = ids
        .iter()
        .filter(|id| engine.dlq_delete(now, id).is_ok())
        .count();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "deleted": deleted }),
    ))
}

fn retry_one(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let overrides = parse_settings(&request.headers, &request.query_pairs())?;
    let now = shared.clock.now_ms();
    let published = shared.engine().dlq_retry(now, id, &overrides)?;
    shared.wake.notify_one();
    Ok(json(StatusCode::CREATED, &retried(&published)))
}

/// `POST /v2/dlq/retry`: the entries named by `dlqIds` (all must exist, else 404 and
/// nothing is retried), or those matching the filters, `count` at a time.
fn retry_many(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let pairs = request.query_pairs();
    reject_unknown(&pairs)?;
    let filter = parse_filter(&pairs)?;
    let count = parse_count(&pairs)?;
    let overrides = parse_settings(&request.headers, &pairs)?;
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    let (ids, cursor) = if filter.dlq_ids.is_empty() {
        let page = engine.dlq_page(&filter, value(&pairs, "cursor"), count.unwrap_or(MAX_COUNT))?;
        (
            page.entries.into_iter().map(|e| e.dlq_id).collect(),
            page.cursor,
        )
    } else {
        if let Some(missing) = filter
            .dlq_ids
            .iter()
            .find(|id| engine.dlq_entry(id).is_none())
        {
            return Err(not_found(missing));
        }
        (filter.dlq_ids.clone(), None)
    };

    let mut responses = Vec::new();
    for id in &ids {
        responses.push(retried(&engine.dlq_retry(now, id, &overrides)?));
    }
    drop(engine);
    shared.wake.notify_one();
    let body = serde_json::json!({ "cursor": cursor.unwrap_or_default(), "responses": responses });
    Ok(json(StatusCode::CREATED, &body))
}

/// `POST /v2/dlq/retry/multi` with `{"dlqIds": [...]}`.
fn retry_listed(shared: &Arc<Shared>, request: &ApiRequest) -> Result<HttpResponse, ApiError> {
    let body: IdsBody = request.json_body()?;
    if body.dlq_ids.is_empty() {
        return Err(ApiError::invalid(
            "dlqIds",
            "must name at least one DLQ entry",
        ));
    }
    let overrides = parse_settings(&request.headers, &[])?;
    let now = shared.clock.now_ms();
    let mut engine = shared.engine();
    if let Some(missing) = body
        .dlq_ids
        .iter()
        .find(|id| engine.dlq_entry(id).is_none())
    {
        return Err(not_found(missing));
    }
    let mut responses = Vec::new();
    for id in &body.dlq_ids {
        responses.push(retried(&engine.dlq_retry(now, id, &overrides)?));
    }
    drop(engine);
    shared.wake.notify_one();
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "responses": responses }),
    ))
}

fn retried(published: &Published) -> serde_json::Value {
    serde_json::json!({ "messageId": published.message_id })
}

fn reject_unknown(pairs: &[(String, String)]) -> Result<(), ApiError> {
    match pairs.iter().find(|(name, _)| {
        !KNOWN_PARAMETERS.contains(&name.as_str()) && !name.starts_with("upstash-")
    }) {
        Some((name, _)) => Err(ApiError::invalid(name, "unknown filter field")),
        None => Ok(()),
    }
}

fn parse_count(pairs: &[(String, String)]) -> Result<Option<usize>, ApiError> {
    let Some(raw) = value(pairs, "count") else {
        return Ok(None);
    };
    match raw.parse::<usize>() {
        Ok(0) | Err(_) => Err(ApiError::invalid(
            "count",
            format!("`{raw}` is not a whole number from 1 to {MAX_COUNT}"),
        )),
        Ok(count) => Ok(Some(count.min(MAX_COUNT))),
    }
}

fn parse_filter(pairs: &[(String, String)]) -> Result<DlqFilter, ApiError> {
    let statuses = values(pairs, &["responseStatus", "responseStatus[]"])
        .iter()
        .map(|raw| {
            raw.parse::<u16>().map_err(|_| {
                ApiError::invalid("responseStatus", format!("`{raw}` is not a status"))
            })
        })
        .collect::<Result<Vec<u16>, ApiError>>()?;
    Ok(DlqFilter {
        dlq_ids: values(pairs, &["dlqIds", "dlqIds[]"]),
        message_id: value(pairs, "messageId").map(str::to_owned),
        urls: values(pairs, &["url", "url[]"]),
        response_statuses: statuses,
        labels: values(pairs, &["label", "label[]"]),
        caller_ips: values(pairs, &["callerIp", "callerIp[]", "callerIP"]),
        topic_names: values(pairs, &["topicName", "topicName[]"]),
        queue_names: values(pairs, &["queueName", "queueName[]"]),
        schedule_ids: values(pairs, &["scheduleId", "scheduleId[]"]),
        flow_control_keys: values(pairs, &["flowControlKey", "flowControlKey[]"]),
        from_date: unix_ms(pairs, "fromDate")?,
        to_date: unix_ms(pairs, "toDate")?,
    })
}
