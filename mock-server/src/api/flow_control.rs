//! Flow control: the `Upstash-Flow-Control-Key`/`-Value` headers, `GET /v2/flowControl`,
//! `GET /v2/flowControl/{key}`, `GET /v2/globalParallelism`, and the management calls
//! `POST /v2/flowControl/{key}/pause`, `/resume`, `/pin`, `/unpin`, `/resetRate` and
//! `/reset`.

use super::error::ApiError;
use super::query::value;
use super::{json, ApiRequest, HttpResponse};
use crate::engine::{FlowControlAction, FlowControlSpec};
use crate::rules::parse_upstash_duration;
use crate::server::shared::Shared;
use http::{Method, StatusCode};
use std::sync::Arc;

const KEY: &str = "Upstash-Flow-Control-Key";
const VALUE: &str = "Upstash-Flow-Control-Value";
const DEFAULT_PERIOD_MS: u64 = 1_000;
const MAX_PERIOD_MS: u64 = 7 * 24 * 60 * 60 * 1_000;
const ACTIONS: &str = "pause, resume, pin, unpin, resetRate or reset";

pub(super) fn route(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    path: &str,
) -> Result<HttpResponse, ApiError> {
    let rest = path.strip_prefix("/v2/flowControl").unwrap_or_default();
    let key_and_action = rest.strip_prefix('/').filter(|r| !r.is_empty());
    match (&request.method, key_and_action) {
        (&Method::GET, _) => get(shared, request, path, rest),
        (&Method::POST, Some(key_and_action)) => manage(shared, request, key_and_action),
        (method, _) => Err(ApiError::method_not_allowed(method, path)),
    }
}

fn get(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    path: &str,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let engine = shared.engine();
    if path == "/v2/globalParallelism" {
        return Ok(json(StatusCode::OK, &to_json(engine.global_parallelism())));
    }
    match rest {
        "" | "/" => {
            let pairs = request.query_pairs();
            let keys = engine.flow_control_keys(value(&pairs, "search"));
            Ok(json(StatusCode::OK, &to_json(keys)))
        }
        rest => {
            let key = &rest[1..];
            let info = engine.flow_control_key(key).ok_or_else(|| {
                ApiError::not_found(format!("flow control key `{key}` not found"))
            })?;
            Ok(json(StatusCode::OK, &to_json(info)))
        }
    }
}

/// `POST /v2/flowControl/{key}/{action}`: answers the key as it is afterwards.
fn manage(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    key_and_action: &str,
) -> Result<HttpResponse, ApiError> {
    let Some((key, action)) = key_and_action.rsplit_once('/') else {
        return Err(ApiError::not_found(format!(
            "POST /v2/flowControl/{key_and_action} needs an action: {ACTIONS}"
        )));
    };
    let pairs = request.query_pairs();
    let action = match action {
        "pause" => FlowControlAction::Pause,
        "resume" => FlowControlAction::Resume,
        "pin" => pin(&pairs)?,
        "unpin" => unpin(&pairs)?,
        "resetRate" => FlowControlAction::ResetRate,
        "reset" => FlowControlAction::Reset,
        other => {
            return Err(ApiError::not_found(format!(
                "unknown flow control action `{other}`; use {ACTIONS}"
            )))
        }
    };
    let now = shared.clock.now_ms();

    let info = shared.engine().manage_flow_control(now, key, action)?;
    tracing::debug!(flow_control_key = %key, ?action, "flow control key changed");
    shared.wake.notify_one();
    Ok(json(StatusCode::OK, &to_json(info)))
}

/// `?parallelism=<n>&rate=<n>&period=<seconds>`, at least one of them.
fn pin(pairs: &[(String, String)]) -> Result<FlowControlAction, ApiError> {
    let number = |name: &str| -> Result<Option<u32>, ApiError> {
        value(pairs, name)
            .map(|raw| positive(name, raw))
            .transpose()
    };
    let parallelism = number("parallelism")?;
    let rate = number("rate")?;
    let period_ms = value(pairs, "period")
        .map(|raw| period("period", raw))
        .transpose()?;
    if parallelism.is_none() && rate.is_none() && period_ms.is_none() {
        return Err(ApiError::bad_request(
            "pin: give parallelism=<n>, rate=<n> or period=<seconds>",
        ));
    }
    Ok(FlowControlAction::Pin {
        parallelism,
        rate,
        period_ms,
    })
}

/// `?parallelism=true|false&rate=true|false`, at least one of them true.
fn unpin(pairs: &[(String, String)]) -> Result<FlowControlAction, ApiError> {
    let flag = |name: &str| -> Result<bool, ApiError> {
        match value(pairs, name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                name,
                format!("`{other}` is not true or false"),
            )),
        }
    };
    let (parallelism, rate) = (flag("parallelism")?, flag("rate")?);
    if !(parallelism || rate) {
        return Err(ApiError::bad_request(
            "unpin: give parallelism=true, rate=true or both",
        ));
    }
    Ok(FlowControlAction::Unpin { parallelism, rate })
}

