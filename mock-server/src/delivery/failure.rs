//! Short, secret-free reasons for attempts that produced no response.

use std::error::Error as StdError;
use std::io;

use hyper_util::client::legacy;

/// Describes why the client got no response, in a few words.
///
/// Common causes get a fixed phrase (`connection refused`, `dns lookup failed: …`,
/// `tls handshake failed: …`, `connection closed before a response`); anything else is
/// the error's cause chain. None of these include the URL, headers or body.
pub(super) fn describe_request_error(error: &legacy::Error) -> String {
    if error.is_connect() {
        return describe_connect_error(error);
    }

    let closed_early =
        find_cause::<hyper::Error>(error).is_some_and(hyper::Error::is_incomplete_message);
    if closed_early {
        return "connection closed before a response".to_owned();
    }
    format!("request failed: {}", cause_chain(error))
}

/// Describes a failure while the response body was being read.
pub(super) fn describe_body_error(error: &hyper::Error) -> String {
    format!(
        "response body could not be read: {}",
        cause_chain_from(error)
    )
}

/// Describes a failure to reach the destination at all.
fn describe_connect_error(error: &legacy::Error) -> String {
    if let Some(io_error) = find_cause::<io::Error>(error) {
        if io_error.kind() == io::ErrorKind::ConnectionRefused {
            return "connection refused".to_owned();
        }
    }

    if let Some(tls_error) = iter_causes(error).find_map(tls_error_in) {
        return format!("tls handshake failed: {tls_error}");
    }

    // hyper-util marks resolver failures with this exact message.
    let is_dns = iter_causes(error).any(|cause| cause.to_string() == "dns error");
    if is_dns {
        let detail = iter_causes(error)
            .last()
            .map(ToString::to_string)
            .unwrap_or_default();
        return format!("dns lookup failed: {detail}");
    }
    format!("connect failed: {}", cause_chain(error))
}

/// The rustls error inside `cause`, if there is one.
///
/// hyper-rustls and tokio-rustls wrap handshake failures in one `io::Error` inside
/// another; the rustls error at the bottom says what was wrong with the certificate or
/// the protocol.
fn tls_error_in<'a>(cause: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls_error) = cause.downcast_ref::<rustls::Error>() {
        return Some(tls_error);
    }
    let inner = cause.downcast_ref::<io::Error>()?.get_ref()?;
    tls_error_in(inner)
}

/// The causes below `error`, outermost first. The client's own wrapper message
/// (`client error (Connect)`) is skipped because it only repeats the category.
fn iter_causes<'a>(error: &'a legacy::Error) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(error.source(), |&cause| cause.source())
}

/// The first cause of type `E` below `error`.
fn find_cause<E: StdError + 'static>(error: &legacy::Error) -> Option<&E> {
    iter_causes(error).find_map(|cause| cause.downcast_ref::<E>())
}

/// The causes below `error` joined with `: `, or the error itself when it has none.
fn cause_chain(error: &legacy::Error) -> String {
    let causes: Vec<String> = iter_causes(error).map(ToString::to_string).collect();
    if causes.is_empty() {
        return error.to_string();
    }
    causes.join(": ")
}

/// `error` and its causes joined with `: `.
fn cause_chain_from(error: &(dyn StdError + 'static)) -> String {
    let causes: Vec<String> = std::iter::successors(Some(error), |&cause| cause.source())
        .map(ToString::to_string)
        .collect();
    causes.join(": ")
}
