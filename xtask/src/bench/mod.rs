//! Benchmarks of the mock against baselines measured in the same run.

pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("benchmarks are not available yet")
}
