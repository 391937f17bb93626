"""Pending messages through `client.message.get`, `cancel`, `cancel_many` and
`cancel_all`."""

import pytest
from qstash import QStash
from qstash.errors import QStashError

from support import Destination, MockControl


def test_get_returns_every_field_the_sdk_reads_for_a_pending_message(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    url = destination.url("/pending")

    published = client.message.publish(
        url=url,
        body="hello",
        method="PATCH",
        content_type="text/plain",
        headers={"X-Trace": "abc"},
        retries=4,
        retry_delay="pow(2, retried) * 1000",
        callback=destination.url("/cb"),
        failure_callback=destination.url("/fcb"),
        delay="10m",
        label="billing",
    )
    message = client.message.get(published.message_id)

    assert message.message_id == published.message_id
    assert message.url == url
    assert message.method == "PATCH"
    assert message.body == "hello"
    assert message.headers == {"Content-Type": ["text/plain"], "X-Trace": ["abc"]}
    assert message.max_retries == 4
    assert message.retry_delay_expression == "pow(2, retried) * 1000"
    assert message.callback == destination.url("/cb")
    assert message.failure_callback == destination.url("/fcb")
    assert message.not_before - message.created_at == 600_000
    assert message.label == "billing"
    assert message.caller_ip == "127.0.0.1"


def test_a_delivered_message_is_no_longer_found(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    published = client.message.publish(url=destination.url("/done"), body="x")
    mock.settle()

    with pytest.raises(QStashError) as missing:
        client.message.get(published.message_id)

    assert "404" in str(missing.value)


def test_cancel_stops_a_pending_message_from_being_delivered(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    published = client.message.publish(url=destination.url("/cancelled"), body="x", delay="1m")

    client.message.cancel(published.message_id)
    mock.advance("2m")

    assert destination.received("/cancelled") == []
    assert [e["messageId"] for e in mock.events("cancelled")] == [published.message_id]


def test_cancelling_an_unknown_message_is_a_404(client: QStash) -> None:
    with pytest.raises(QStashError) as missing:
        client.message.cancel("msg_does_not_exist")

    assert "404" in str(missing.value)


def test_cancel_many_cancels_the_listed_messages_and_counts_them(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    ids = [
        client.message.publish(url=destination.url(f"/many/{n}"), body="x", delay="1m").message_id
        for n in range(3)
    ]

    cancelled = client.message.cancel_many(ids[:2])
    mock.advance("1m")

    assert cancelled == 2
    assert [d.path for d in destination.received()] == ["/many/2"]


def test_cancel_all_cancels_every_pending_message(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    for n in range(4):
        client.message.publish(url=destination.url(f"/all/{n}"), body="x", delay="1m")

    cancelled = client.message.cancel_all()
    mock.advance("1m")

    assert cancelled == 4
    assert destination.received() == []
