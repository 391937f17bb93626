//! How the delivery client is set up: host mappings, extra trust roots, response limits.

use std::fmt;
use std::str::FromStr;

use http::uri::Authority;

use super::DeliveryError;

/// The default cap on how much of a response body is kept: 1 MiB.
const DEFAULT_MAX_RESPONSE_BODY_BYTES: usize = 1024 * 1024;

/// Settings for a [`Deliverer`](super::Deliverer).
///
/// The default has no host mappings, trusts only the bundled web PKI roots, and keeps
/// up to 1 MiB of each response body.
///
/// ```
/// use qstash_mock::delivery::{DeliveryConfig, HostMapping};
///
/// let config = DeliveryConfig {
///     map_hosts: vec!["app.example.com=127.0.0.1:3000".parse().unwrap()],
///     ..DeliveryConfig::default()
/// };
/// assert_eq!(config.max_response_body_bytes, 1024 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Hosts whose deliveries go to a local address instead; see [`HostMapping`].
    pub map_hosts: Vec<HostMapping>,
    /// PEM files whose certificates are trusted in addition to the web PKI roots. Each
    /// entry is the content of one file and may hold several certificates.
    pub extra_root_certs_pem: Vec<Vec<u8>>,
    /// How many bytes of a response body are kept. Longer bodies are cut, not refused.
    pub max_response_body_bytes: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            map_hosts: Vec::new(),
            extra_root_certs_pem: Vec::new(),
            max_response_body_bytes: DEFAULT_MAX_RESPONSE_BODY_BYTES,
        }
    }
}

/// Sends deliveries for one host name to another address, over plain HTTP.
///
/// This lets a published URL such as `https://app.example.com/hook` reach an app on
/// `127.0.0.1:3000` while the signature still names the published URL. The host matches
/// case-insensitively and whatever port the URL carries. The request keeps its path and
/// query, and its `Host` header names the URL's original authority.
///
/// Written as `HOST=ADDR`, where `ADDR` is `host:port`:
///
/// ```
/// use qstash_mock::delivery::HostMapping;
///
/// let mapping: HostMapping = "app.example.com=127.0.0.1:3000".parse().unwrap();
/// assert_eq!(mapping.host, "app.example.com");
/// assert_eq!(mapping.addr, "127.0.0.1:3000");
/// assert_eq!(mapping.to_string(), "app.example.com=127.0.0.1:3000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMapping {
    /// The host name to match, without port.
    pub host: String,
    /// Where matching requests go, as `host:port`.
    pub addr: String,
}

impl HostMapping {
    /// Whether a URL with host `url_host` is sent to this mapping's address.
    pub(super) fn matches(&self, url_host: &str) -> bool {
        self.host.eq_ignore_ascii_case(url_host)
    }
}

impl FromStr for HostMapping {
    type Err = DeliveryError;

    /// Parses `HOST=ADDR`.
    ///
    /// # Errors
    ///
    /// [`DeliveryError::InvalidHostMapping`] when there is no `=`, when `HOST` is empty
    /// or carries a port, path or other non-host characters, or when `ADDR` is not
    /// `host:port` with a port from 1 to 65535.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = |problem: &'static str| DeliveryError::InvalidHostMapping {
            input: input.to_owned(),
            problem,
        };

        let (host, addr) = input.split_once('=').ok_or_else(|| {
            invalid("expected HOST=ADDR, for example app.example.com=127.0.0.1:3000")
        })?;
        check_host(host).map_err(invalid)?;
        check_addr(addr).map_err(invalid)?;

        Ok(Self {
            host: host.to_owned(),
            addr: addr.to_owned(),
        })
    }
}

impl fmt::Display for HostMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.host, self.addr)
    }
}

/// Checks the `HOST` half of a mapping: a bare host name or bracketed IPv6 address.
fn check_host(host: &str) -> Result<(), &'static str> {
    if host.is_empty() {
        return Err("HOST is empty");
    }
    let authority: Authority = host.parse().map_err(|_| "HOST is not a valid host name")?;
    if authority.port().is_some() || authority.host() != host {
        return Err("HOST must be a bare host name, without port, user or path");
    }
    Ok(())
}

