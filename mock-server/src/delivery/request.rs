//! Turning an [`OutgoingRequest`] into the HTTP request that goes on the wire.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST};
use http::uri::{PathAndQuery, Uri};
use http_body_util::Full;

use super::HostMapping;
use crate::engine::OutgoingRequest;

/// The request as hyper sends it.
pub(super) type WireRequest = http::Request<Full<Bytes>>;

/// Builds the wire request for `request`, applying the first matching host mapping.
///
/// Headers keep their order. A header whose name or value is not valid HTTP fails the
/// whole attempt rather than being dropped, because a missing header (the signature,
/// say) would make the delivery quietly differ from what the engine asked for.
///
/// Errors are reasons for a connection error; they never quote a header value.
pub(super) fn build(
    request: &OutgoingRequest,
    map_hosts: &[HostMapping],
) -> Result<WireRequest, String> {
    let url: Uri = request
        .url
        .parse()
        .map_err(|_| "the url is not a valid absolute URI".to_owned())?;
    let Some(host) = url.host() else {
        return Err("the url has no host".to_owned());
    };

    let mapping = map_hosts.iter().find(|mapping| mapping.matches(host));
    let mut builder = http::Request::builder().method(request.method.clone());
    for (name, value) in &request.headers {
        let (name, value) = header(name, value)?;
        builder = builder.header(name, value);
    }

    let mut wire = match mapping {
        Some(mapping) => builder.uri(mapped_uri(&url, mapping)?),
        None => builder.uri(url.clone()),
    }
    .body(Full::new(request.body.clone()))
    .map_err(|error| format!("the request could not be built: {error}"))?;

    // A mapped request reaches another address, but the app should still see the
    // authority it was published to, as it would behind a reverse proxy.
    if mapping.is_some() {
        wire.headers_mut().insert(HOST, original_host(&url)?);
    }
    Ok(wire)
}

/// The published URL with userinfo, query string and fragment removed, for logs.
///
/// Works on the raw string so that even a URL that fails to parse can be logged.
pub(super) fn url_for_log(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let without_query = &url[..end];

    let Some(scheme_end) = without_query.find("://").map(|at| at + 3) else {
        return without_query.to_owned();
    };
    let rest = &without_query[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &without_query[..scheme_end], &rest[at + 1..]),
        None => without_query.to_owned(),
    }
}

/// Validates one header pair, naming the header (never its value) when it is invalid.
fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("request header name {name:?} is not a valid HTTP header name"))?;
    let header_value = HeaderValue::from_str(value).map_err(|_| {
        format!("the value of request header {name:?} is not a valid HTTP header value")
    })?;
    Ok((header_name, header_value))
}

/// `http://ADDR` followed by the published URL's path and query.
fn mapped_uri(url: &Uri, mapping: &HostMapping) -> Result<Uri, String> {
    let path_and_query = url
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Uri::builder()
        .scheme("http")
        .authority(mapping.addr.as_str())
        .path_and_query(path_and_query)
        .build()
        .map_err(|error| format!("host mapping {mapping} gives an invalid URI: {error}"))
}

/// The published URL's host and port, without userinfo, as a `Host` header value.
fn original_host(url: &Uri) -> Result<HeaderValue, String> {
    let host = url.host().unwrap_or_default();
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    HeaderValue::from_str(&authority)
        .map_err(|_| "the url's host is not a valid Host header".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outgoing(url: &str, headers: &[(&str, &str)]) -> OutgoingRequest {
        OutgoingRequest {
            url: url.to_owned(),
            method: http::Method::POST,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: Bytes::from_static(b"hi"),
            timeout: Duration::from_secs(1),
        }
    }

    fn mappings(specs: &[&str]) -> Vec<HostMapping> {
        specs.iter().map(|spec| spec.parse().unwrap()).collect()
    }

    #[test]
    fn an_unmapped_url_is_sent_as_published() {
        let request = outgoing("https://api.example.com:8443/hook?x=1", &[]);

        let wire = build(&request, &mappings(&["app.example.com=127.0.0.1:3000"])).unwrap();

        assert_eq!(wire.uri(), "https://api.example.com:8443/hook?x=1");
        assert_eq!(wire.headers().get(HOST), None);
    }

    #[test]
    fn a_mapped_url_goes_to_the_address_over_http_with_the_original_host_header() {
        let request = outgoing("https://user:pw@APP.example.com:8443/hook?x=1", &[]);

        let wire = build(&request, &mappings(&["app.example.com=127.0.0.1:3000"])).unwrap();

        assert_eq!(wire.uri(), "http://127.0.0.1:3000/hook?x=1");
        assert_eq!(wire.headers()[HOST], "APP.example.com:8443");
    }

    #[test]
    fn a_mapped_url_without_a_path_is_sent_to_the_root() {
        let request = outgoing("https://app.example.com", &[]);

        let wire = build(&request, &mappings(&["app.example.com=127.0.0.1:3000"])).unwrap();

        assert_eq!(wire.uri(), "http://127.0.0.1:3000/");
        assert_eq!(wire.headers()[HOST], "app.example.com");
    }

    #[test]
    fn headers_are_sent_in_order_including_repeated_names() {
        let request = outgoing(
            "http://a.test/",
            &[("X-One", "1"), ("X-Two", "2"), ("x-one", "3")],
        );

        let wire = build(&request, &[]).unwrap();

        let values: Vec<_> = wire.headers().get_all("x-one").iter().collect();
        assert_eq!(values, ["1", "3"]);
        assert_eq!(wire.headers()["x-two"], "2");
    }

    #[test]
    fn an_invalid_header_value_fails_without_quoting_the_value() {
        let request = outgoing("http://a.test/", &[("Upstash-Signature", "secret\nvalue")]);

        let reason = build(&request, &[]).unwrap_err();

        assert!(reason.contains("Upstash-Signature"), "{reason}");
        assert!(!reason.contains("secret"), "{reason}");
    }

    #[test]
    fn an_invalid_header_name_fails_the_request() {
        let request = outgoing("http://a.test/", &[("Bad Name", "v")]);

        let reason = build(&request, &[]).unwrap_err();

        assert!(
            reason.contains("\"Bad Name\" is not a valid HTTP header name"),
            "{reason}"
        );
    }

    #[test]
    fn a_url_without_a_host_fails_the_request() {
        let request = outgoing("/relative/path", &[]);

        let reason = build(&request, &[]).unwrap_err();

        assert_eq!(reason, "the url has no host");
    }

    #[test]
    fn logged_urls_lose_their_query_fragment_and_credentials() {
        assert_eq!(
            url_for_log("https://a.test/p?token=s#f"),
            "https://a.test/p"
        );
        assert_eq!(
            url_for_log("https://u:pw@a.test:8/p?q"),
            "https://a.test:8/p"
        );
        assert_eq!(url_for_log("https://a.test/p@q"), "https://a.test/p@q");
        assert_eq!(url_for_log("not a url?x"), "not a url");
    }
}
