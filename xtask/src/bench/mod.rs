//! `cargo xtask bench`: how fast the mock is, against baselines measured in the same run.
//!
//! The command builds `xtask` and `qstash-mock` in release mode and runs each
//! measurement in a fresh release child process (`xtask bench-child <part>`), so the
//! figures come from optimised code and each peak memory reading belongs to one run.
//! The parent collects the children's JSON, prints a table and writes `BENCHMARKS.md`.
//!
//! - `load`: the keep-alive HTTP/1.1 load generator.
//! - `bare`: the bare hyper server used as baseline and as destination.
//! - `publish`, `delivery`, `simulation`, `startup`: the four measurements.
//! - `profile`: callgrind runs for the goals a run missed.
//! - `report`: goals, the printed table and the Markdown file.
//! - `system`: memory readings and the machine's description.

mod bare;
mod delivery;
mod load;
mod profile;
mod publish;
mod report;
mod simulation;
mod startup;
mod system;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The mock's clock start in every measurement: 2030-01-01T00:00:00Z.
pub(crate) const START_MS: u64 = 1_893_456_000_000;

/// Body size of the delivery and simulation messages.
const BODY_BYTES: usize = 1024;

/// Which servers a measurement runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sides {
    /// The mock and its baseline.
    Both,
    /// Only the mock, for profiling.
    MockOnly,
}

/// The sizes of one bench run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Sizes {
    publish_requests: u64,
    publish_connections: usize,
    publish_warmup: u64,
    delivery_messages: u64,
    concurrency: usize,
    simulation_messages: Vec<u64>,
    startup_runs: usize,
    /// A simulation size is skipped when the previous one predicts more seconds.
    simulation_budget_seconds: f64,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            publish_requests: 100_000,
            publish_connections: 32,
            publish_warmup: 5_000,
            delivery_messages: 50_000,
            concurrency: 64,
            simulation_messages: vec![10_000, 100_000, 1_000_000],
            startup_runs: 20,
            simulation_budget_seconds: 400.0,
        }
    }

    fn quick() -> Sizes {
        Sizes {
            publish_requests: 2_000,
            publish_connections: 8,
            publish_warmup: 200,
            delivery_messages: 1_000,
            concurrency: 64,
            simulation_messages: vec![1_000, 10_000],
            startup_runs: 3,
            simulation_budget_seconds: 20.0,
        }
    }
}

/// How the command was asked to run.
#[derive(Debug)]
struct Options {
    quick: bool,
    out: Option<PathBuf>,
    profile: bool,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut options = Options {
            quick: false,
            out: None,
            profile: true,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--no-profile" => options.profile = false,
                "--out" => {
                    let path = args.next().context("--out needs a path")?;
                    options.out = Some(PathBuf::from(path));
                }
                other => anyhow::bail!(
                    "unknown bench option `{other}`; expected --quick, --out PATH or --no-profile"
                ),
            }
        }
        Ok(options)
    }

    /// Where the Markdown goes: `--out`, else `BENCHMARKS.md` for a full run only.
    fn destination(&self) -> Option<PathBuf> {
        match (&self.out, self.quick) {
            (Some(path), _) => Some(path.clone()),
            (None, true) => None,
            (None, false) => Some(workspace_root().join("BENCHMARKS.md")),
        }
    }
}

/// The release binaries the measurements run.
#[derive(Debug)]
pub(crate) struct Binaries {
    xtask: PathBuf,
    mock: PathBuf,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Results {
    publish: publish::PublishFigures,
    delivery: delivery::DeliveryFigures,
    simulations: Vec<simulation::SimulationFigures>,
    skipped: Vec<Skipped>,
    startup: startup::StartupFigures,
}

/// A simulation size that did not run, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Skipped {
    stack: simulation::Stack,
    messages: u64,
    reason: String,
}

/// `cargo xtask bench [--quick] [--out PATH] [--no-profile]`.
pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    let sizes = if options.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let binaries = build_release()?;
    let machine = system::Machine::describe();
    let started = Instant::now();

    let results = measure_all(&binaries, &sizes)?;
    let goals = report::goals(&results);
    let profiles = if options.profile && !options.quick && goals.iter().any(report::Goal::missed) {
        profile::missed_goals(&binaries.xtask, &goals)?
    } else {
        Vec::new()
    };

    let document = report::Document {
        machine,
        quick: options.quick,
        sizes,
        results,
        goals,
        profiles,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    report::print(&document);
    if let Some(path) = options.destination() {
        std::fs::write(&path, report::markdown(&document))
            .with_context(|| format!("could not write {}", path.display()))?;
        progress(&format!("wrote {}", path.display()));
    }
    Ok(())
}