/// Checks the `ADDR` half of a mapping: `host:port` with a port from 1 to 65535.
fn check_addr(addr: &str) -> Result<(), &'static str> {
    let authority: Authority = addr.parse().map_err(|_| "ADDR is not a valid host:port")?;
    if authority.as_str().contains('@') {
        return Err("ADDR must not contain user information");
    }

    // A bracketed IPv6 address without port, such as `[::1]`, also contains colons.
    let split = addr
        .rsplit_once(':')
        .filter(|(_, port)| !port.ends_with(']'));
    let Some((host, port)) = split else {
        return Err("ADDR needs a port, for example 127.0.0.1:3000");
    };
    if host.is_empty() {
        return Err("ADDR needs a host before the port");
    }
    if port.is_empty() || !port.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("ADDR port is not a number");
    }
    match port.parse::<u16>() {
        Ok(1..) => Ok(()),
        _ => Err("ADDR port must be between 1 and 65535"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(input: &str) -> &'static str {
        match input.parse::<HostMapping>() {
            Err(DeliveryError::InvalidHostMapping { problem, .. }) => problem,
            other => panic!("expected an invalid host mapping for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn a_mapping_parses_and_displays_back_unchanged() {
        let input = "App.Example.com=127.0.0.1:3000";

        let mapping: HostMapping = input.parse().unwrap();

        assert_eq!(mapping.host, "App.Example.com");
        assert_eq!(mapping.addr, "127.0.0.1:3000");
        assert_eq!(mapping.to_string(), input);
    }

    #[test]
    fn a_mapping_to_an_ipv6_address_parses() {
        let mapping: HostMapping = "app.test=[::1]:8080".parse().unwrap();

        assert_eq!(mapping.addr, "[::1]:8080");
    }

    #[test]
    fn a_mapping_matches_its_host_case_insensitively_and_nothing_else() {
        let mapping: HostMapping = "app.example.com=127.0.0.1:3000".parse().unwrap();

        assert!(mapping.matches("APP.example.COM"));
        assert!(!mapping.matches("api.example.com"));
        assert!(!mapping.matches("example.com"));
    }

    #[test]
    fn malformed_mappings_are_refused_with_the_problem_named() {
        assert!(problem("app.example.com").starts_with("expected HOST=ADDR"));
        assert_eq!(problem("=127.0.0.1:3000"), "HOST is empty");
        assert_eq!(
            problem("app.example.com:443=127.0.0.1:3000"),
            "HOST must be a bare host name, without port, user or path"
        );
        assert_eq!(
            problem("app.example.com/x=127.0.0.1:3000"),
            "HOST is not a valid host name"
        );
        assert_eq!(
            problem("app.example.com=127.0.0.1"),
            "ADDR needs a port, for example 127.0.0.1:3000"
        );
        assert_eq!(
            problem("app.example.com=127.0.0.1:http"),
            "ADDR port is not a number"
        );
        assert_eq!(
            problem("app.example.com=127.0.0.1:0"),
            "ADDR port must be between 1 and 65535"
        );
        assert_eq!(
            problem("app.example.com=127.0.0.1:99999"),
            "ADDR port must be between 1 and 65535"
        );
        assert_eq!(
            problem("app.example.com=:3000"),
            "ADDR needs a host before the port"
        );
        assert_eq!(
            problem("app.example.com=[::1]"),
            "ADDR needs a port, for example 127.0.0.1:3000"
        );
        assert_eq!(
            problem("app.example.com=127.0.0.1:3000/x"),
            "ADDR is not a valid host:port"
        );
        assert_eq!(
            problem("app.example.com=user@127.0.0.1:3000"),
            "ADDR must not contain user information"
        );
    }

    #[test]
    fn the_error_message_quotes_the_input_and_the_problem() {
        let error = "nonsense".parse::<HostMapping>().unwrap_err();

        let message = error.to_string();

        assert!(message.contains("`nonsense`"), "{message}");
        assert!(message.contains("expected HOST=ADDR"), "{message}");
    }
}
