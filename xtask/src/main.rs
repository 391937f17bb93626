//! Project automation, run as `cargo xtask <command>`.
//!
//! - `scenarios`: plays every scenario of the built-in library and prints the reports.
//! - `scenario PATH`: plays one scenario file.
//! - `bench`: measures the mock against baselines and writes `BENCHMARKS.md`.

mod bench;
use xtask::scenario;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match command.as_str() {
        "scenarios" => scenario::run_library(&rest),
        "scenario" => scenario::run_file(&rest),
        "bench" => bench::run(&rest),
        // Hidden: one measurement in a release child process of `bench`.
        "bench-child" => bench::run_child(&rest),
        "" | "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => {
            print_help();
            anyhow::bail!("unknown command `{other}`")
        }
    }
}

#[allow(clippy::print_stderr)] // reason: usage text for the person at the terminal
fn print_help() {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         scenarios [--target URL] [--format text|json]   run the built-in scenario library\n  \
         scenario PATH [--target URL] [--format text|json]  run one scenario file\n  \
         bench [--quick]                                 measure the mock, write BENCHMARKS.md"
    );
}
