//! Black-box tests of the delivery client against real local servers.

use std::time::Duration;

use bytes::Bytes;
use qstash_mock::delivery::{Deliverer, DeliveryConfig, DeliveryError};
use qstash_mock::engine::{AttemptOutcome, CapturedResponse, OutgoingRequest};

use support::{HeaderValues as _, Reply, TestCa, TestServer};

/// Short enough to keep the suite fast, long enough for a local round trip.
const TIMEOUT: Duration = Duration::from_millis(200);

fn post(url: impl Into<String>) -> OutgoingRequest {
    OutgoingRequest {
        url: url.into(),
        method: http::Method::POST,
        headers: Vec::new(),
        body: Bytes::from_static(b"{\"hello\":\"world\"}"),
        timeout: TIMEOUT,
    }
}

fn deliverer() -> Deliverer {
    support::capture_logs();
    Deliverer::new(DeliveryConfig::default()).expect("the default config is valid")
}

fn deliverer_with(config: DeliveryConfig) -> Deliverer {
    support::capture_logs();
    Deliverer::new(config).expect("the config is valid")
}

fn expect_response(outcome: AttemptOutcome) -> CapturedResponse {
    match outcome {
        AttemptOutcome::Response(response) => response,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn expect_connection_error(outcome: AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::ConnectionError { reason } => reason,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_response_is_captured_with_status_lowercased_headers_and_body() {
    let server = TestServer::start(
        Reply::status(201)
            .header("X-Request-Id", "abc")
            .header("Set-Cookie", "a=1")
            .header("Set-Cookie", "b=2")
            .body("created"),
    )
    .await;

    let response = expect_response(deliverer().send(post(server.url("/hook"))).await);

    assert_eq!(response.status, 201);
    assert_eq!(response.body, "created");
    assert_eq!(response.header_values("x-request-id"), ["abc"]);
    assert_eq!(response.header_values("set-cookie"), ["a=1", "b=2"]);
    assert!(response
        .headers
        .iter()
        .all(|(name, _)| *name == name.to_lowercase()));
}

#[tokio::test]
async fn the_method_path_query_headers_and_body_are_sent_as_given() {
    let server = TestServer::start(Reply::status(200)).await;
    let request = OutgoingRequest {
        method: http::Method::PUT,
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Upstash-Message-Id".to_owned(), "msg_1".to_owned()),
            ("Upstash-Retried".to_owned(), "0".to_owned()),
        ],
        ..post(server.url("/hook?x=1&y=2"))
    };

    deliverer().send(request).await;

    let received = server.only_request();
    assert_eq!(received.method, "PUT");
    assert_eq!(received.path_and_query, "/hook?x=1&y=2");
    assert_eq!(received.header("content-type"), Some("application/json"));
    assert_eq!(received.header("upstash-message-id"), Some("msg_1"));
    assert_eq!(received.header("upstash-retried"), Some("0"));
    assert_eq!(received.body, "{\"hello\":\"world\"}");
}

#[tokio::test]
async fn a_status_outside_2xx_is_still_a_response() {
    let server = TestServer::start(Reply::status(503).body("try later")).await;

    let response = expect_response(deliverer().send(post(server.url("/"))).await);

    assert_eq!(response.status, 503);
    assert_eq!(response.body, "try later");
}

#[tokio::test]
async fn a_redirect_is_returned_as_a_response_and_not_followed() {
    let server = TestServer::start(Reply::status(307).header("Location", "/elsewhere")).await;

    let response = expect_response(deliverer().send(post(server.url("/start"))).await);

    assert_eq!(response.status, 307);
    assert_eq!(response.header_values("location"), ["/elsewhere"]);
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_destination_slower_than_the_timeout_gives_a_timeout() {
    let server = TestServer::start(Reply::status(200).delay(Duration::from_secs(5))).await;

    let outcome = deliverer().send(post(server.url("/slow"))).await;

    assert_eq!(outcome, AttemptOutcome::Timeout);
}

#[tokio::test]
async fn a_body_that_stalls_after_the_head_gives_a_timeout() {
    let head = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly a little";
    let server = support::RawServer::start(head.as_bytes()).await;

    let outcome = deliverer().send(post(server.url())).await;

    assert_eq!(outcome, AttemptOutcome::Timeout);
}

#[tokio::test]
async fn a_closed_port_gives_a_connection_refused_error() {
    let url = format!("http://{}/hook", support::unused_local_addr().await);

    let reason = expect_connection_error(deliverer().send(post(url)).await);

    assert_eq!(reason, "connection refused");
}

#[tokio::test]
async fn a_server_that_closes_without_answering_gives_a_connection_error() {
    let server = support::RawServer::start(b"").await;

    let reason = expect_connection_error(deliverer().send(post(server.url())).await);

    assert_eq!(reason, "connection closed before a response");
}

#[tokio::test]
async fn a_body_longer_than_the_limit_is_truncated_not_refused() {
    let server = TestServer::start(Reply::status(200).body("0123456789")).await;
    let config = DeliveryConfig {
        max_response_body_bytes: 4,
        ..DeliveryConfig::default()
    };

    let response = expect_response(deliverer_with(config).send(post(server.url("/"))).await);

    assert_eq!(response.status, 200);
    assert_eq!(response.body, "0123");
}

#[tokio::test]
async fn a_mapped_host_reaches_the_local_address_with_path_query_and_host_intact() {
    let server = TestServer::start(Reply::status(200).body("mapped")).await;
    let mapping = format!("app.example.com={}", server.addr());
    let config = DeliveryConfig {
        map_hosts: vec![mapping.parse().unwrap()],
        ..DeliveryConfig::default()
    };

    let outcome = deliverer_with(config)
        .send(post("https://app.example.com/hook?x=1"))
        .await;

    assert_eq!(expect_response(outcome).body, "mapped");
    let received = server.only_request();
    assert_eq!(received.path_and_query, "/hook?x=1");
    assert_eq!(received.header("host"), Some("app.example.com"));
}

#[tokio::test]
async fn a_mapping_matches_the_host_whatever_its_case_and_port() {
    let server = TestServer::start(Reply::status(204)).await;
    let config = DeliveryConfig {
        map_hosts: vec![format!("APP.example.com={}", server.addr())
            .parse()
            .unwrap()],
        ..DeliveryConfig::default()
    };

    let outcome = deliverer_with(config)
        .send(post("https://app.EXAMPLE.com:8443/"))
        .await;

    assert_eq!(expect_response(outcome).status, 204);
    assert_eq!(
        server.only_request().header("host"),
        Some("app.EXAMPLE.com:8443")
    );
}

#[tokio::test]
async fn connections_are_kept_alive_between_attempts() {
    let server = TestServer::start(Reply::status(200).body("ok")).await;
    let deliverer = deliverer();

    let first = deliverer.send(post(server.url("/one"))).await;
    let second = deliverer.clone().send(post(server.url("/two"))).await;

    assert_eq!(expect_response(first).status, 200);
    assert_eq!(expect_response(second).status, 200);
    assert_eq!(server.received().len(), 2);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn an_invalid_header_value_fails_the_attempt_without_reaching_the_server() {
    let server = TestServer::start(Reply::status(200)).await;
    let request = OutgoingRequest {
        headers: vec![("Upstash-Signature".to_owned(), "a\r\nb".to_owned())],
        ..post(server.url("/"))
    };

    let reason = expect_connection_error(deliverer().send(request).await);

    assert_eq!(
        reason,
        "the value of request header \"Upstash-Signature\" is not a valid HTTP header value"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn https_to_a_server_certified_by_an_extra_root_succeeds() {
    let ca = TestCa::new();
    let server = TestServer::start_tls(Reply::status(200).body("secure"), &ca).await;
    let config = DeliveryConfig {
        extra_root_certs_pem: vec![ca.pem().into_bytes()],
        ..DeliveryConfig::default()
    };

    let outcome = deliverer_with(config).send(post(server.url("/tls"))).await;

    assert_eq!(expect_response(outcome).body, "secure");
    assert_eq!(server.only_request().path_and_query, "/tls");
}

#[tokio::test]
async fn an_extra_root_is_found_among_several_certificates_in_one_pem() {
    let ca = TestCa::new();
    let unrelated = TestCa::new();
    let server = TestServer::start_tls(Reply::status(200), &ca).await;
    let bundle = format!("{}\n{}", unrelated.pem(), ca.pem());
    let config = DeliveryConfig {
        extra_root_certs_pem: vec![bundle.into_bytes()],
        ..DeliveryConfig::default()
    };

    let outcome = deliverer_with(config).send(post(server.url("/"))).await;

    assert_eq!(expect_response(outcome).status, 200);
}

#[tokio::test]
async fn a_mock_built_with_an_extra_root_delivers_signed_messages_over_https() {
    let ca = TestCa::new();
    let server = TestServer::start_tls(Reply::status(200), &ca).await;
    let mock = qstash_mock::MockServer::builder()
        .trust_root_pem(ca.pem())
        .start()
        .await
        .unwrap();
    let destination = server.url("/secure");
    let publish = http::Request::post(format!("{}/v2/publish/{destination}", mock.uri()))
        .header("Authorization", format!("Bearer {}", mock.token()))
        .body(http_body_util::Full::new(Bytes::from_static(b"hi")))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();

    let answer = client.request(publish).await.unwrap();
    mock.settle().await;

    assert_eq!(answer.status(), 200);
    let received = server.only_request();
    assert_eq!(received.path_and_query, "/secure");
    assert!(received.header("upstash-signature").is_some());
    assert!(mock.dlq().is_empty());
}

#[tokio::test]
async fn https_without_the_extra_root_fails_with_a_connection_error() {
    let ca = TestCa::new();
    let server = TestServer::start_tls(Reply::status(200), &ca).await;

    let reason = expect_connection_error(deliverer().send(post(server.url("/tls"))).await);

    assert!(reason.starts_with("tls handshake failed: "), "{reason}");
    assert!(server.received().is_empty());
}

#[test]
fn pem_without_any_certificate_is_refused_with_the_entry_named() {
    let config = DeliveryConfig {
        extra_root_certs_pem: vec![b"this is not a certificate".to_vec()],
        ..DeliveryConfig::default()
    };

    let error = Deliverer::new(config).unwrap_err();

    assert!(matches!(
        error,
        DeliveryError::NoCertificateInPem { index: 0 }
    ));
    assert_eq!(
        error.to_string(),
        "extra_root_certs_pem[0] contains no PEM CERTIFICATE block"
    );
}

#[test]
fn a_certificate_block_with_broken_base64_is_refused() {
    let good = TestCa::new().pem().into_bytes();
    let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec();
    let config = DeliveryConfig {
        extra_root_certs_pem: vec![good, broken],
        ..DeliveryConfig::default()
    };

    let error = Deliverer::new(config).unwrap_err();

    assert!(
        matches!(error, DeliveryError::UnreadablePem { index: 1, .. }),
        "{error:?}"
    );
    assert!(error
        .to_string()
        .starts_with("extra_root_certs_pem[1] is not valid PEM"));
}

#[test]
fn a_certificate_block_that_is_not_a_certificate_is_refused() {
    let not_der = b"-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let config = DeliveryConfig {
        extra_root_certs_pem: vec![not_der.to_vec()],
        ..DeliveryConfig::default()
    };

    let error = Deliverer::new(config).unwrap_err();

    assert!(
        matches!(
            error,
            DeliveryError::InvalidRootCertificate {
                index: 0,
                position: 0,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_debug_log_names_the_attempt_without_query_string_or_header_values() {
    let server = TestServer::start(Reply::status(200)).await;
    let request = OutgoingRequest {
        headers: vec![("Upstash-Signature".to_owned(), "eyJsecret".to_owned())],
        ..post(server.url("/hook?token=querysecret"))
    };

    deliverer().send(request).await;

    let lines = support::log_lines_containing(&server.addr().to_string());
    let attempt = lines
        .iter()
        .find(|line| line.contains("delivery response"))
        .unwrap_or_else(|| panic!("no attempt line among {lines:#?}"));
    assert!(attempt.contains("DEBUG qstash_mock::delivery"), "{attempt}");
    assert!(
        attempt.contains(&format!("url=\"{}\"", server.url("/hook"))),
        "{attempt}"
    );
    assert!(attempt.contains("method=\"POST\" status=200"), "{attempt}");
    assert!(support::log_lines_containing("querysecret").is_empty());
    assert!(support::log_lines_containing("eyJsecret").is_empty());
}

/// Local servers and helpers the tests run against.
mod support {
    use std::convert::Infallible;
    use std::io::Write;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Full};
    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use qstash_mock::engine::CapturedResponse;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;
    use tokio_rustls::TlsAcceptor;

    /// Lets tests read captured response headers by name.
    pub trait HeaderValues {
        fn header_values(&self, name: &str) -> Vec<&str>;
    }

    impl HeaderValues for CapturedResponse {
        fn header_values(&self, name: &str) -> Vec<&str> {
            self.headers
                .iter()
                .filter(|(header, _)| header == name)
                .map(|(_, value)| value.as_str())
                .collect()
        }
    }

    /// What a [`TestServer`] answers to every request.
    #[derive(Debug, Clone)]
    pub struct Reply {
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        body: &'static str,
        delay: Duration,
    }

    impl Reply {
        pub fn status(status: u16) -> Self {
            Self {
                status,
                headers: Vec::new(),
                body: "",
                delay: Duration::ZERO,
            }
        }

        pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
            self.headers.push((name, value));
            self
        }

        pub fn body(mut self, body: &'static str) -> Self {
            self.body = body;
            self
        }

        pub fn delay(mut self, delay: Duration) -> Self {
            self.delay = delay;
            self
        }

        fn to_response(&self) -> http::Response<Full<Bytes>> {
            let mut builder = http::Response::builder().status(self.status);
            for (name, value) in &self.headers {
                builder = builder.header(*name, *value);
            }
            builder
                .body(Full::new(Bytes::from_static(self.body.as_bytes())))
                .unwrap()
        }
    }

    /// A request as the server saw it.
    #[derive(Debug, Clone)]
    pub struct Received {
        pub method: String,
        pub path_and_query: String,
        pub headers: http::HeaderMap,
        pub body: Bytes,
    }

    impl Received {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.get(name).map(|value| value.to_str().unwrap())
        }
    }

    /// A test CA and a server certificate for `127.0.0.1` that it issued.
    pub struct TestCa {
        ca_pem: String,
        server_chain: Vec<CertificateDer<'static>>,
        server_key: Vec<u8>,
    }

    impl TestCa {
        pub fn new() -> Self {
            let ca_key = rcgen::KeyPair::generate().unwrap();
            let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            ca_params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "qstash-mock test CA");
            let ca_cert = ca_params.self_signed(&ca_key).unwrap();

            let server_key = rcgen::KeyPair::generate().unwrap();
            let server_params =
                rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
            let server_cert = server_params
                .signed_by(&server_key, &ca_cert, &ca_key)
                .unwrap();

            Self {
                ca_pem: ca_cert.pem(),
                server_chain: vec![server_cert.der().clone()],
                server_key: server_key.serialize_der(),
            }
        }

        pub fn pem(&self) -> String {
            self.ca_pem.clone()
        }

        fn acceptor(&self) -> TlsAcceptor {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(self.server_chain.clone(), key)
                .unwrap();
            TlsAcceptor::from(Arc::new(config))
        }
    }

    /// Records what the server saw; shared between the server's tasks and the test.
    #[derive(Debug, Default)]
    struct Log {
        requests: Mutex<Vec<Received>>,
        connections: AtomicUsize,
    }

    /// An HTTP/1.1 server on `127.0.0.1:0` that answers every request with one [`Reply`].
    pub struct TestServer {
        addr: SocketAddr,
        scheme: &'static str,
        log: Arc<Log>,
        accept_loop: JoinHandle<()>,
    }

    impl TestServer {
        pub async fn start(reply: Reply) -> Self {
            Self::spawn(reply, None).await
        }

        pub async fn start_tls(reply: Reply, ca: &TestCa) -> Self {
            Self::spawn(reply, Some(ca.acceptor())).await
        }

        pub fn addr(&self) -> SocketAddr {
            self.addr
        }

        pub fn url(&self, path_and_query: &str) -> String {
            format!("{}://{}{path_and_query}", self.scheme, self.addr)
        }

        pub fn received(&self) -> Vec<Received> {
            self.log.requests.lock().unwrap().clone()
        }

        pub fn only_request(&self) -> Received {
            let received = self.received();
            assert_eq!(
                received.len(),
                1,
                "expected exactly one request, got {received:#?}"
            );
            received.into_iter().next().unwrap()
        }

        pub fn connections(&self) -> usize {
            self.log.connections.load(Ordering::SeqCst)
        }

        async fn spawn(reply: Reply, tls: Option<TlsAcceptor>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let log = Arc::new(Log::default());
            let scheme = if tls.is_some() { "https" } else { "http" };

            let reply = Arc::new(reply);
            let task_log = Arc::clone(&log);
            let accept_loop = tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    task_log.connections.fetch_add(1, Ordering::SeqCst);
                    let (reply, log, tls) =
                        (Arc::clone(&reply), Arc::clone(&task_log), tls.clone());
                    tokio::spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                // A failed handshake is what some tests expect; the client
                                // reports it.
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    serve(stream, reply, log).await;
                                }
                            }
                            None => serve(stream, reply, log).await,
                        }
                    });
                }
            });

            Self {
                addr,
                scheme,
                log,
                accept_loop,
            }
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.accept_loop.abort();
        }
    }

    async fn serve<S>(stream: S, reply: Arc<Reply>, log: Arc<Log>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = service_fn(move |request: http::Request<Incoming>| {
            let (reply, log) = (Arc::clone(&reply), Arc::clone(&log));
            async move {
                let (parts, body) = request.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|body| body.to_bytes())
                    .unwrap_or_default();
                log.requests.lock().unwrap().push(Received {
                    method: parts.method.to_string(),
                    path_and_query: parts.uri.path_and_query().unwrap().to_string(),
                    headers: parts.headers,
                    body,
                });

                tokio::time::sleep(reply.delay).await;
                Ok::<_, Infallible>(reply.to_response())
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    }

    /// A TCP server that reads the request, writes `answer` verbatim, then holds the
    /// connection open for a while (or closes it at once when `answer` is empty).
    pub struct RawServer {
        addr: SocketAddr,
        accept_loop: JoinHandle<()>,
    }

    impl RawServer {
        pub async fn start(answer: &'static [u8]) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();

            let accept_loop = tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    tokio::spawn(async move {
                        let mut buffer = [0u8; 4096];
                        let _ = stream.read(&mut buffer).await;
                        if answer.is_empty() {
                            return;
                        }
                        let _ = stream.write_all(answer).await;
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    });
                }
            });

            Self { addr, accept_loop }
        }

        pub fn url(&self) -> String {
            format!("http://{}/", self.addr)
        }
    }

    impl Drop for RawServer {
        fn drop(&mut self) {
            self.accept_loop.abort();
        }
    }

    /// A local address with nothing listening on it.
    pub async fn unused_local_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    }

    /// Everything logged at debug level by any test in this binary.
    static LOGS: OnceLock<SharedBuffer> = OnceLock::new();

    /// Sends this process's `tracing` output at debug level to a buffer, once.
    ///
    /// The subscriber is global and installed before any attempt is sent, because a
    /// thread-local one races with other tests registering the same callsites and can
    /// miss events.
    pub fn capture_logs() {
        LOGS.get_or_init(|| {
            let buffer = SharedBuffer::default();
            let writer = buffer.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            buffer
        });
    }

    /// The log lines captured so far that contain `needle`.
    pub fn log_lines_containing(needle: &str) -> Vec<String> {
        let buffer = LOGS.get().expect("capture_logs was called");
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    #[derive(Clone, Default)]
    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

    impl Write for SharedBuffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
