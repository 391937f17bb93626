"""Logs through `client.log.list`, and flow control through the `flow_control` header
settings and `client.flow_control`."""

import pytest
from qstash import QStash
from qstash.errors import QStashError
from qstash.log import LogState

from support import Destination, MockControl


def test_logs_show_a_message_from_creation_to_delivery(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/logged", [500, 200])
    published = client.message.publish(url=destination.url("/logged"), body="x", retries=1)
    mock.settle()
    mock.advance("1m")

    logs = client.log.list(filter={"message_id": published.message_id}).logs

    states = {log.state for log in logs}
    assert {LogState.CREATED, LogState.ERROR, LogState.DELIVERED} <= states
    assert all(log.message_id == published.message_id for log in logs)
    assert all(log.url == destination.url("/logged") for log in logs)


def test_logs_filter_by_state_and_page_with_a_cursor(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    for n in range(3):
        client.message.publish(url=destination.url(f"/many/{n}"), body="x")
    mock.settle()

    delivered = client.log.list(filter={"state": LogState.DELIVERED}).logs
    first = client.log.list(count=2)
    second = client.log.list(count=2, cursor=first.cursor)

    assert len(delivered) == 3
    assert len(first.logs) == 2
    assert first.cursor is not None
    assert second.logs
    assert {(l.message_id, l.state) for l in first.logs}.isdisjoint(
        {(l.message_id, l.state) for l in second.logs}
    )


def test_a_flow_control_key_limits_parallelism_and_shows_up_in_the_api(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    for n in range(3):
        client.message.publish(
            url=destination.url(f"/fc/{n}"),
            body="x",
            flow_control={"key": "tenant-1", "parallelism": 1},
        )

    info = client.flow_control.get("tenant-1")
    mock.settle()

    assert info.key == "tenant-1"
    assert info.parallelism_max == 1
    assert len(destination.received()) == 3


def test_global_parallelism_answers_with_both_fields(client: QStash) -> None:
    info = client.flow_control.get_global_parallelism()

    assert info.parallelism_max > 0
    assert info.parallelism_count == 0


def test_a_paused_flow_control_key_holds_its_messages_until_resumed(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.publish(
        url=destination.url("/held"),
        body="x",
        flow_control={"key": "tenant-3", "parallelism": 1},
        delay="10s",
    )

    client.flow_control.pause("tenant-3")
    mock.advance("1m")
    held = client.flow_control.get("tenant-3")
    delivered_while_paused = len(destination.received("/held"))
    client.flow_control.resume("tenant-3")
    mock.settle()

    assert held.is_paused is True
    assert held.wait_list_size == 1
    assert delivered_while_paused == 0
    assert len(destination.received("/held")) == 1


def test_flow_control_pause_resume_pin_unpin_and_reset_rate(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.publish(
        url=destination.url("/fc"),
        body="x",
        flow_control={"key": "tenant-2", "rate": 10, "period": 60},
        delay="1h",
    )

    client.flow_control.pause("tenant-2")
    paused = client.flow_control.get("tenant-2").is_paused
    client.flow_control.resume("tenant-2")
    client.flow_control.pin("tenant-2", {"parallelism": 5})
    pinned = client.flow_control.get("tenant-2")
    client.flow_control.unpin("tenant-2", {"parallelism": True})
    client.flow_control.reset_rate("tenant-2")
    after = client.flow_control.get("tenant-2")

    assert paused is True
    assert pinned.is_pinned_parallelism is True
    assert pinned.parallelism_max == 5
    assert after.is_paused is False
    assert after.is_pinned_parallelism is False
    assert after.rate_count == 0


def test_managing_an_unknown_flow_control_key_is_a_404(client: QStash) -> None:
    with pytest.raises(QStashError) as refused:
        client.flow_control.pause("never-used")

    assert "status: 404" in str(refused.value)
    assert "never-used" in str(refused.value)
