//! Scenarios: whole retry and DLQ stories, written in TOML, played on the mock's clock
//! and reported step by step.
//!
//! A scenario file names the mock's settings, the sinks messages go to, the steps to play
//! (publish, move the clock, retry or delete from the DLQ, cancel, rotate keys) and the
//! facts expected along the way. `docs/scenarios.md` is the format's reference.
//!
//! - `format`: the file's tables as serde reads them.
//! - [`load`](load()) / [`parse`]: reading and checking a file, errors with line numbers.
//! - `run`: playing a scenario over HTTP against any mock ([`play`]).
//! - `check`: judging expectations against what the mock shows.
//! - `report`: the text and JSON reports.

mod check;
mod client;
mod format;
mod load;
mod model;
mod report;
mod run;

pub use load::{load, parse, LoadError};
pub use model::Scenario;
pub use report::{
    render_json, render_text, CheckResult, EventLine, ScenarioReport, Settings, StepReport,
};
pub use run::{play, Target};

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

/// How reports are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// The command line of `scenarios` and `scenario`.
#[derive(Debug)]
struct Options {
    paths: Vec<String>,
    target: Option<String>,
    token: String,
    format: Format,
}

/// The folder of the built-in library.
pub fn library_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Loads every scenario of the built-in library, by file name.
///
/// Files are named in reports as `xtask/scenarios/NAME.toml`, wherever the command runs.
///
/// # Errors
/// When the folder cannot be read or a file does not load.
pub fn library() -> anyhow::Result<Vec<Scenario>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(library_dir())?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)?;
            let file_name = path.file_name().unwrap_or_default().to_string_lossy();
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let shown = format!("xtask/scenarios/{file_name}");
            Ok(parse(&text, &shown, &stem)?)
        })
        .collect()
}

/// `cargo xtask scenarios [--target URL] [--token TOKEN] [--format text|json]`.
///
/// # Errors
/// On bad arguments, a library file that does not load, or any failed scenario.
pub fn run_library(args: &[String]) -> anyhow::Result<()> {
    let options = parse_options(args)?;
    if let Some(extra) = options.paths.first() {
        anyhow::bail!("`scenarios` takes no path (got `{extra}`); use `scenario PATH`");
    }
    let scenarios = library()?;
    play_and_print(&scenarios, &options)
}

/// `cargo xtask scenario PATH... [--target URL] [--token TOKEN] [--format text|json]`.
///
/// # Errors
/// On bad arguments, a file that does not load, or any failed scenario.
pub fn run_file(args: &[String]) -> anyhow::Result<()> {
    let options = parse_options(args)?;
    if options.paths.is_empty() {
        anyhow::bail!("`scenario` needs the path of a scenario file");
    }
    let scenarios = options
        .paths
        .iter()
        .map(|path| load(Path::new(path)))
        .collect::<Result<Vec<_>, _>>()?;
    play_and_print(&scenarios, &options)
}

fn parse_options(args: &[String]) -> anyhow::Result<Options> {
    let mut options = Options {
        paths: Vec::new(),
        target: None,
        token: qstash_mock::DEV_TOKEN.to_owned(),
        format: Format::Text,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("`{flag}` needs a value"))
        };
        match arg.as_str() {
            "--target" => options.target = Some(value("--target")?),
            "--token" => options.token = value("--token")?,
            "--format" => {
                options.format = match value("--format")?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    other => anyhow::bail!("`--format {other}`: expected text or json"),
                }
            }
            flag if flag.starts_with("--") => anyhow::bail!("unknown option `{flag}`"),
            path => options.paths.push(path.to_owned()),
        }
    }
    Ok(options)
}

fn play_and_print(scenarios: &[Scenario], options: &Options) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let reports = runtime.block_on(play_all(scenarios, options))?;
    let output = match options.format {
        Format::Text => render_text(&reports),
        Format::Json => render_json(&reports),
    };
    std::io::stdout().lock().write_all(output.as_bytes())?;

    let failed = reports.iter().filter(|report| !report.passed()).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} scenarios failed", reports.len());
    }
    Ok(())
}

/// Plays every scenario against the target, or against one embedded mock started for the
/// run. Scenarios run one after another: each resets the mock.
async fn play_all(
    scenarios: &[Scenario],
    options: &Options,
) -> anyhow::Result<Vec<ScenarioReport>> {
    let embedded = match options.target {
        Some(_) => None,
        None => Some(
            qstash_mock::MockServer::builder()
                .token(options.token.clone())
                .start()
                .await?,
        ),
    };
    let target = Target {
        url: match (&options.target, &embedded) {
            (Some(url), _) => url.clone(),
            (None, Some(mock)) => mock.uri(),
            (None, None) => unreachable!("a mock is embedded when no target is given"),
        },
        token: options.token.clone(),
    };

    let progress = Progress::new(scenarios.len());
    let mut reports = Vec::new();
    for (index, scenario) in scenarios.iter().enumerate() {
        progress.show(index, &scenario.name);
        reports.push(play(scenario, &target).await);
    }
    progress.finish();
    if let Some(mock) = embedded {
        mock.shutdown().await;
    }
    Ok(reports)
}

/// A one-line progress indicator on stderr, shown only when stderr is a terminal so that
/// it never mixes into a captured report.
struct Progress {
    total: usize,
    enabled: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Progress {
            total,
            enabled: total > 1 && std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, index: usize, name: &str) {
        if self.enabled {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K[{}/{}] {name}", index + 1, self.total);
            let _ = stderr.flush();
        }
    }

    fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}
