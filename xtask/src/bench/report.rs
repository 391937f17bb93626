//! The goals a run is held against, the table printed at the end, and `BENCHMARKS.md`.

use super::profile::{HotSpot, Profile, Reduced};
use super::simulation::{SimulationFigures, Stack};
use super::system::Machine;
use super::{Results, Sizes};
use std::fmt::Write as _;

/// The simulation size the five-second goal is about.
const GOAL_MESSAGES: u64 = 100_000;

/// Attempts per message with the default three retries.
const ATTEMPTS_PER_MESSAGE: u64 = 4;

/// Growth of time per message, from one size to the next, still counted as linear.
const LINEAR_SLACK: f64 = 1.25;

/// Whether a goal was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Met.
    Met,
    /// Missed.
    Missed,
    /// The run did not measure it (a quick run, or a skipped size).
    NotMeasured,
}

/// One goal and how the run did against it.
#[derive(Debug, Clone)]
pub(crate) struct Goal {
    /// What is measured.
    pub(crate) name: String,
    /// The bar.
    pub(crate) target: String,
    /// The figure, in words.
    pub(crate) measured: String,
    /// Met or not.
    pub(crate) status: Status,
    /// The run to profile when missed.
    pub(crate) reduced: Option<Reduced>,
}

impl Goal {
    /// Whether the run measured the goal and fell short.
    pub(crate) fn missed(&self) -> bool {
        self.status == Status::Missed
    }
}

fn status(met: bool) -> Status {
    if met {
        Status::Met
    } else {
        Status::Missed
    }
}

/// Everything the printed table and the Markdown file show.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) machine: Machine,
    pub(crate) quick: bool,
    pub(crate) sizes: Sizes,
    pub(crate) results: Results,
    pub(crate) goals: Vec<Goal>,
    pub(crate) profiles: Vec<Profile>,
    pub(crate) wall_seconds: f64,
}

/// Holds the results against the goals.
pub(crate) fn goals(results: &Results) -> Vec<Goal> {
    let mut goals = vec![publish_goal(results), delivery_goal(results)];
    for stack in [Stack::Full, Stack::Engine] {
        goals.push(simulation_goal(results, stack));
    }
    for stack in [Stack::Full, Stack::Engine] {
        goals.push(growth_goal(results, stack));
    }
    goals
}

fn publish_goal(results: &Results) -> Goal {
    let publish = &results.publish;
    let (measured, status) = match &publish.bare {
        Some(bare) => {
            let ratio = publish.mock.per_second / bare.per_second;
            (
                format!(
                    "{ratio:.2}× ({} vs {} req/s)",
                    rate(publish.mock.per_second),
                    rate(bare.per_second)
                ),
                status(ratio >= 0.5),
            )
        }
        None => ("no baseline".to_owned(), Status::NotMeasured),
    };
    Goal {
        name: "publish throughput".to_owned(),
        target: "≥ 0.5× the bare hyper server".to_owned(),
        measured,
        status,
        reduced: Some(Reduced {
            part: "publish",
            flags: vec![
                ("requests", "3000".to_owned()),
                ("connections", "8".to_owned()),
                ("warmup", "100".to_owned()),
                ("sides", "mock".to_owned()),
            ],
        }),
    }
}

fn delivery_goal(results: &Results) -> Goal {
    let delivery = &results.delivery;
    let (measured, status) = match &delivery.plain {
        Some(plain) => {
            let ratio = delivery.mock.per_second / plain.per_second;
            (
                format!(
                    "{ratio:.2}× ({} vs {} req/s)",
                    rate(delivery.mock.per_second),
                    rate(plain.per_second)
                ),
                status(ratio >= 0.5),
            )
        }
        None => ("no baseline".to_owned(), Status::NotMeasured),
    };
    Goal {
        name: "delivery throughput".to_owned(),
        target: "≥ 0.5× a plain hyper client".to_owned(),
        measured,
        status,
        reduced: Some(Reduced {
            part: "delivery",
            flags: vec![
                ("messages", "3000".to_owned()),
                ("concurrency", delivery.concurrency.to_string()),
                ("sides", "mock".to_owned()),
            ],
        }),
    }
}

fn simulation_goal(results: &Results, stack: Stack) -> Goal {
    let run = results
        .simulations
        .iter()
        .find(|run| run.stack == stack && run.messages == GOAL_MESSAGES);
    let (measured, status) = match run {
        Some(run) => {
            let floor = match (stack, &results.delivery.plain) {
                (Stack::Full, Some(plain)) => {
                    format!("; HTTP floor {:.1} s", http_floor_seconds(run, plain))
                }
                _ => String::new(),
            };
            let words = format!(
                "{:.2} s ({:.2} s publish + {:.2} s run{floor})",
                run.total_seconds, run.publish_seconds, run.run_seconds
            );
            (words, status(run.total_seconds < 5.0))
        }
        None => ("not run at this size".to_owned(), Status::NotMeasured),
    };
    Goal {
        name: format!("100,000-message simulation, {}", stack_name(stack)),
        target: "< 5 s wall time".to_owned(),
        measured,
        status,
        reduced: Some(reduced_simulation(stack)),
    }
}

