//! Where the time goes when a goal is missed: a callgrind run of a reduced version of
//! the measurement, summarised as its most expensive functions.
//!
//! Callgrind counts user-space instructions (`Ir`) and runs threads one at a time, so
//! kernel time (loopback TCP) is not in these figures and waiting is not either: they
//! show what the CPU executes in the process, which is what code changes can reduce.

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

    let exclusive = annotate(&out, &[])?;
    let inclusive = annotate(&out, &["--inclusive=yes"])?;
    let _ = std::fs::remove_file(&out);

    let relative = Path::new("target/release/xtask");
    Ok(Profile {
        goals: Vec::new(),
        command: format!(
            "valgrind --tool=callgrind {} {}",
            relative.display(),
            reduced.arguments().join(" ")
        ),
        instructions: exclusive.total,
        exclusive: exclusive.spots.into_iter().take(TOP).collect(),
        mock_inclusive: inclusive
            .spots
            .into_iter()
            .filter(|spot| spot.function.contains("qstash_mock::"))
            .take(TOP)
            .collect(),
    })
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
