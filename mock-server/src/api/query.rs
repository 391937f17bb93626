//! Query strings: decoding, multi-value filters, and splitting a publish destination's
//! own parameters from QStash's.

use super::error::ApiError;

/// Decoded `name=value` pairs, in order.
pub(crate) fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else {
        return Vec::new();
    };
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// Every value of a multi-value parameter, given repeated, comma-separated or both, under
/// any of `names` (e.g. `url` and `url[]`).
pub(crate) fn values(pairs: &[(String, String)], names: &[&str]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(name, _)| names.contains(&name.as_str()))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The single value of a parameter, if present.
pub(crate) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.as_str())
}

/// A unix-ms parameter such as `fromDate`, if present.
pub(crate) fn unix_ms(pairs: &[(String, String)], name: &str) -> Result<Option<u64>, ApiError> {
    value(pairs, name)
        .map(|raw| {
            raw.parse::<u64>()
                .map_err(|_| ApiError::invalid(name, format!("`{raw}` is not a unix time in ms")))
        })
        .transpose()
}

/// Whether a raw query parameter configures QStash rather than belonging to the
/// destination: the token and lower-case `upstash-*` settings.
fn is_qstash_parameter(raw: &str) -> bool {
    let name = raw.split('=').next().unwrap_or_default();
    let decoded: String = form_urlencoded::parse(name.as_bytes())
        .map(|(n, _)| n.into_owned())
        .next()
        .unwrap_or_default();
    decoded == "qstash_token" || decoded.starts_with("upstash-")
}

/// Splits a publish request's raw query into the destination's own part (kept byte for
/// byte) and QStash's configuration parameters (decoded).
pub(crate) fn split_publish_query(query: Option<&str>) -> (Option<String>, Vec<(String, String)>) {
    let Some(query) = query else {
        return (None, Vec::new());
    };
    let (qstash, own): (Vec<&str>, Vec<&str>) = query
        .split('&')
        .filter(|part| !part.is_empty())
        .partition(|part| is_qstash_parameter(part));
    let own = (!own.is_empty()).then(|| own.join("&"));
    (own, pairs(Some(&qstash.join("&"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_value_parameters_accept_repeats_and_commas() {
        let pairs = pairs(Some("url=a&url[]=b,c&other=x"));

        assert_eq!(values(&pairs, &["url", "url[]"]), vec!["a", "b", "c"]);
    }

    #[test]
    fn a_publish_query_keeps_the_destination_parameters_raw() {
        let (own, qstash) =
            split_publish_query(Some("a=1&upstash-retries=2&b=x%20y&qstash_token=t"));

        assert_eq!(own.as_deref(), Some("a=1&b=x%20y"));
        assert_eq!(
            qstash,
            vec![
                ("upstash-retries".to_owned(), "2".to_owned()),
                ("qstash_token".to_owned(), "t".to_owned())
            ]
        );
    }

    #[test]
    fn a_query_of_only_settings_leaves_the_destination_without_one() {
        let (own, qstash) = split_publish_query(Some("upstash-delay=10s"));

        assert_eq!(own, None);
        assert_eq!(qstash.len(), 1);
    }
}
