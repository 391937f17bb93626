//! Measurement 4: start-up, from spawning a server process to its first answered
//! request, for the `qstash-mock` binary and a bare hyper server process.
//!
//! Wall time is the point here, so the probe polls the port with short real pauses.

use serde::{Deserialize, Serialize};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process may take to answer before the measurement fails.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The pause between connection attempts while the process is not listening yet.
const POLL_PAUSE: Duration = Duration::from_micros(200);

/// The spread of start-up times over several runs, milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Spread {
    /// The median run.
    pub(crate) median_ms: f64,
    /// The fastest run.
    pub(crate) min_ms: f64,
    /// The slowest run.
    pub(crate) max_ms: f64,
}

impl Spread {
    fn of(mut samples: Vec<f64>) -> Spread {
        samples.sort_by(f64::total_cmp);
        Spread {
            median_ms: samples[samples.len() / 2],
            min_ms: samples[0],
            max_ms: samples[samples.len() - 1],
        }
    }
}

/// Start-up of the mock binary and of the bare server process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StartupFigures {
    /// Runs of each.
    pub(crate) runs: usize,
    /// `qstash-mock --clock frozen`, answering `GET /v2/keys`.
    pub(crate) mock: Spread,
    /// `xtask bench-child bare-server`, answering any request.
    pub(crate) bare: Spread,
}

/// Starts each binary `runs` times, alternating, and times the first answer.
///
/// # Errors
/// When a process cannot be spawned, exits early, or does not answer in time.
pub(crate) fn measure(
    runs: usize,
    mock_binary: &Path,
    xtask_binary: &Path,
) -> anyhow::Result<StartupFigures> {
    let request = format!(
        "GET /v2/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Connection: close\r\n\r\n",
        qstash_mock::DEV_TOKEN
    );
    let mut mock = Vec::with_capacity(runs);
    let mut bare = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let port = free_port()?;
        let mut command = Command::new(mock_binary);
        command.args([
            "--clock",
            "frozen",
            "--start",
            "2030-01-01T00:00:00Z",
            "--port",
        ]);
        command.arg(port.to_string()).env("RUST_LOG", "warn");
        mock.push(time_to_first_answer(command, port, &request)?);

        let port = free_port()?;
        let mut command = Command::new(xtask_binary);
        command
            .args(["bench-child", "bare-server", "--port"])
            .arg(port.to_string());
        bare.push(time_to_first_answer(command, port, &request)?);
    }
    Ok(StartupFigures {
        runs: runs.max(1),
        mock: Spread::of(mock),
        bare: Spread::of(bare),
    })
}

/// A loopback port that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Spawns `command` and returns the milliseconds until `request` to `port` is answered.
pub(crate) fn time_to_first_answer(
    mut command: Command,
    port: u16,
    request: &str,
) -> anyhow::Result<f64> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = KillOnDrop(command.spawn()?);
    let address = SocketAddr::from(([127, 0, 0, 1], port));

    loop {
        if let Some(status) = child.0.try_wait()? {
            anyhow::bail!("the server exited with {status} before answering");
        }
        anyhow::ensure!(
            started.elapsed() < START_LIMIT,
            "the server did not answer within {START_LIMIT:?}"
        );
        if let Some(status_line) = ask(address, request) {
            let elapsed = started.elapsed();
            anyhow::ensure!(
                status_line.contains(" 200 "),
                "the server answered `{status_line}`"
            );
            return Ok(elapsed.as_secs_f64() * 1_000.0);
        }
        std::thread::sleep(POLL_PAUSE);
    }
}

/// Sends `request` and returns the status line, or `None` while nobody listens.
fn ask(address: SocketAddr, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_nodelay(true).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut buffer = [0u8; 64];
    let mut read = 0;
    while read < buffer.len() {
        match stream.read(&mut buffer[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
        if buffer[..read].contains(&b'\n') {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buffer[..read]);
    let line = text.lines().next()?.to_owned();
    Some(line).filter(|line| line.starts_with("HTTP/"))
}

/// Kills and reaps the child process it holds when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::bare::BareServer;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_reads_the_status_line_of_a_listening_server() {
        let server = BareServer::start_local(hyper::StatusCode::OK, "{}")
            .await
            .unwrap();
        let request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        let address = server.address();
        let line = tokio::task::spawn_blocking(move || ask(address, request))
            .await
            .unwrap();

        assert_eq!(line.as_deref(), Some("HTTP/1.1 200 OK"));
    }

    #[test]
    fn the_spread_names_the_median_and_the_extremes() {
        let spread = Spread::of(vec![5.0, 1.0, 3.0]);

        assert_eq!(
            (spread.median_ms, spread.min_ms, spread.max_ms),
            (3.0, 1.0, 5.0)
        );
    }
}
