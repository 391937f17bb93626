//! The `qstash-mock` binary: a QStash emulator for CI in any language.

use clap::{Parser, ValueEnum};
use qstash_mock::rules::parse_human_duration;
use qstash_mock::{CancelledSpelling, ClockMode, MockServer, Plan, SignatureTime};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing_subscriber::EnvFilter;

/// A deterministic Upstash QStash emulator with a controllable clock.
#[derive(Debug, Parser)]
#[command(name = "qstash-mock", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "QSTASH_MOCK_HOST", default_value = "127.0.0.1")]
    host: IpAddr,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "QSTASH_MOCK_PORT", default_value_t = 8080)]
    port: u16,

    /// Seed for every id; the same seed and calls give the same ids and event log.
    #[arg(long, env = "QSTASH_MOCK_SEED", default_value_t = 0)]
    seed: u64,

    /// Plan whose limits and DLQ retention apply: free, payg, fixed-1m or fixed-10m.
    #[arg(long, env = "QSTASH_MOCK_PLAN", default_value = "payg", value_parser = parse_plan)]
    plan: Plan,

    /// DLQ retention overriding the plan's, e.g. `2d` or `12h`.
    #[arg(long, env = "QSTASH_MOCK_RETENTION", value_parser = parse_duration)]
    retention: Option<Duration>,

    /// How long a deduplication id blocks a new publish.
    #[arg(long, env = "QSTASH_MOCK_DEDUP_WINDOW", default_value = "10m", value_parser = parse_duration)]
    dedup_window: Duration,

    /// Clock mode: `running` follows the wall clock (times --speed); `frozen` moves only
    /// through the control plane.
    #[arg(long, env = "QSTASH_MOCK_CLOCK", value_enum, default_value_t = Mode::Running)]
    clock: Mode,

    /// Virtual seconds per real second in running mode.
    #[arg(long, env = "QSTASH_MOCK_SPEED", default_value_t = 1.0)]
    speed: f64,

    /// Clock start, unix ms or RFC 3339; the wall clock at start-up by default.
    #[arg(long, env = "QSTASH_MOCK_START", value_parser = parse_start)]
    start: Option<u64>,

    /// Token clients must send; Upstash's development-server token by default.
    #[arg(long, env = "QSTASH_MOCK_TOKEN", default_value = qstash_mock::DEV_TOKEN, hide_default_value = true)]
    token: String,

    /// Current signing key; Upstash's development-server key by default.
    #[arg(long, env = "QSTASH_MOCK_CURRENT_SIGNING_KEY", default_value = qstash_mock::DEV_CURRENT_SIGNING_KEY, hide_default_value = true)]
    current_signing_key: String,

    /// Next signing key; Upstash's development-server key by default.
    #[arg(long, env = "QSTASH_MOCK_NEXT_SIGNING_KEY", default_value = qstash_mock::DEV_NEXT_SIGNING_KEY, hide_default_value = true)]
    next_signing_key: String,

    /// Deliver to HOST at ADDR over plain HTTP, e.g. `api.example.com=127.0.0.1:3000`.
    /// Repeatable; the environment variable takes a comma-separated list.
    #[arg(long = "map-host", env = "QSTASH_MOCK_MAP_HOST", value_delimiter = ',', value_parser = parse_mapping)]
    map_hosts: Vec<(String, String)>,

    /// Which clock signatures' `iat`/`exp` follow: `receiver-safe` keeps tokens valid for
    /// receivers checking against the wall clock however far the mock's clock moved;
    /// `virtual` takes them from the mock's clock alone.
    #[arg(long, env = "QSTASH_MOCK_SIGNATURE_TIME", default_value = "receiver-safe", value_parser = parse_signature_time)]
    signature_time: SignatureTime,

    /// How `/v2/logs` spells the cancelled state: CANCELED (what the official SDKs
    /// expect) or CANCELLED (the docs' spelling).
    #[arg(long, env = "QSTASH_MOCK_CANCELLED_SPELLING", default_value = "CANCELED", value_parser = parse_spelling)]
    cancelled_spelling: CancelledSpelling,

    /// Messages a day before publishing answers 429 with `RateLimit-*` headers; off when
    /// absent.
    #[arg(long, env = "QSTASH_MOCK_DAILY_MESSAGE_LIMIT")]
    daily_message_limit: Option<u64>,

    /// Requests a second to the non-publishing routes before they answer 429 with
    /// `Burst-RateLimit-*` headers; off when absent.
    #[arg(long, env = "QSTASH_MOCK_BURST_LIMIT")]
    burst_limit: Option<u64>,

    /// PEM file of CA certificates to trust for https deliveries. Repeatable.
    #[arg(long = "ca-cert", env = "QSTASH_MOCK_CA_CERT", value_delimiter = ',')]
    ca_certs: Vec<PathBuf>,

    /// How many deliveries of one instant may run at once.
    #[arg(long, env = "QSTASH_MOCK_CONCURRENCY", default_value_t = 64)]
    concurrency: usize,

    /// Log format; the level follows RUST_LOG (default `info`).
    #[arg(long, env = "QSTASH_MOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Running,
    Frozen,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn parse_plan(value: &str) -> Result<Plan, String> {
    value.parse()
}

