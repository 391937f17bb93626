"""Fixtures: one local destination for the session, a fresh mock state for every test."""

from typing import Iterator

import pytest
from qstash import QStash

from support import Destination, MockControl, env


@pytest.fixture(scope="session")
def mock() -> MockControl:
    return MockControl(env("QSTASH_URL"), env("QSTASH_TOKEN"))


@pytest.fixture(scope="session")
def _destination_server() -> Iterator[Destination]:
    destination = Destination(
        current_signing_key=env("QSTASH_CURRENT_SIGNING_KEY"),
        next_signing_key=env("QSTASH_NEXT_SIGNING_KEY"),
    )
    destination.start()
    yield destination
    destination.stop()


@pytest.fixture(autouse=True)
def destination(mock: MockControl, _destination_server: Destination) -> Iterator[Destination]:
    """Resets the mock before each test and checks afterwards that every delivery the
    test caused carried a signature the SDK's Receiver accepts."""
    mock.reset()
    _destination_server.forget()

    yield _destination_server

    rejected = [(d.path, d.error) for d in _destination_server.unverified()]
    assert rejected == [], f"deliveries whose signature the Receiver rejected: {rejected}"


@pytest.fixture
def client() -> QStash:
    """The SDK as an app would build it: the base URL comes from `QSTASH_URL` in the
    environment. Its own HTTP retries are off so that a refused request fails at once."""
    return QStash(env("QSTASH_TOKEN"), retry=False)
