//! The async shell: a mock instance with its HTTP server, its driver task, and the
//! embedded API Rust tests use.

mod expectations;
mod http;
mod report;
pub(crate) mod shared;

pub use expectations::SinkBuilder;
pub use report::AdvanceReport;
pub use shared::DEFAULT_IDLE_STEP_LIMIT;

use crate::clock::{BackwardsError, ClockMode};
use crate::delivery::{Deliverer, DeliveryConfig, DeliveryError, HostMapping};
use crate::engine::{
    CancelledSpelling, DlqEntry, Engine, EngineConfig, Event, Plan, SignatureTime, SigningKeys,
    Timeline, DEV_TOKEN,
};
use crate::sinks::ReceivedRequest;
use expectations::Expectation;
pub use shared::ResetOptions;
use shared::{lock, Shared, SharedParts};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    #[error("could not listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The delivery client could not be built (a bad CA certificate, say).
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

/// Settings for a [`MockServer`], with consuming setters and one fallible `start`.
///
/// ```
/// # async fn run() -> Result<(), qstash_mock::StartError> {
/// use qstash_mock::{MockServer, Plan};
///
/// let mock = MockServer::builder().seed(7).plan(Plan::Free).start().await?;
/// assert!(mock.uri().starts_with("http://127.0.0.1:"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct MockServerBuilder {
    engine: EngineConfig,
    start_ms: Option<u64>,
    mode: ClockMode,
    token: String,
    address: SocketAddr,
    delivery: DeliveryConfig,
    concurrency: usize,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            engine: EngineConfig::default(),
            start_ms: None,
            mode: ClockMode::Frozen,
            token: DEV_TOKEN.to_owned(),
            address: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            delivery: DeliveryConfig::default(),
            concurrency: 64,
        }
    }
}

impl MockServerBuilder {
    /// Seeds every id; the same seed and calls give the same ids and event log.
    pub fn seed(mut self, seed: u64) -> Self {
        self.engine.seed = seed;
        self
    }

    /// The plan whose limits and DLQ retention apply (pay-as-you-go by default).
    pub fn plan(mut self, plan: Plan) -> Self {
        self.engine.plan = plan;
        self
    }

