"""Signing keys through `client.signing_key`, and signatures as the Receiver sees them."""

import pytest
from qstash import QStash, Receiver
from qstash.errors import SignatureError

from support import Destination, MockControl, env


def test_get_returns_the_keys_the_mock_printed_at_start(client: QStash) -> None:
    keys = client.signing_key.get()

    assert keys.current == env("QSTASH_CURRENT_SIGNING_KEY")
    assert keys.next == env("QSTASH_NEXT_SIGNING_KEY")


def test_rotate_promotes_next_to_current_and_creates_a_fresh_next(client: QStash) -> None:
    before = client.signing_key.get()

    rotated = client.signing_key.rotate()

    assert rotated.current == before.next
    assert rotated.next not in (before.current, before.next)
    assert rotated.next.startswith("sig_")
    assert client.signing_key.get() == rotated


def test_deliveries_after_two_rotations_verify_only_with_the_rotated_pair(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    original = client.signing_key.get()
    client.signing_key.rotate()
    rotated = client.signing_key.rotate()
    destination.use_keys(rotated.current, rotated.next)

    client.message.publish(url=destination.url("/after-rotation"), body="x")
    mock.settle()

    [delivery] = destination.received("/after-rotation")
    assert delivery.verified, delivery.error
    stale = Receiver(current_signing_key=original.current, next_signing_key=original.next)
    with pytest.raises(SignatureError):
        stale.verify(
            signature=delivery.headers["upstash-signature"], body=delivery.body, url=delivery.url
        )


def test_a_tampered_body_fails_verification(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.publish(url=destination.url("/tamper"), body="original")
    mock.settle()
    [delivery] = destination.received("/tamper")
    receiver = Receiver(
        current_signing_key=env("QSTASH_CURRENT_SIGNING_KEY"),
        next_signing_key=env("QSTASH_NEXT_SIGNING_KEY"),
    )

    with pytest.raises(SignatureError):
        receiver.verify(
            signature=delivery.headers["upstash-signature"], body="changed", url=delivery.url
        )


def test_a_retry_made_after_moving_the_clock_verifies_against_the_wall_clock(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/skewed", [500, 200])

    client.message.publish(url=destination.url("/skewed"), body="x", retries=1)
    mock.settle()
    mock.advance("12s")

    retry = destination.received("/skewed")[1]
    assert retry.retried == 1
    assert retry.verified, retry.error
