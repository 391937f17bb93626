//! Where the time goes when a goal is missed: a callgrind run of a reduced version of
//! the measurement, summarised as its most expensive functions, and, where `perf` can
//! sample the CPU clock, a native sampling profile of the same run.
//!
//! Callgrind counts user-space instructions (`Ir`) and runs threads one at a time, so
//! kernel time (loopback TCP) is not in its figures and waiting is not either. It also
//! hides CPU extensions such as SHA-NI, so hashing looks dearer under it than natively.
//! The `perf` samples cover the kernel and use the real CPU; together they show where
//! the time goes.

use super::progress;
use super::report::Goal;
use std::path::Path;
use std::process::{Command, Stdio};

/// Functions listed per view.
const TOP: usize = 15;

/// A measurement shrunk to a size callgrind finishes in a minute or two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reduced {
    /// The `bench-child` part.
    pub(crate) part: &'static str,
    /// Its flags.
    pub(crate) flags: Vec<(&'static str, String)>,
}

impl Reduced {
    fn arguments(&self) -> Vec<String> {
        let mut arguments = vec!["bench-child".to_owned(), self.part.to_owned()];
        for (name, value) in &self.flags {
            arguments.push(format!("--{name}"));
            arguments.push(value.clone());
        }
        arguments
    }
}

/// One function's share of the instructions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HotSpot {
    /// Percent of all instructions of the run.
    pub(crate) percent: f64,
    /// The function, without its file and binary.
    pub(crate) function: String,
}

/// The summary of one callgrind run.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    /// The goals it explains.
    pub(crate) goals: Vec<String>,
    /// The command line profiled, from the workspace root.
    pub(crate) command: String,
    /// Instructions executed in all.
    pub(crate) instructions: u64,
    /// The functions with the most instructions of their own.
    pub(crate) exclusive: Vec<HotSpot>,
    /// The mock's functions with the most instructions including their callees.
    pub(crate) mock_inclusive: Vec<HotSpot>,
    /// Native CPU-clock samples, when `perf` could take them.
    pub(crate) native: Option<NativeProfile>,
}

/// A `perf record -e cpu-clock` profile of the same reduced run.
#[derive(Debug, Clone)]
pub(crate) struct NativeProfile {
    /// The command line sampled.
    pub(crate) command: String,
    /// Shares of the samples by binary: the kernel, libc, the program.
    pub(crate) by_object: Vec<HotSpot>,
    /// The functions with the most samples of their own.
    pub(crate) exclusive: Vec<HotSpot>,
}

/// Profiles the reduced run of every missed goal, once per distinct run. Skips all
/// of it, with a note, when valgrind is not installed.
///
/// # Errors
/// When valgrind is installed but a profiled run fails.
pub(crate) fn missed_goals(xtask: &Path, goals: &[Goal]) -> anyhow::Result<Vec<Profile>> {
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        progress("valgrind is not installed; missed goals are reported without a profile");
        return Ok(Vec::new());
    }
    let mut profiles: Vec<(Reduced, Profile)> = Vec::new();
    for goal in goals.iter().filter(|goal| goal.missed()) {
        let Some(reduced) = &goal.reduced else {
            continue;
        };
        if let Some((_, profile)) = profiles.iter_mut().find(|(run, _)| run == reduced) {
            profile.goals.push(goal.name.clone());
            continue;
        }
        progress(&format!(
            "profiling `{}` with callgrind for: {}",
            reduced.part, goal.name
        ));
        let mut profile = callgrind(xtask, reduced)?;
        profile.goals.push(goal.name.clone());
        profiles.push((reduced.clone(), profile));
    }
    Ok(profiles.into_iter().map(|(_, profile)| profile).collect())
}

