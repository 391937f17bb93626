//! Shared helpers: a mock to play against and scenarios written inline.

use qstash_mock::MockServer;
use xtask::scenario::{self, Scenario, ScenarioReport, Target};

/// Starts a mock as `cargo xtask scenarios` does when no `--target` is given.
pub async fn embedded_mock() -> MockServer {
    MockServer::start().await
}

/// The target that reaches `mock`.
pub fn target_of(mock: &MockServer) -> Target {
    Target {
        url: mock.uri(),
        token: mock.token().to_owned(),
    }
}

/// Loads a scenario of the built-in library by file name.
pub fn library_scenario(file: &str) -> Scenario {
    scenario::library()
        .expect("the library loads")
        .into_iter()
        .find(|scenario| scenario.file.ends_with(file))
        .unwrap_or_else(|| panic!("no library scenario in `{file}`"))
}

/// Parses a scenario written in a test.
pub fn inline(text: &str) -> Scenario {
    scenario::parse(text, "inline.toml", "inline")
        .unwrap_or_else(|error| panic!("the inline scenario does not load: {error}"))
}

/// Plays a scenario against a fresh embedded mock.
pub async fn play_embedded(scenario: &Scenario) -> ScenarioReport {
    let mock = embedded_mock().await;
    let report = scenario::play(scenario, &target_of(&mock)).await;
    mock.shutdown().await;
    report
}