fn parse_spelling(value: &str) -> Result<CancelledSpelling, String> {
    value
        .parse::<CancelledSpelling>()
        .map_err(|e| e.to_string())
}

fn parse_signature_time(value: &str) -> Result<SignatureTime, String> {
    value.parse()
}

fn parse_duration(value: &str) -> Result<Duration, String> {
    parse_human_duration(value)
        .map(Duration::from_millis)
        .map_err(|e| e.to_string())
}

fn parse_start(value: &str) -> Result<u64, String> {
    if let Ok(ms) = value.parse::<u64>() {
        return Ok(ms);
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| format!("`{value}` is neither unix ms nor an RFC 3339 time"))
}

fn parse_mapping(value: &str) -> Result<(String, String), String> {
    let mapping: qstash_mock::delivery::HostMapping = value.parse().map_err(|e| format!("{e}"))?;
    Ok((mapping.host, mapping.addr))
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(args.log_format);
    if !(args.speed.is_finite() && args.speed > 0.0) {
        anyhow::bail!("--speed must be a positive number, got {}", args.speed);
    }

    let mode = match args.clock {
        Mode::Running => ClockMode::Running { speed: args.speed },
        Mode::Frozen => ClockMode::Frozen,
    };
    let mut builder = MockServer::builder()
        .listen(SocketAddr::new(args.host, args.port))
        .seed(args.seed)
        .plan(args.plan)
        .dedup_window(args.dedup_window)
        .clock_mode(mode)
        .token(args.token)
        .signing_keys(args.current_signing_key, args.next_signing_key)
        .concurrency(args.concurrency)
        .signature_time(args.signature_time)
        .cancelled_spelling(args.cancelled_spelling);
    if let Some(limit) = args.daily_message_limit {
        builder = builder.daily_message_limit(limit);
    }
    if let Some(limit) = args.burst_limit {
        builder = builder.burst_limit(limit);
    }
    if let Some(retention) = args.retention {
        builder = builder.retention(retention);
    }
    if let Some(start) = args.start {
        builder = builder.start_at_ms(start);
    }
    for (host, address) in args.map_hosts {
        builder = builder.map_host(host, address);
    }
    for path in &args.ca_certs {
        let pem = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("could not read --ca-cert {}: {e}", path.display()))?;
        builder = builder.trust_root_pem(pem);
    }
    let signals = Signals::listen()?;
    let mock = builder.start().await?;

    print_environment(&mock, mode, args.plan, args.seed);
    signals.wait().await;
    tracing::info!("shutting down");
    mock.shutdown().await;
    Ok(())
}

fn print_environment(mock: &MockServer, mode: ClockMode, plan: Plan, seed: u64) {
    use std::io::Write as _;

    let keys = mock.signing_keys();
    let url = mock.uri();
    let text = format!(
        "qstash-mock is running on {url} (clock {}, plan {plan}, seed {seed})\n\n\
         Set these in your app's environment:\n  \
         QSTASH_URL={url}\n  \
         QSTASH_TOKEN={}\n  \
         QSTASH_CURRENT_SIGNING_KEY={}\n  \
         QSTASH_NEXT_SIGNING_KEY={}\n\n\
         Control plane: {url}/__mock/clock  (see the README for every route)\n\
         DLQ console:   {url}/__console  (sign in with QSTASH_TOKEN)\n",
        mode.name(),
        mock.token(),
        keys.current,
        keys.next,
    );
    // A closed stdout (a supervisor that stopped reading) must not stop the mock.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Ctrl-C and SIGTERM, listened for from the moment this is built.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening. Done before the environment is printed, so a supervisor that
    /// stops the mock as soon as it is ready still gets a clean shutdown.
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