fn to_json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Reads `Upstash-Flow-Control-Key` and `-Value` (or their lower-case query forms).
///
/// The value lists `parallelism=<n>`, `rate=<n>` and `period=<duration>` separated by
/// commas, each optional but at least one of parallelism and rate; a period is a number
/// of seconds or a duration such as `1m`, one second by default and a week at most.
pub(crate) fn parse_flow_control(
    headers: &http::HeaderMap,
    query: &[(String, String)],
) -> Result<Option<FlowControlSpec>, ApiError> {
    let read = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| value(query, &name.to_ascii_lowercase()).map(str::to_owned))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    match (read(KEY), read(VALUE)) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ApiError::invalid(KEY, format!("is required with {VALUE}"))),
        (Some(_), None) => Err(ApiError::invalid(
            VALUE,
            format!("is required with {KEY}: give parallelism=<n>, rate=<n> or both"),
        )),
        (Some(key), Some(text)) => parse_value(key, &text).map(Some),
    }
}

fn parse_value(key: String, text: &str) -> Result<FlowControlSpec, ApiError> {
    let mut spec = FlowControlSpec {
        key,
        parallelism: None,
        rate: None,
        period_ms: DEFAULT_PERIOD_MS,
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, raw) = part
            .split_once('=')
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim()))
            .ok_or_else(|| ApiError::invalid(VALUE, format!("`{part}` is not name=value")))?;
        match name.as_str() {
            "parallelism" => spec.parallelism = Some(in_value(positive(&name, raw))?),
            "rate" => spec.rate = Some(in_value(positive(&name, raw))?),
            "period" => spec.period_ms = in_value(period(&name, raw))?,
            _ => {
                return Err(ApiError::invalid(
                    VALUE,
                    format!("unknown setting `{name}`; use parallelism, rate and period"),
                ))
            }
        }
    }
    if spec.parallelism.is_none() && spec.rate.is_none() {
        return Err(ApiError::invalid(
            VALUE,
            "give parallelism=<n>, rate=<n> or both",
        ));
    }
    Ok(spec)
}

/// A setting refused inside `Upstash-Flow-Control-Value`, named by the header.
fn in_value<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    result.map_err(|e| ApiError::invalid(VALUE, e.message()))
}

fn positive(name: &str, raw: &str) -> Result<u32, ApiError> {
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid(name, format!("`{raw}` is not a whole number above 0")))
}

/// A period: a number of seconds or a duration such as `1m`, above 0 and at most 7d.
fn period(name: &str, raw: &str) -> Result<u64, ApiError> {
    let raw = raw.trim();
    let ms = match raw.parse::<u64>() {
        Ok(seconds) => seconds.saturating_mul(1_000),
        Err(_) => parse_upstash_duration(raw).map_err(|e| ApiError::invalid(name, e))?,
    };
    if ms == 0 || ms > MAX_PERIOD_MS {
        return Err(ApiError::invalid(
            name,
            format!("`{raw}` must be above 0s and at most 7d"),
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Option<FlowControlSpec>, ApiError> {
        let mut headers = http::HeaderMap::new();
        headers.insert(KEY, "tenant-1".parse().unwrap());
        headers.insert(VALUE, value.parse().unwrap());
        parse_flow_control(&headers, &[])
    }

    #[test]
    fn the_value_reads_parallelism_rate_and_period() {
        let spec = parse("parallelism=2, rate=10, period=1m").unwrap().unwrap();

        assert_eq!(spec.key, "tenant-1");
        assert_eq!(spec.parallelism, Some(2));
        assert_eq!(spec.rate, Some(10));
        assert_eq!(spec.period_ms, 60_000);
    }

    #[test]
    fn a_bare_period_is_in_seconds_and_one_second_is_the_default() {
        assert_eq!(
            parse("rate=5, period=30").unwrap().unwrap().period_ms,
            30_000
        );
        assert_eq!(parse("rate=5").unwrap().unwrap().period_ms, 1_000);
    }

    #[test]
    fn bad_values_name_the_header_and_the_setting() {
        let cases = [
            ("", "Upstash-Flow-Control-Value: is required"),
            ("period=1s", "give parallelism=<n>, rate=<n> or both"),
            ("parallelism=0", "parallelism: `0`"),
            ("rate=x", "rate: `x`"),
            ("rate=1, period=8d", "at most 7d"),
            ("speed=3", "unknown setting `speed`"),
        ];

        for (value, expected) in cases {
            let error = format!("{:?}", parse(value).unwrap_err());
            assert!(error.contains(expected), "{value}: {error}");
        }
    }
}