fn callgrind(xtask: &Path, reduced: &Reduced) -> anyhow::Result<Profile> {
    let out = std::env::temp_dir().join(format!(
        "xtask-bench-{}-{}.callgrind",
        std::process::id(),
        reduced.part
    ));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(xtask)
        .args(reduced.arguments())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(
        status.success(),
        "callgrind of `{}` failed with {status}",
        reduced.part
    );

    let exclusive = annotate(&out, &["--auto=no"])?;
    let inclusive = annotate(&out, &["--auto=no", "--inclusive=yes"])?;
    let _ = std::fs::remove_file(&out);

    // Inlined code shows up once per source file; its own costs add up, while each
    // inclusive entry already counts the callees, so the largest one stands for all.
    let mock_inclusive = merge(inclusive.spots, f64::max)
        .into_iter()
        .filter(|spot| spot.function.contains("qstash_mock::"))
        .take(TOP)
        .collect();
    Ok(Profile {
        goals: Vec::new(),
        command: format!(
            "valgrind --tool=callgrind target/release/xtask {}",
            reduced.arguments().join(" ")
        ),
        instructions: exclusive.total,
        exclusive: merge(exclusive.spots, |a, b| a + b)
            .into_iter()
            .take(TOP)
            .collect(),
        mock_inclusive,
        native: sample(xtask, reduced),
    })
}

/// Combines the entries of one function with `combine` and sorts by share, largest first.
fn merge(spots: Vec<HotSpot>, combine: impl Fn(f64, f64) -> f64) -> Vec<HotSpot> {
    let mut merged: Vec<HotSpot> = Vec::new();
    for spot in spots {
        match merged
            .iter_mut()
            .find(|seen| seen.function == spot.function)
        {
            Some(seen) => seen.percent = combine(seen.percent, spot.percent),
            None => merged.push(spot),
        }
    }
    merged.sort_by(|a, b| b.percent.total_cmp(&a.percent));
    merged
}

/// Samples the reduced run with `perf record -e cpu-clock`; `None` when perf is missing
/// or not allowed to sample.
fn sample(xtask: &Path, reduced: &Reduced) -> Option<NativeProfile> {
    let data = std::env::temp_dir().join(format!(
        "xtask-bench-{}-{}.perf",
        std::process::id(),
        reduced.part
    ));
    let status = Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-F", "2000", "-o"])
        .arg(&data)
        .arg("--")
        .arg(xtask)
        .args(reduced.arguments())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let report = |sort: &str| -> Option<Vec<HotSpot>> {
        let output = Command::new("perf")
            .args(["report", "--stdio", "--no-children", "--sort", sort, "-i"])
            .arg(&data)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        Some(parse_perf_report(&String::from_utf8_lossy(&output.stdout)))
    };
    let profile = if status.success() {
        report("dso").zip(report("dso,symbol"))
    } else {
        None
    };
    let _ = std::fs::remove_file(&data);
    let (by_object, exclusive) = profile?;
    Some(NativeProfile {
        command: format!(
            "perf record -e cpu-clock -F 2000 -- target/release/xtask {}",
            reduced.arguments().join(" ")
        ),
        by_object: by_object.into_iter().take(6).collect(),
        exclusive: exclusive.into_iter().take(TOP).collect(),
    })
}

/// Reads the `percent  object  [k] symbol` lines of `perf report --stdio`.
fn parse_perf_report(text: &str) -> Vec<HotSpot> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (percent, rest) = line.trim_start().split_once('%')?;
            let percent = percent.parse::<f64>().ok()?;
            // Columns perf has nothing for (such as a source line) print as `-`.
            let fields: Vec<&str> = rest.split_whitespace().filter(|f| *f != "-").collect();
            let function = match fields.as_slice() {
                [object] => (*object).to_owned(),
                [object, _kind, symbol @ ..] => format!("{} ({object})", symbol.join(" ")),
                _ => return None,
            };
            Some(HotSpot { percent, function })
        })
        .collect()
}