fn growth_goal(results: &Results, stack: Stack) -> Goal {
    let runs: Vec<&SimulationFigures> = results
        .simulations
        .iter()
        .filter(|run| run.stack == stack)
        .collect();
    let steps: Vec<(f64, String)> = runs
        .windows(2)
        .map(|pair| {
            let growth = per_message(pair[1]) / per_message(pair[0]);
            let words = format!(
                "{}→{}: time ×{:.1} for messages ×{:.0}",
                count(pair[0].messages),
                count(pair[1].messages),
                pair[1].total_seconds / pair[0].total_seconds,
                pair[1].messages as f64 / pair[0].messages as f64
            );
            (growth, words)
        })
        .collect();
    let (measured, status) = if steps.is_empty() {
        ("fewer than two sizes ran".to_owned(), Status::NotMeasured)
    } else {
        let words: Vec<&str> = steps.iter().map(|(_, words)| words.as_str()).collect();
        let linear = steps.iter().all(|(growth, _)| *growth <= LINEAR_SLACK);
        (words.join("; "), status(linear))
    };
    Goal {
        name: format!("linear growth, {}", stack_name(stack)),
        target: format!("time per message grows ≤ ×{LINEAR_SLACK} per size"),
        measured,
        status,
        reduced: Some(reduced_simulation(stack)),
    }
}

fn reduced_simulation(stack: Stack) -> Reduced {
    match stack {
        Stack::Full => Reduced {
            part: "sim-full",
            flags: vec![
                ("messages", "2000".to_owned()),
                ("concurrency", "64".to_owned()),
            ],
        },
        Stack::Engine => Reduced {
            part: "sim-engine",
            flags: vec![("messages", "20000".to_owned())],
        },
    }
}

fn per_message(run: &SimulationFigures) -> f64 {
    run.total_seconds / run.messages as f64
}

/// Prints the figures and the goals to stdout.
#[allow(clippy::print_stdout)] // reason: the table is the command's output
pub(crate) fn print(document: &Document) {
    let results = &document.results;
    println!();
    println!("{}", publish_table(results));
    println!("{}", delivery_table(results));
    println!("{}", simulation_table(results));
    println!("{}", startup_table(results));
    println!("{}", goal_table(&document.goals));
    for profile in &document.profiles {
        println!("{}", profile_section(profile));
    }
}

/// The whole `BENCHMARKS.md`.
pub(crate) fn markdown(document: &Document) -> String {
    let results = &document.results;
    let machine = &document.machine;
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str(
        "Generated by `cargo xtask bench`; run it again rather than editing this file.\n\
         Every figure below comes from one run, with its baseline measured in the same run\n\
         on the same machine.\n\n",
    );
    let _ = writeln!(
        out,
        "Machine: {} · {} cores · {:.1} GiB memory · Linux {} · load average {} at the\n\
         start. Run took {:.0} s{}.\n",
        machine.cpu,
        machine.cores,
        machine.memory_gib,
        machine.kernel,
        machine.load_average,
        document.wall_seconds,
        if document.quick {
            " (quick mode: small sizes)"
        } else {
            ""
        }
    );
    out.push_str(HOW_TO_RUN);
    out.push_str("\n## Goals\n\n");
    out.push_str(&goal_table(&document.goals));
    out.push_str("\n## 1. Publish throughput and latency\n\n");
    let _ = writeln!(
        out,
        "{} publishes over {} keep-alive HTTP/1.1 connections (after {} uncounted), each\n\
         with `Upstash-Delay: 1d` on a frozen clock so nothing is delivered. The baseline is\n\
         a bare hyper server in the same process answering a fixed JSON body of the same size.\n",
        count(document.sizes.publish_requests),
        document.sizes.publish_connections,
        count(document.sizes.publish_warmup),
    );
    out.push_str(&publish_table(results));
    out.push_str("\n## 2. Delivery throughput\n\n");
    let _ = writeln!(
        out,
        "{} messages with 1 KiB bodies, published to a local bare hyper server answering\n\
         200, all due at one instant; timed is the `advance` that delivers them (concurrency {}).\n\
         The baseline is a hyper client (`hyper_util` legacy client, the mock's own stack\n\
         minus TLS) sending requests of the same shape and size with the same concurrency.\n",
        count(results.delivery.messages),
        results.delivery.concurrency,
    );
    out.push_str(&delivery_table(results));
    out.push_str(SIMULATION_METHOD);
    out.push_str(&simulation_table(results));
    out.push_str("\n## 4. Start-up\n\n");
    out.push_str(
        "Time from spawning the process to its first answered request (`GET /v2/keys`),\n\
         polling the port every 0.2 ms. Runs alternate between the two binaries.\n\n",
    );
    out.push_str(&startup_table(results));
    out.push_str("\n## Where the time goes\n\n");
    if document.profiles.is_empty() {
        out.push_str("No goal was missed, or profiling was off, so no profile was taken.\n");
    } else {
        out.push_str(PROFILE_METHOD);
    }
    for profile in &document.profiles {
        out.push('\n');
        out.push_str(&profile_section(profile));
    }
    out
}

