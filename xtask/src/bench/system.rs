//! What the process and the machine report about themselves: resident memory from
//! `/proc/self/status` and the hardware from `/proc/cpuinfo` and `/proc/meminfo`.

use serde::{Deserialize, Serialize};

/// The current resident set (`VmRSS`) in bytes, 0 where `/proc` is not available.
pub(crate) fn resident_bytes() -> u64 {
    status_kib("VmRSS:") * 1024
}

/// The peak resident set (`VmHWM`) in bytes, 0 where `/proc` is not available.
pub(crate) fn peak_resident_bytes() -> u64 {
    status_kib("VmHWM:") * 1024
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    kib_field(&status, field)
}

/// The number after `field` in a `/proc` table whose values are in kB.
fn kib_field(table: &str, field: &str) -> u64 {
    table
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}

/// The machine the figures were measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Machine {
    /// CPU model, from `/proc/cpuinfo`.
    pub(crate) cpu: String,
    /// Cores available to this process.
    pub(crate) cores: usize,
    /// Total memory, GiB.
    pub(crate) memory_gib: f64,
    /// The kernel, from `/proc/sys/kernel/osrelease`.
    pub(crate) kernel: String,
    /// The 1, 5 and 15 minute load averages, from `/proc/loadavg`; other work on a
    /// shared machine shows here.
    pub(crate) load_average: String,
}

impl Machine {
    /// Reads the machine's description.
    pub(crate) fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, name)| name.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_gib = kib_field(&meminfo, "MemTotal:") as f64 / (1024.0 * 1024.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |text| text.trim().to_owned());
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .map(|text| {
                text.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|_| "unknown".to_owned());
        Machine {
            load_average,
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gib,
            kernel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_fields_are_read_from_proc_tables() {
        let table = "Name:\txtask\nVmHWM:\t  123456 kB\nVmRSS:\t   2048 kB\n";

        let peak = kib_field(table, "VmHWM:");
        let missing = kib_field(table, "VmSwap:");

        assert_eq!((peak, missing), (123_456, 0));
    }
}