    /// A DLQ retention that overrides the plan's.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.engine.retention_ms = Some(retention.as_millis() as u64);
        self
    }

    /// How long a deduplication id blocks a new publish (10 minutes by default).
    pub fn dedup_window(mut self, window: Duration) -> Self {
        self.engine.dedup_window_ms = window.as_millis() as u64;
        self
    }

    /// The clock's start, unix ms. By default the wall clock at start-up, so signatures
    /// verify with receivers that check `exp` against their own clock; set it for runs
    /// that must reproduce byte for byte.
    pub fn start_at_ms(mut self, unix_ms: u64) -> Self {
        self.start_ms = Some(unix_ms);
        self
    }

    /// How the clock moves (frozen by default when embedded).
    pub fn clock_mode(mut self, mode: ClockMode) -> Self {
        self.mode = mode;
        self
    }

    /// The token clients must send (Upstash's development-server token by default).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The signing keys (Upstash's development-server keys by default).
    pub fn signing_keys(mut self, current: impl Into<String>, next: impl Into<String>) -> Self {
        self.engine.signing_keys = SigningKeys {
            current: current.into(),
            next: next.into(),
        };
        self
    }

    /// Sends deliveries for `host` to `address` over plain HTTP; the signed URL stays the
    /// published one.
    pub fn map_host(mut self, host: impl Into<String>, address: impl Into<String>) -> Self {
        self.delivery.map_hosts.push(HostMapping {
            host: host.into(),
            addr: address.into(),
        });
        self
    }

    /// Trusts the CA certificates in this PEM for https deliveries.
    pub fn trust_root_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.delivery.extra_root_certs_pem.push(pem.into());
        self
    }

    /// The address to listen on (127.0.0.1 on a random port by default).
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.address = address;
        self
    }

    /// How many deliveries of one instant may run at once (64 by default).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Which clock signatures' `iat` and `exp` follow (receiver-safe by default).
    pub fn signature_time(mut self, time: SignatureTime) -> Self {
        self.engine.signature_time = time;
        self
    }

    /// Retries when a publish gives no `Upstash-Retries` (3 by default).
    pub fn default_retries(mut self, retries: u32) -> Self {
        self.engine.default_retries = retries;
        self
    }

    /// How `/v2/logs` spells the cancelled state: `CANCELED` (the default, which the
    /// official SDKs expect) or `CANCELLED` (as the API reference writes it).
    pub fn cancelled_spelling(mut self, spelling: CancelledSpelling) -> Self {
        self.engine.cancelled_spelling = spelling;
        self
    }

    /// Refuses publishes with 429 and `RateLimit-*` headers once `limit` messages were
    /// published in a UTC day of the mock's clock (no limit by default).
    pub fn daily_message_limit(mut self, limit: u64) -> Self {
        self.engine.rate_limits.daily_messages = Some(limit);
        self
    }

    /// Refuses calls other than publish, enqueue and batch with 429 and
    /// `Burst-RateLimit-*` headers beyond `limit` per second of the mock's clock (no
    /// limit by default).
    pub fn burst_limit(mut self, limit: u64) -> Self {
        self.engine.rate_limits.burst_per_second = Some(limit);
        self
    }

    /// Binds, starts the server and the driver, and returns the running mock.
    ///
    /// # Errors
    /// [`StartError`] when the address cannot be bound or a CA certificate is bad.
    pub async fn start(self) -> Result<MockServer, StartError> {
        let deliverer = Deliverer::new(self.delivery)?;
        let listener =
            TcpListener::bind(self.address)
                .await
                .map_err(|source| StartError::Bind {
                    address: self.address,
                    source,
                })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: self.address,
            source,
        })?;
        let shared = Shared::new(SharedParts {
            engine_config: self.engine,
            start_ms: self.start_ms,
            mode: self.mode,
            deliverer,
            token: self.token,
            base_url: format!("http://{address}"),
            concurrency: self.concurrency,
        });
        let (shutdown, stop) = watch::channel(());
        let server = tokio::spawn(http::accept_loop(
            listener,
            Arc::clone(&shared),
            stop.clone(),
        ));
        let driver = tokio::spawn(shared::drive(Arc::clone(&shared), stop));
        tracing::info!(%address, "qstash mock listening");

        Ok(MockServer {
            shared,
            address,
            shutdown,
            tasks: Mutex::new(vec![server, driver]),
            expectations: Mutex::new(Vec::new()),
        })
    }
}

/// A running QStash mock: its own port, clock, state and sinks.
///
/// Dropping it stops the server and checks the expectations set with
/// [`SinkBuilder::expect_requests`] and friends (quietly if the test already panics).
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: watch::Sender<()>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    expectations: Mutex<Vec<Expectation>>,
}

impl MockServer {
    /// Starts a mock with the default settings: frozen clock, random port, seed 0.
    ///
    /// # Panics
    /// When no local port can be bound; use [`MockServer::builder`] to handle that.
    pub async fn start() -> MockServer {
        match MockServer::builder().start().await {
            Ok(server) => server,
            Err(error) => panic!("the QStash mock could not start: {error}"),
        }
    }