const HOW_TO_RUN: &str = "\
## How to run

- `cargo xtask bench`: builds `xtask` and `qstash-mock` in release mode, runs every
  measurement in a fresh release process (`target/release/xtask bench-child <part>`),
  prints the tables and writes this file. When a goal is missed and valgrind is
  installed, it profiles a reduced run with callgrind (`--no-profile` skips that).
- `cargo xtask bench --quick`: the same measurements at small sizes, printed only
  (`--out PATH` writes the Markdown elsewhere); this checks that they run.

All traffic is HTTP/1.1 over loopback. The mock runs without a log subscriber, so its
per-attempt log lines cost nothing here.
";

const SIMULATION_METHOD: &str = "
## 3. Simulation speed

Messages with distinct 1 KiB bodies go to a destination that always fails, with the
default 3 retries (4 attempts each) on the free plan: through the whole backoff
(12 s, 2m28s, 30m8s) into the DLQ, then past the 3-day retention until every entry
expired (7 events per message). *Full stack*: HTTP publishes (32 connections), then two
`advance` calls over a real HTTP server answering 500. *Engine*: `Engine` driven
directly (`publish`, `start_due`, `finish_attempt`, stepping `next_due_at`) with
synthetic 500 outcomes; the floor. *HTTP floor* is the attempts divided by the plain
client's rate from the delivery measurement: the time real HTTP alone would take on
this machine, whoever sends the requests. Each size runs in its own process. Peak is `VmHWM`;
per DLQ entry is the growth of `VmRSS` from before the first publish to the moment all
messages sat in the DLQ, divided by the messages (message, DLQ entry, events and
allocator slack together).

";

const PROFILE_METHOD: &str = "\
Each missed goal's measurement was rerun at a reduced size under
`valgrind --tool=callgrind`. Figures are shares of user-space instructions (`Ir`):
callgrind does not see kernel time (loopback TCP) and runs one thread at a time, so
these show what the process computes, not what it waits for. *Exclusive* lists
functions by their own instructions; *inclusive* lists the mock's functions by the
instructions they and their callees executed.
";

fn publish_table(results: &Results) -> String {
    let publish = &results.publish;
    let mut out =
        String::from("| Publish | requests | req/s | p50 | p99 |\n|---|---:|---:|---:|---:|\n");
    let mut row = |name: &str, f: &super::load::LoadFigures| {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            count(f.requests),
            rate(f.per_second),
            micros(f.p50_us),
            micros(f.p99_us)
        );
    };
    row("qstash-mock", &publish.mock);
    if let Some(bare) = &publish.bare {
        row("bare hyper server", bare);
        let _ = writeln!(
            out,
            "| mock ÷ bare | | {:.2}× | {:.2}× | {:.2}× |",
            publish.mock.per_second / bare.per_second,
            publish.mock.p50_us / bare.p50_us,
            publish.mock.p99_us / bare.p99_us
        );
    }
    out
}

fn delivery_table(results: &Results) -> String {
    let delivery = &results.delivery;
    let mut out = String::from("| Delivery | requests | seconds | req/s |\n|---|---:|---:|---:|\n");
    let mut row = |name: &str, t: &super::delivery::Throughput| {
        let _ = writeln!(
            out,
            "| {name} | {} | {:.3} | {} |",
            count(t.count),
            t.seconds,
            rate(t.per_second)
        );
    };
    row("qstash-mock (advance)", &delivery.mock);
    if let Some(plain) = &delivery.plain {
        row("plain hyper client", plain);
        let _ = writeln!(
            out,
            "| mock ÷ plain | | | {:.2}× |",
            delivery.mock.per_second / plain.per_second
        );
    }
    out
}

