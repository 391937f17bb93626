//! The `qstash-mock` binary as a newcomer uses it: start, read the printed environment,
//! publish to a failing endpoint, watch the DLQ, retry, expire, stop with SIGTERM.

mod support;

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::{Api, DAY, START};

struct Running {
    child: Child,
    environment: Vec<(String, String)>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qstash-mock"))
            .args(["--port", "0", "--clock", "frozen"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut environment = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some((name, value)) = line.trim().split_once('=') {
                environment.push((name.to_owned(), value.to_owned()));
            }
            if line.contains("QSTASH_NEXT_SIGNING_KEY") {
                break;
            }
        }
        // Keep reading so the mock never writes into a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Running { child, environment }
    }

    fn var(&self, name: &str) -> &str {
        self.environment
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{name} was not printed"))
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

#[tokio::test]
async fn the_binary_prints_the_environment_an_app_needs() {
    let mock = Running::start(&[]);

    let url = mock.var("QSTASH_URL").to_owned();

    assert!(url.starts_with("http://127.0.0.1:"));
    assert_eq!(mock.var("QSTASH_TOKEN"), qstash_mock::DEV_TOKEN);
    assert_eq!(
        mock.var("QSTASH_CURRENT_SIGNING_KEY"),
        qstash_mock::DEV_CURRENT_SIGNING_KEY
    );
    assert_eq!(
        mock.var("QSTASH_NEXT_SIGNING_KEY"),
        qstash_mock::DEV_NEXT_SIGNING_KEY
    );
    assert!(mock.terminate().success());
}

#[tokio::test]
async fn a_newcomer_follows_a_message_into_the_dlq_retries_it_and_watches_one_expire() {
    let mock = Running::start(&["--plan", "free", "--start", "2030-01-01T00:00:00Z"]);
    let api = Api::new(mock.var("QSTASH_URL"), mock.var("QSTASH_TOKEN"));
    let sink = api
        .send(
            "PUT",
            "/__mock/sinks/orders",
            &[],
            r#"{"responses":[{"status":500}]}"#,
        )
        .await
        .json;
    let url = sink["url"].as_str().unwrap().to_owned();

    let first = api.publish_ok(&url, &[]).await;
    let second = api.publish_ok(&url, &[]).await;
    let advanced = api
        .post_json("/__mock/clock/advance", json!({ "by": "1h" }))
        .await
        .json;
    let dlq = api.get("/v2/dlq").await.json;
    let dlq_ids: Vec<String> = dlq["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["dlqId"].as_str().unwrap().to_owned())
        .collect();
    let retried = api
        .send("POST", &format!("/v2/dlq/retry/{}", dlq_ids[0]), &[], "")
        .await;
    let expired = api
        .post_json("/__mock/clock/advance", json!({ "by": "3d" }))
        .await
        .json;

    assert_eq!(advanced["to"], START + 3_600_000);
    assert_eq!(dlq_ids.len(), 2);
    assert_eq!(dlq["messages"][0]["messageId"], first.as_str());
    assert_eq!(dlq["messages"][1]["messageId"], second.as_str());
    assert_eq!(retried.status, 201);
    let expired_ids: Vec<&str> = expired["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "dlqExpired")
        .map(|e| e["dlqId"].as_str().unwrap())
        .collect();
    assert_eq!(expired_ids, vec![dlq_ids[1].as_str()]);
    assert_eq!(
        api.get(&format!("/v2/dlq/{}", dlq_ids[1])).await.status,
        404
    );
    assert_eq!(expired["to"], START + 3_600_000 + 3 * DAY);
    assert!(mock.terminate().success(), "SIGTERM shuts down cleanly");
}

#[test]
fn a_bad_flag_is_refused_with_a_clear_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_qstash-mock"))
        .args(["--plan", "gold"])
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("unknown plan `gold`"), "{stderr}");
}