    /// Settings for a mock.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// The base URL, for `QSTASH_URL`.
    pub fn uri(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the mock listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The token, for `QSTASH_TOKEN`.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The signing keys in force (they change on rotation).
    pub fn signing_keys(&self) -> SigningKeys {
        self.shared.engine().signing_keys().clone()
    }

    /// The clock's reading, unix ms.
    pub fn now_ms(&self) -> u64 {
        self.shared.clock.now_ms()
    }

    /// Switches the clock's mode.
    pub fn set_clock_mode(&self, mode: ClockMode) {
        self.shared.clock.set_mode(mode);
        self.shared.wake.notify_one();
    }

    /// Moves the clock forward, running all work due on the way, and reports it. Returns
    /// once every delivery has been made and every outcome applied.
    pub async fn advance(&self, by: Duration) -> AdvanceReport {
        self.shared.advance_by(by.as_millis() as u64).await
    }

    /// Moves the clock to `unix_ms`, running all work due on the way.
    ///
    /// # Errors
    /// [`BackwardsError`] when `unix_ms` is in the past.
    pub async fn advance_to(&self, unix_ms: u64) -> Result<AdvanceReport, BackwardsError> {
        self.shared.advance_to(unix_ms).await
    }

    /// Jumps to the next scheduled work and runs what is due then.
    pub async fn next(&self) -> AdvanceReport {
        self.shared.next().await
    }

    /// Runs work until nothing is scheduled or `max_steps` batches ran.
    pub async fn run_until_idle(&self, max_steps: u32) -> AdvanceReport {
        self.shared.run_until_idle(max_steps).await
    }

    /// Waits until the work due now has run, without moving the clock.
    pub async fn settle(&self) -> AdvanceReport {
        self.shared.settle().await
    }

    /// Starts a sink at `/__sinks/{name}`.
    pub fn sink(&self, name: impl Into<String>) -> SinkBuilder<'_> {
        SinkBuilder::new(self, name.into())
    }

    /// The URL of the sink `name`.
    pub fn sink_url(&self, name: &str) -> String {
        self.shared.sink_url(name)
    }

    /// What the sink `name` received, in arrival order (empty for an unknown sink).
    pub fn sink_requests(&self, name: &str) -> Vec<ReceivedRequest> {
        self.shared
            .sinks()
            .get(name)
            .map(|sink| sink.received.clone())
            .unwrap_or_default()
    }

    /// Every DLQ entry, oldest first.
    pub fn dlq(&self) -> Vec<DlqEntry> {
        self.shared.engine().dlq_entries().cloned().collect()
    }

    /// The story of one message.
    pub fn timeline(&self, message_id: &str) -> Option<Timeline> {
        self.shared.engine().timeline(message_id)
    }

    /// The whole event log.
    pub fn events(&self) -> Vec<Event> {
        self.shared.engine().events().cloned().collect()
    }

    /// Reads the engine's state.
    pub fn with_engine<R>(&self, read: impl FnOnce(&Engine) -> R) -> R {
        read(&self.shared.engine())
    }

    /// Starts afresh with new settings; what `options` leaves out stays as at launch.
    pub async fn reset_with(&self, options: &ResetOptions) {
        self.shared.reset(options).await;
        lock(&self.expectations).clear();
    }

    /// Forgets all messages, DLQ entries, events and sinks; keys and clock as at start.
    pub async fn reset(&self) {
        self.shared.reset(&ResetOptions::default()).await;
        lock(&self.expectations).clear();
    }

    /// Checks every expectation now.
    ///
    /// # Panics
    /// When an expectation is not met, with what the sink received.
    pub fn verify(&self) {
        let failures = self.failed_expectations();
        if !failures.is_empty() {
            panic!("QStash mock expectations not met:\n{}", failures.join("\n"));
        }
    }

    /// Stops the server, letting open requests finish (up to five seconds).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.tasks));
        for task in tasks {
            let _ = task.await;
        }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    pub(crate) fn add_expectation(&self, expectation: Expectation) {
        lock(&self.expectations).push(expectation);
    }

    fn failed_expectations(&self) -> Vec<String> {
        let expectations = lock(&self.expectations);
        expectations
            .iter()
            .filter_map(|expectation| expectation.check(&self.sink_requests(&expectation.sink)))
            .collect()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(());
        if std::thread::panicking() {
            return;
        }
        let failures = self.failed_expectations();
        if !failures.is_empty() {
            panic!("QStash mock expectations not met:\n{}", failures.join("\n"));
        }
    }
}