fn simulation_table(results: &Results) -> String {
    let mut out = String::from(
        "| Simulation | messages | publish s | run s | total s | HTTP floor s | events | events/s \
         | peak RSS | RSS per DLQ entry |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for run in &results.simulations {
        let floor = match (run.stack, &results.delivery.plain) {
            (Stack::Full, Some(plain)) => format!("{:.2}", http_floor_seconds(run, plain)),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {floor} | {} | {} | {} | {} |",
            stack_name(run.stack),
            count(run.messages),
            run.publish_seconds,
            run.run_seconds,
            run.total_seconds,
            count(run.events),
            rate(run.events_per_second),
            bytes(run.peak_bytes as f64),
            bytes(run.bytes_per_dlq_entry)
        );
    }
    for skipped in &results.skipped {
        let _ = writeln!(
            out,
            "| {} | {} | skipped: {} | | | | | | | |",
            stack_name(skipped.stack),
            count(skipped.messages),
            skipped.reason
        );
    }
    out
}

/// Seconds a plain hyper client would need for the run's attempts alone, at the rate it
/// reached in the delivery measurement: what real HTTP costs, whoever sends it.
fn http_floor_seconds(run: &SimulationFigures, plain: &super::delivery::Throughput) -> f64 {
    (ATTEMPTS_PER_MESSAGE * run.messages) as f64 / plain.per_second
}

fn startup_table(results: &Results) -> String {
    let startup = &results.startup;
    let mut out = format!(
        "| Start-up ({} runs each) | median | min | max |\n|---|---:|---:|---:|\n",
        startup.runs
    );
    for (name, spread) in [
        ("qstash-mock binary", &startup.mock),
        ("bare hyper server process", &startup.bare),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            spread.median_ms, spread.min_ms, spread.max_ms
        );
    }
    let _ = writeln!(
        out,
        "| mock ÷ bare | {:.2}× | | |",
        startup.mock.median_ms / startup.bare.median_ms
    );
    out
}

fn goal_table(goals: &[Goal]) -> String {
    let mut out = String::from("| Goal | target | measured | |\n|---|---|---|---|\n");
    for goal in goals {
        let mark = match goal.status {
            Status::Met => "met",
            Status::Missed => "**missed**",
            Status::NotMeasured => "not measured",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {mark} |",
            goal.name, goal.target, goal.measured
        );
    }
    out
}

fn profile_section(profile: &Profile) -> String {
    let mut out = format!(
        "### Profile for: {}\n\n`{}` ({} instructions)\n\n",
        profile.goals.join(", "),
        profile.command,
        count(profile.instructions)
    );
    out.push_str(&spot_table("Exclusive", &profile.exclusive));
    out.push('\n');
    out.push_str(&spot_table(
        "Inclusive, qstash_mock only",
        &profile.mock_inclusive,
    ));
    if let Some(native) = &profile.native {
        let _ = write!(out, "\nNative samples: `{}`\n\n", native.command);
        out.push_str(&spot_table(
            "By object (CPU-clock samples)",
            &native.by_object,
        ));
        out.push('\n');
        out.push_str(&spot_table(
            "Exclusive (CPU-clock samples)",
            &native.exclusive,
        ));
    }
    out
}

fn spot_table(title: &str, spots: &[HotSpot]) -> String {
    let mut out = format!("| {title} | % |\n|---|---:|\n");
    for spot in spots {
        let _ = writeln!(
            out,
            "| `{}` | {:.2} |",
            shorten(&spot.function),
            spot.percent
        );
    }
    out
}

/// A function name cut to a readable length, with `|` escaped for Markdown tables.
fn shorten(function: &str) -> String {
    const LIMIT: usize = 110;
    let escaped = function.replace('|', "\\|");
    if escaped.chars().count() <= LIMIT {
        return escaped;
    }
    let cut: String = escaped.chars().take(LIMIT).collect();
    format!("{cut}…")
}

fn stack_name(stack: Stack) -> &'static str {
    match stack {
        Stack::Full => "full stack",
        Stack::Engine => "engine",
    }
}

/// A whole number with thousands separators.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut groups: Vec<&str> = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    groups.join(",")
}

fn rate(per_second: f64) -> String {
    count(per_second.round() as u64)
}

fn micros(us: f64) -> String {
    if us >= 1_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn bytes(n: f64) -> String {
    const KIB: f64 = 1024.0;
    match n {
        n if n >= KIB * KIB * KIB => format!("{:.2} GiB", n / (KIB * KIB * KIB)),
        n if n >= KIB * KIB => format!("{:.1} MiB", n / (KIB * KIB)),
        n if n >= KIB => format!("{:.2} KiB", n / KIB),
        n => format!("{n:.0} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        let formatted = [count(7), count(1_000), count(1_234_567)];

        assert_eq!(formatted, ["7", "1,000", "1,234,567"]);
    }

    #[test]
    fn sizes_and_durations_pick_a_readable_unit() {
        let formatted = [bytes(512.0), bytes(1536.0), micros(250.0), micros(2_500.0)];

        assert_eq!(formatted, ["512 B", "1.50 KiB", "250 µs", "2.50 ms"]);
    }
}
