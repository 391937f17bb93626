//! The DLQ console: a web page at `/__console` for looking at failed messages, retrying
//! or deleting them, and moving the mock's clock.
//!
//! This module serves only the page's static files, embedded in the binary so the console
//! works offline, and it serves them without a token: they hold no data. Everything the
//! page shows comes from the token-protected `/v2` API and `/__mock` control plane, which
//! the page calls with the token the user signs in with.

use crate::api::HttpResponse;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;

/// The path the console lives under.
const PREFIX: &str = "/__console";

/// What the browser may load: only files from the mock itself, no inline scripts or
/// styles, no framing, no form posts elsewhere.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
#[derive(Debug)]
struct Asset {
    /// The path below [`PREFIX`], without the leading slash.
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// Every file of the console. The page itself answers `/__console` and `/__console/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("assets/index.html"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("assets/style.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("assets/favicon.svg"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/api.js"),
    },
    Asset {
        name: "dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/dom.js"),
    },
    Asset {
        name: "clock.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/clock.js"),
    },
    Asset {
        name: "dlq.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/dlq.js"),
    },
    Asset {
        name: "detail.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/detail.js"),
    },
    Asset {
        name: "timeline.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/timeline.js"),
    },
    Asset {
        name: "lists.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("assets/lists.js"),
    },
];

/// Answers a request for the console, or `None` when `path` is not the console's.
///
/// Only `GET` and `HEAD` are served; the console never needs a token here.
pub(crate) fn serve(method: &Method, path: &str) -> Option<HttpResponse> {
    let name = asset_name(path)?;
    let response = match (method, find(name)) {
        (&Method::GET | &Method::HEAD, Some(asset)) => {
            let body = if method == Method::HEAD {
                Bytes::new()
            } else {
                Bytes::from_static(asset.body)
            };
            with_headers(StatusCode::OK, asset.content_type, body)
        }
        (&Method::GET | &Method::HEAD, None) => with_headers(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            Bytes::from(format!("no console file at {PREFIX}/{name}\n")),
        ),
        _ => {
            let mut response = with_headers(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain; charset=utf-8",
                Bytes::from(format!("{method} is not allowed on {PREFIX}; use GET\n")),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        }
    };
    Some(response)
}

/// The file name `path` asks for: `index.html` for the console's root, `None` outside it.
fn asset_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PREFIX)?;
    match rest {
        "" | "/" => Some("index.html"),
        _ => rest.strip_prefix('/'),
    }
}

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

fn with_headers(status: StatusCode, content_type: &'static str, body: Bytes) -> HttpResponse {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // The files change with the binary; a stale page must not outlive an upgrade.
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_text(response: HttpResponse) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn header_of(response: &HttpResponse, name: header::HeaderName) -> &str {
        response.headers()[name].to_str().unwrap()
    }

    #[tokio::test]
    async fn the_console_root_serves_the_page_with_its_security_headers() {
        let response = serve(&Method::GET, "/__console").unwrap();

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert!(
            header_of(&response, header::CONTENT_SECURITY_POLICY).starts_with("default-src 'self'")
        );
        assert_eq!(header_of(&response, header::X_FRAME_OPTIONS), "DENY");
        assert_eq!(header_of(&response, header::REFERRER_POLICY), "no-referrer");
        assert!(body_text(response)
            .await
            .contains(r#"src="/__console/app.js""#));
    }

    #[test]
    fn the_root_with_a_trailing_slash_is_the_same_page() {
        let response = serve(&Method::GET, "/__console/").unwrap();

        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn scripts_are_served_as_javascript() {
        let response = serve(&Method::GET, "/__console/app.js").unwrap();

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header_of(&response, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        let scripts = ASSETS.iter().filter(|a| a.name.ends_with(".js"));

        let imports: Vec<String> = scripts
            .flat_map(|asset| std::str::from_utf8(asset.body).unwrap().lines())
            .filter_map(|line| line.split(" from './").nth(1))
            .map(|rest| rest.trim_end_matches([';', '\'']).to_owned())
            .collect();

        assert!(!imports.is_empty());
        for import in imports {
            assert!(
                find(&import).is_some(),
                "{import} is imported but not embedded"
            );
        }
    }

    #[tokio::test]
    async fn head_answers_the_headers_without_a_body() {
        let response = serve(&Method::HEAD, "/__console/style.css").unwrap();

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(body_text(response).await, "");
    }

    #[tokio::test]
    async fn an_unknown_file_is_not_found_and_says_which() {
        let response = serve(&Method::GET, "/__console/missing.js").unwrap();

        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(body_text(response).await.contains("/__console/missing.js"));
    }

    #[test]
    fn other_methods_are_refused_with_the_allowed_ones() {
        let response = serve(&Method::POST, "/__console").unwrap();

        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header_of(&response, header::ALLOW), "GET, HEAD");
    }

    #[test]
    fn paths_outside_the_console_are_left_to_the_api() {
        assert!(serve(&Method::GET, "/__consoles").is_none());
        assert!(serve(&Method::GET, "/v2/dlq").is_none());
        assert!(serve(&Method::GET, "/__mock/console").is_none());
    }
}