/// `xtask bench-child <part> [--name value]...`: one measurement, its figures as one
/// line of JSON on stdout. Not meant to be typed by hand.
pub(crate) fn run_child(args: &[String]) -> anyhow::Result<()> {
    let (part, rest) = args.split_first().context("bench-child needs a part")?;
    let flags = ChildFlags(rest);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let figures = match part.as_str() {
        "publish" => {
            let load = load::Load {
                connections: flags.number("connections")?,
                requests: flags.number("requests")?,
                time_limit: Duration::from_secs(600),
            };
            let warmup = flags.number("warmup")?;
            serde_json::to_value(runtime.block_on(publish::measure(
                load,
                warmup,
                flags.sides()?,
            ))?)?
        }
        "delivery" => {
            let measured = delivery::measure(
                flags.number("messages")?,
                flags.number("concurrency")?,
                BODY_BYTES,
                flags.sides()?,
            );
            serde_json::to_value(runtime.block_on(measured)?)?
        }
        "sim-engine" => {
            serde_json::to_value(simulation::engine(flags.number("messages")?, BODY_BYTES)?)?
        }
        "sim-full" => {
            let measured = simulation::full(
                flags.number("messages")?,
                BODY_BYTES,
                flags.number("concurrency")?,
            );
            serde_json::to_value(runtime.block_on(measured)?)?
        }
        "bare-server" => {
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], flags.number("port")?));
            return runtime.block_on(async {
                let server = bare::BareServer::start(address, hyper::StatusCode::OK, "{}").await?;
                server.wait().await;
                Ok(())
            });
        }
        other => anyhow::bail!("unknown bench part `{other}`"),
    };
    emit(&figures);
    Ok(())
}

#[allow(clippy::print_stdout)] // reason: stdout is the channel back to the parent process
fn emit(figures: &serde_json::Value) {
    println!("{figures}");
}

/// Progress for the person at the terminal, on stderr.
#[allow(clippy::print_stderr)] // reason: progress lines for the person at the terminal
fn progress(line: &str) {
    eprintln!("bench: {line}");
}

/// The `--name value` pairs of a child's command line.
struct ChildFlags<'a>(&'a [String]);

impl ChildFlags<'_> {
    fn value(&self, name: &str) -> Option<&str> {
        let flag = format!("--{name}");
        let at = self.0.iter().position(|arg| *arg == flag)?;
        self.0.get(at + 1).map(String::as_str)
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> anyhow::Result<T> {
        let value = self
            .value(name)
            .with_context(|| format!("--{name} is missing"))?;
        value
            .parse()
            .map_err(|_| anyhow::anyhow!("--{name} must be a number, got `{value}`"))
    }

    fn sides(&self) -> anyhow::Result<Sides> {
        match self.value("sides") {
            None | Some("both") => Ok(Sides::Both),
            Some("mock") => Ok(Sides::MockOnly),
            Some(other) => anyhow::bail!("--sides must be `both` or `mock`, got `{other}`"),
        }
    }
}

fn measure_all(binaries: &Binaries, sizes: &Sizes) -> anyhow::Result<Results> {
    progress("publish throughput");
    let publish = child(
        binaries,
        "publish",
        &[
            ("requests", sizes.publish_requests.to_string()),
            ("connections", sizes.publish_connections.to_string()),
            ("warmup", sizes.publish_warmup.to_string()),
        ],
    )?;
    progress("delivery throughput");
    let delivery = child(
        binaries,
        "delivery",
        &[
            ("messages", sizes.delivery_messages.to_string()),
            ("concurrency", sizes.concurrency.to_string()),
        ],
    )?;
    let (simulations, skipped) = measure_simulations(binaries, sizes)?;
    progress("start-up");
    let startup = startup::measure(sizes.startup_runs, &binaries.mock, &binaries.xtask)?;
    Ok(Results {
        publish,
        delivery,
        simulations,
        skipped,
        startup,
    })
}

