//! `POST /v2/publish/{destination}` and the parsing of publish settings, which DLQ
//! retries reuse for their overrides.

use super::error::ApiError;
use super::flow_control::parse_flow_control;
use super::query::split_publish_query;
use super::{json, ApiRequest, HttpResponse};
use crate::engine::{
    validate_name, CallbackSpec, Engine, PublishRequest, PublishSettings, Published, Routing,
};
use crate::rules::{canonical_header_name, parse_upstash_duration, RetryDelayExpr};
use crate::server::shared::Shared;
use http::StatusCode;
use std::sync::Arc;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// What may follow `Upstash-Callback-` (or `Upstash-Failure-Callback-`) to configure the
/// callback rather than name a header for it, lower case. `Forward-*` is handled apart.
///
/// TODO: `delay` is recognised so that it is not forwarded, but a callback is not
/// delayed by it yet.
const CALLBACK_SETTINGS: &[&str] = &["method", "timeout", "retries", "retry-delay", "delay"];

/// Headers never forwarded by `Upstash-Header-Forward: true`.
const NOT_FORWARDED: &[&str] = &[
    "authorization",
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
];

pub(super) fn publish(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    raw_destination: &str,
) -> Result<HttpResponse, ApiError> {
    publish_routed(shared, request, raw_destination, None)
}

/// Publishes to a URL or a URL group, through `queue` when given.
pub(super) fn publish_routed(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    raw_destination: &str,
    queue: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let (own_query, settings_query) = split_publish_query(request.query.as_deref());
    let destination = match own_query {
        Some(query) => format!("{raw_destination}?{query}"),
        None => raw_destination.to_owned(),
    };
    let settings = parse_settings(&request.headers, &settings_query)?;
    let routing = Routing {
        queue_name: queue,
        flow_control: parse_flow_control(&request.headers, &settings_query)?,
        ..Routing::default()
    };
    let now = shared.clock.now_ms();
    let publish = PublishRequest {
        destination,
        body: request.body.clone(),
        settings,
        caller_ip: Some(request.peer.ip().to_string()),
    };

    let mut engine = shared.engine();
    let next_before = engine.next_due_at();
    let (status, body) = send(&mut engine, now, publish, routing)?;
    let next_after = engine.next_due_at();
    drop(engine);
    // Wake the driver only when the earliest due work changed; a publish delayed past
    // work already scheduled needs no new look.
    if next_after != next_before {
        shared.wake.notify_one();
    }
    Ok(json(status, &body))
}

/// Publishes to a URL (answering an object) or to the URL group the destination names
/// (answering an array with one object per endpoint), as QStash does.
pub(super) fn send(
    engine: &mut Engine,
    now: u64,
    request: PublishRequest,
    routing: Routing,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let destination = request.destination.clone();
    if destination.contains("://") || engine.url_group(&destination).is_none() {
        if !destination.contains("://") && validate_name("destination", &destination).is_ok() {
            return Err(ApiError::invalid(
                "destination",
                format!("`{destination}` is neither an http(s) URL nor an existing URL group"),
            ));
        }
        let published = engine.publish_with(now, request, routing)?;
        let status = if published.deduplicated {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        return Ok((status, published_json(&published)));
    }
    let published = engine.publish_to_url_group(now, request, routing)?;
    let answers = published.iter().map(published_json).collect();
    Ok((StatusCode::OK, serde_json::Value::Array(answers)))
}

fn published_json(published: &Published) -> serde_json::Value {
    let mut body = serde_json::json!({
        "messageId": published.message_id,
        "url": published.url,
    });
    if published.deduplicated {
        body["deduplicated"] = serde_json::Value::Bool(true);
    }
    body
}

/// The settings named by headers and lower-case `upstash-*` query parameters. A header
/// wins over a query parameter of the same name.
pub(crate) fn parse_settings(
    headers: &http::HeaderMap,
    query: &[(String, String)],
) -> Result<PublishSettings, ApiError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let value = value.to_str().map_err(|_| {
            ApiError::invalid(name.as_str(), "the value is not valid visible ASCII")
        })?;
        fields.push((name.as_str().to_ascii_lowercase(), value.to_owned()));
    }
    for (name, value) in query {
        if name.starts_with("upstash-") && !fields.iter().any(|(n, _)| n == name) {
            fields.push((name.clone(), value.clone()));
        }
    }
    Settings { fields: &fields }.parse()
}

struct Settings<'a> {
    fields: &'a [(String, String)],
}

