//! Scenarios: declarative retry and DLQ stories played on the mock's clock.

pub(crate) fn run_library(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("scenarios are not available yet")
}

pub(crate) fn run_file(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("scenarios are not available yet")
}