/// Runs each simulation size on both stacks, skipping a size whose predicted time
/// (linear from the previous size) is over the budget or whose predicted memory is
/// over half the machine's.
fn measure_simulations(
    binaries: &Binaries,
    sizes: &Sizes,
) -> anyhow::Result<(Vec<simulation::SimulationFigures>, Vec<Skipped>)> {
    let memory = system::Machine::describe().memory_gib * 1024.0 * 1024.0 * 1024.0;
    let mut figures = Vec::new();
    let mut skipped = Vec::new();
    for stack in [simulation::Stack::Engine, simulation::Stack::Full] {
        let mut previous: Option<simulation::SimulationFigures> = None;
        for &messages in &sizes.simulation_messages {
            if let Some(last) = &previous {
                let scale = messages as f64 / last.messages as f64;
                let seconds = last.total_seconds * scale;
                let bytes = last.peak_bytes as f64 * scale;
                let reason = if seconds > sizes.simulation_budget_seconds {
                    Some(format!(
                        "predicted {seconds:.0} s from {} messages, over the {:.0} s budget",
                        last.messages, sizes.simulation_budget_seconds
                    ))
                } else if bytes > memory / 2.0 {
                    Some(format!(
                        "predicted peak {:.1} GiB, over half the machine's memory",
                        bytes / 1073741824.0
                    ))
                } else {
                    None
                };
                if let Some(reason) = reason {
                    progress(&format!(
                        "skipping {stack:?} simulation of {messages}: {reason}"
                    ));
                    skipped.push(Skipped {
                        stack,
                        messages,
                        reason,
                    });
                    continue;
                }
            }
            progress(&format!("{stack:?} simulation of {messages} messages"));
            let part = match stack {
                simulation::Stack::Engine => "sim-engine",
                simulation::Stack::Full => "sim-full",
            };
            let measured: simulation::SimulationFigures = child(
                binaries,
                part,
                &[
                    ("messages", messages.to_string()),
                    ("concurrency", sizes.concurrency.to_string()),
                ],
            )?;
            previous = Some(measured.clone());
            figures.push(measured);
        }
    }
    Ok((figures, skipped))
}

/// Runs `xtask bench-child part` with `flags`, and reads its JSON figures.
pub(crate) fn child<T: DeserializeOwned>(
    binaries: &Binaries,
    part: &str,
    flags: &[(&str, String)],
) -> anyhow::Result<T> {
    let mut command = Command::new(&binaries.xtask);
    command.arg("bench-child").arg(part);
    for (name, value) in flags {
        command.arg(format!("--{name}")).arg(value);
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not run {}", binaries.xtask.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "bench-child {part} failed with {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .context("bench-child printed no figures")?;
    serde_json::from_str(line).with_context(|| format!("bench-child {part} printed `{line}`"))
}

/// Builds the release binaries and finds them in the target directory.
fn build_release() -> anyhow::Result<Binaries> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    progress("building xtask and qstash-mock in release mode");
    let status = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "xtask",
            "-p",
            "qstash-mock",
        ])
        .current_dir(workspace_root())
        .status()
        .context("could not run cargo")?;
    anyhow::ensure!(status.success(), "the release build failed with {status}");

    let release = target_directory(&cargo)?.join("release");
    Ok(Binaries {
        xtask: release.join(format!("xtask{}", std::env::consts::EXE_SUFFIX)),
        mock: release.join(format!("qstash-mock{}", std::env::consts::EXE_SUFFIX)),
    })
}

fn target_directory(cargo: &std::ffi::OsStr) -> anyhow::Result<PathBuf> {
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .context("could not run cargo metadata")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo metadata failed with {}",
        output.status
    );
    let metadata: Metadata = serde_json::from_slice(&output.stdout)?;
    Ok(metadata.target_directory)
}

#[derive(Deserialize)]
struct Metadata {
    target_directory: PathBuf,
}

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn a_quick_run_writes_no_file_unless_given_a_path() {
        let quick = Options::parse(&strings(&["--quick"])).unwrap();
        let quick_out = Options::parse(&strings(&["--quick", "--out", "/tmp/b.md"])).unwrap();

        assert_eq!(quick.destination(), None);
        assert_eq!(quick_out.destination(), Some(PathBuf::from("/tmp/b.md")));
    }

    #[test]
    fn a_full_run_writes_benchmarks_md_at_the_workspace_root() {
        let full = Options::parse(&[]).unwrap();

        let destination = full.destination().unwrap();

        assert!(destination.ends_with("BENCHMARKS.md"));
        assert!(destination.parent().unwrap().join("Cargo.toml").exists());
    }

    #[test]
    fn unknown_options_are_refused_with_the_choices() {
        let error = Options::parse(&strings(&["--fast"])).unwrap_err();

        assert!(error.to_string().contains("--quick"));
    }

    #[test]
    fn child_flags_name_a_missing_or_malformed_number() {
        let args = strings(&["--messages", "ten"]);
        let flags = ChildFlags(&args);

        let malformed = flags.number::<u64>("messages").unwrap_err().to_string();
        let missing = flags.number::<u64>("port").unwrap_err().to_string();

        assert!(malformed.contains("--messages must be a number"));
        assert!(missing.contains("--port is missing"));
    }
}