/// The parsed output of `callgrind_annotate`.
#[derive(Debug, Default)]
struct Annotation {
    total: u64,
    spots: Vec<HotSpot>,
}

fn annotate(file: &Path, options: &[&str]) -> anyhow::Result<Annotation> {
    let output = Command::new("callgrind_annotate")
        .args(options)
        .arg(file)
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "callgrind_annotate failed with {}",
        output.status
    );
    Ok(parse_annotation(&String::from_utf8_lossy(&output.stdout)))
}

/// Reads the `Ir (percent)  file:function [binary]` lines.
fn parse_annotation(text: &str) -> Annotation {
    let mut annotation = Annotation::default();
    for line in text.lines() {
        let Some((count, rest)) = line.trim_start().split_once(" (") else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        let Some((percent, name)) = rest.split_once("%)") else {
            continue;
        };
        let Ok(percent) = percent.trim().parse::<f64>() else {
            continue;
        };
        let name = name.trim();
        if name.starts_with("=>") {
            continue;
        }
        if name == "PROGRAM TOTALS" {
            annotation.total = count;
            continue;
        }
        annotation.spots.push(HotSpot {
            percent,
            function: function_name(name),
        });
    }
    annotation
}

/// `file:function [binary]` without the file and the binary.
fn function_name(entry: &str) -> String {
    let entry = match entry.rfind(" [") {
        Some(at) if entry.ends_with(']') => &entry[..at],
        _ => entry,
    };
    let bytes = entry.as_bytes();
    let separator = (0..bytes.len()).find(|&i| {
        bytes[i] == b':' && bytes.get(i + 1) != Some(&b':') && (i == 0 || bytes[i - 1] != b':')
    });
    match separator {
        Some(at) => entry[at + 1..].to_owned(),
        None => entry.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_of_one_function_are_merged_and_sorted() {
        let spot = |percent, function: &str| HotSpot {
            percent,
            function: function.to_owned(),
        };
        let spots = vec![spot(10.0, "a"), spot(15.0, "b"), spot(7.0, "a")];

        let summed = merge(spots.clone(), |a, b| a + b);
        let largest = merge(spots, f64::max);

        assert_eq!(summed, vec![spot(17.0, "a"), spot(15.0, "b")]);
        assert_eq!(largest, vec![spot(15.0, "b"), spot(10.0, "a")]);
    }

    #[test]
    fn perf_lines_give_the_share_the_symbol_and_the_object() {
        let report = "# Overhead  Shared Object\n\
                      \x20    47.01%  [kernel.kallsyms]\n\
                      \x20     7.18%  xtask  [.] sha2::sha256::x86::digest_blocks  -  -\n";

        let spots = parse_perf_report(report);

        assert_eq!(spots.len(), 2);
        assert_eq!(spots[0].function, "[kernel.kallsyms]");
        assert_eq!(
            spots[1].function,
            "sha2::sha256::x86::digest_blocks (xtask)"
        );
        assert_eq!(spots[1].percent, 7.18);
    }

    const SAMPLE: &str = "\
--------------------------------------------------------------------------------
Ir               
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                file:function
--------------------------------------------------------------------------------
250,000 (25.00%)  /src/engine/events.rs:qstash_mock::engine::events::EventLog::since [/t/xtask]
 50,000 ( 5.00%)  ???:core::ptr::drop_in_place<alloc::string::String> [/t/xtask]
";

    #[test]
    fn annotations_give_the_total_and_each_function_without_file_or_binary() {
        let annotation = parse_annotation(SAMPLE);

        assert_eq!(annotation.total, 1_000_000);
        assert_eq!(
            annotation.spots,
            vec![
                HotSpot {
                    percent: 25.0,
                    function: "qstash_mock::engine::events::EventLog::since".to_owned(),
                },
                HotSpot {
                    percent: 5.0,
                    function: "core::ptr::drop_in_place<alloc::string::String>".to_owned(),
                },
            ]
        );
    }
}