impl Settings<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    /// The headers named `<prefix><Name>`, as `(Name, value)` with `Name` canonical.
    fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter_map(|(name, value)| {
                let stripped = name.strip_prefix(prefix)?;
                (!stripped.is_empty()).then(|| (canonical_header_name(stripped), value.clone()))
            })
            .collect()
    }

    /// The headers forwarded to a callback whose URL header is `name`: every
    /// `<name>-Forward-<Header>`, and every `<name>-<Header>` whose `<Header>` is not one
    /// of the callback's settings, since the Python SDK sends `callback_headers` that way.
    fn callback_headers(&self, name: &str) -> Vec<(String, String)> {
        let prefix = format!("{name}-");
        self.fields
            .iter()
            .filter_map(|(field, value)| {
                let rest = field.strip_prefix(&prefix)?;
                let header = match rest.strip_prefix("forward-") {
                    Some(header) => header,
                    None if CALLBACK_SETTINGS.contains(&rest) => return None,
                    None => rest,
                };
                (!header.is_empty()).then(|| (canonical_header_name(header), value.clone()))
            })
            .collect()
    }

    fn parse(&self) -> Result<PublishSettings, ApiError> {
        let header_forward = self.flag("upstash-header-forward")?;
        let mut forward_headers = self.with_prefix("upstash-forward-");
        if header_forward {
            forward_headers.extend(
                self.fields
                    .iter()
                    .filter(|(name, _)| {
                        !name.starts_with("upstash-")
                            && name != "content-type"
                            && !NOT_FORWARDED.contains(&name.as_str())
                    })
                    .map(|(name, value)| (canonical_header_name(name), value.clone())),
            );
        }
        Ok(PublishSettings {
            method: self.method("upstash-method")?,
            retries: self.retries("upstash-retries")?,
            retry_delay: self.expression("upstash-retry-delay")?,
            delay_ms: self.duration("upstash-delay")?,
            not_before_ms: self.not_before()?,
            timeout_ms: self.timeout("upstash-timeout")?,
            content_type: self.get("content-type").map(str::to_owned),
            forward_headers,
            callback: self.callback("upstash-callback")?,
            failure_callback: self.callback("upstash-failure-callback")?,
            deduplication_id: self
                .get("upstash-deduplication-id")
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            content_based_deduplication: self.flag("upstash-content-based-deduplication")?,
            labels: self
                .get("upstash-label")
                .map(|labels| {
                    labels
                        .split(',')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    fn method(&self, name: &str) -> Result<Option<String>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let upper = value.to_ascii_uppercase();
        if !METHODS.contains(&upper.as_str()) {
            return Err(ApiError::invalid(
                &canonical_header_name(name),
                format!("`{value}` is not one of GET, POST, PUT, PATCH or DELETE"),
            ));
        }
        Ok(Some(upper))
    }

    fn retries(&self, name: &str) -> Result<Option<u32>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        value.parse::<u32>().map(Some).map_err(|_| {
            ApiError::invalid(
                &canonical_header_name(name),
                format!("`{value}` is not a whole number of retries (0 or more)"),
            )
        })
    }

    fn expression(&self, name: &str) -> Result<Option<RetryDelayExpr>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let expression = RetryDelayExpr::parse(value)
            .map_err(|e| ApiError::invalid(&canonical_header_name(name), e))?;
        // Evaluate once now so an expression that can never give a delay is refused at
        // publish time rather than at the first failure.
        expression
            .eval(0)
            .map_err(|e| ApiError::invalid(&canonical_header_name(name), e))?;
        Ok(Some(expression))
    }

    fn duration(&self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        parse_upstash_duration(value)
            .map(Some)
            .map_err(|e| ApiError::invalid(&canonical_header_name(name), e))
    }

    fn timeout(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.duration(name)? {
            Some(0) => Err(ApiError::invalid(
                &canonical_header_name(name),
                "must be longer than 0s",
            )),
            other => Ok(other),
        }
    }

    fn not_before(&self) -> Result<Option<u64>, ApiError> {
        let Some(value) = self.get("upstash-not-before") else {
            return Ok(None);
        };
        let seconds = value.parse::<u64>().map_err(|_| {
            ApiError::invalid(
                "Upstash-Not-Before",
                format!("`{value}` is not a unix timestamp in seconds"),
            )
        })?;
        seconds.checked_mul(1000).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "Upstash-Not-Before",
                format!("`{value}` is too far in the future"),
            )
        })
    }

    fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                &canonical_header_name(name),
                format!("`{other}` is not true or false"),
            )),
        }
    }

    fn callback(&self, name: &str) -> Result<Option<CallbackSpec>, ApiError> {
        let Some(url) = self.get(name) else {
            return Ok(None);
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ApiError::invalid(
                &canonical_header_name(name),
                format!("`{url}` must start with http:// or https://"),
            ));
        }
        Ok(Some(CallbackSpec {
            url: url.to_owned(),
            method: self.method(&format!("{name}-method"))?,
            retries: self.retries(&format!("{name}-retries"))?,
            retry_delay: self.expression(&format!("{name}-retry-delay"))?,
            timeout_ms: self.timeout(&format!("{name}-timeout"))?,
            forward_headers: self.callback_headers(name),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn every_documented_header_is_read() {
        let map = headers(&[
            ("Upstash-Method", "put"),
            ("Upstash-Retries", "5"),
            ("Upstash-Retry-Delay", "1000 * (1 + retried)"),
            ("Upstash-Delay", "1m30s"),
            ("Upstash-Timeout", "10s"),
            ("Content-Type", "application/json"),
            ("Upstash-Forward-X-Trace", "abc"),
            ("Upstash-Callback", "https://cb.example.com/"),
            ("Upstash-Callback-Retries", "1"),
            ("Upstash-Callback-Forward-X-Key", "k"),
            ("Upstash-Failure-Callback", "https://fail.example.com/"),
            ("Upstash-Deduplication-Id", "d-1"),
            ("Upstash-Content-Based-Deduplication", "True"),
            ("Upstash-Label", "a, b"),
        ]);

        let settings = parse_settings(&map, &[]).unwrap();

        assert_eq!(settings.method.as_deref(), Some("PUT"));
        assert_eq!(settings.retries, Some(5));
        assert_eq!(
            settings.retry_delay.unwrap().as_str(),
            "1000 * (1 + retried)"
        );
        assert_eq!(settings.delay_ms, Some(90_000));
        assert_eq!(settings.timeout_ms, Some(10_000));
        assert_eq!(
            settings.forward_headers,
            vec![("X-Trace".to_owned(), "abc".to_owned())]
        );
        let callback = settings.callback.unwrap();
        assert_eq!(callback.retries, Some(1));
        assert_eq!(
            callback.forward_headers,
            vec![("X-Key".to_owned(), "k".to_owned())]
        );
        assert!(settings.failure_callback.is_some());
        assert_eq!(settings.deduplication_id.as_deref(), Some("d-1"));
        assert!(settings.content_based_deduplication);
        assert_eq!(settings.labels, vec!["a", "b"]);
    }

    #[test]
    fn query_parameters_configure_like_headers_but_headers_win() {
        let map = headers(&[("Upstash-Retries", "1")]);
        let query = vec![
            ("upstash-retries".to_owned(), "7".to_owned()),
            ("upstash-delay".to_owned(), "10s".to_owned()),
        ];

        let settings = parse_settings(&map, &query).unwrap();

        assert_eq!(settings.retries, Some(1));
        assert_eq!(settings.delay_ms, Some(10_000));
    }

    #[test]
    fn malformed_values_name_the_header() {
        let cases = [
            ("Upstash-Retries", "abc", "Upstash-Retries: `abc`"),
            ("Upstash-Retries", "-1", "Upstash-Retries: `-1`"),
            ("Upstash-Delay", "-5s", "Upstash-Delay:"),
            ("Upstash-Retry-Delay", "pow(2,", "Upstash-Retry-Delay:"),
            ("Upstash-Method", "TRACE", "Upstash-Method: `TRACE`"),
            ("Upstash-Not-Before", "soon", "Upstash-Not-Before: `soon`"),
            ("Upstash-Callback", "ftp://x", "Upstash-Callback: `ftp://x`"),
            (
                "Upstash-Content-Based-Deduplication",
                "yes",
                "Upstash-Content-Based-Deduplication:",
            ),
            ("Upstash-Timeout", "0s", "Upstash-Timeout: must be longer"),
        ];

        for (name, value, expected) in cases {
            let error = parse_settings(&headers(&[(name, value)]), &[]).unwrap_err();
            let response = format!("{error:?}");
            assert!(
                response.contains(expected),
                "{name}: {value} gave {response}"
            );
        }
    }

    #[test]
    fn header_forward_passes_plain_headers_but_not_credentials() {
        let map = headers(&[
            ("Upstash-Header-Forward", "true"),
            ("X-Github-Event", "push"),
            ("Authorization", "Bearer secret"),
        ]);

        let settings = parse_settings(&map, &[]).unwrap();

        assert_eq!(
            settings.forward_headers,
            vec![("X-Github-Event".to_owned(), "push".to_owned())]
        );
    }

    #[test]
    fn header_names_are_canonical_as_in_go() {
        let cases = [
            ("x-trace-id", "X-Trace-Id"),
            ("content-type", "Content-Type"),
            ("X-TRACE", "X-Trace"),
            ("x--double-", "X--Double-"),
            ("9lives", "9lives"),
            ("with space", "with space"),
        ];

        for (name, expected) in cases {
            assert_eq!(canonical_header_name(name), expected, "{name}");
        }
    }

    #[test]
    fn callback_headers_come_with_or_without_the_forward_prefix() {
        let map = headers(&[
            ("Upstash-Callback", "https://cb.example.com/"),
            ("Upstash-Callback-Forward-X-One", "1"),
            ("Upstash-Callback-X-Two", "2"),
            ("Upstash-Callback-Retries", "1"),
            ("Upstash-Callback-Delay", "10s"),
            ("Upstash-Failure-Callback", "https://fail.example.com/"),
            ("Upstash-Failure-Callback-X-Three", "3"),
            ("Upstash-Failure-Callback-Timeout", "5s"),
        ]);

        let settings = parse_settings(&map, &[]).unwrap();

        let callback = settings.callback.unwrap();
        assert_eq!(
            callback.forward_headers,
            vec![
                ("X-One".to_owned(), "1".to_owned()),
                ("X-Two".to_owned(), "2".to_owned()),
            ]
        );
        let failure = settings.failure_callback.unwrap();
        assert_eq!(
            failure.forward_headers,
            vec![("X-Three".to_owned(), "3".to_owned())]
        );
        assert_eq!(failure.timeout_ms, Some(5_000));
    }
}
