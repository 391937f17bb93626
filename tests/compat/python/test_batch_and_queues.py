"""Batches through `client.message.batch` / `batch_json`, queues through
`client.queue`, and enqueueing through `client.message.enqueue` / `enqueue_json`."""

import json

from qstash import QStash

from support import Destination, MockControl


def test_batch_publishes_every_item_with_its_own_settings(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    responses = client.message.batch(
        [
            {"url": destination.url("/batch/a"), "body": "a", "headers": {"X-Item": "1"}},
            {"url": destination.url("/batch/b"), "body": "b", "method": "PUT"},
            {"url": destination.url("/batch/c"), "body": "c", "delay": "1m"},
        ]
    )
    mock.settle()
    before_delay = sorted(d.path for d in destination.received())
    mock.advance("1m")

    assert len(responses) == 3
    assert all(r.message_id.startswith("msg_") for r in responses)
    assert before_delay == ["/batch/a", "/batch/b"]
    [a] = destination.received("/batch/a")
    [b] = destination.received("/batch/b")
    assert a.headers["x-item"] == "1"
    assert b.method == "PUT"
    assert len(destination.received("/batch/c")) == 1


def test_batch_json_serialises_each_body(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.batch_json(
        [
            {"url": destination.url("/bj/1"), "body": {"n": 1}},
            {"url": destination.url("/bj/2"), "body": {"n": 2}},
        ]
    )
    mock.settle()

    bodies = sorted(json.loads(d.body)["n"] for d in destination.received())
    assert bodies == [1, 2]
    assert all(d.headers["content-type"] == "application/json" for d in destination.received())


def test_queue_upsert_get_list_and_delete(client: QStash) -> None:
    client.queue.upsert("orders", parallelism=2)
    client.queue.upsert("emails")

    orders = client.queue.get("orders")
    names = sorted(q.name for q in client.queue.list())
    client.queue.delete("emails")

    assert orders.name == "orders"
    assert orders.parallelism == 2
    assert orders.paused is False
    assert orders.lag == 0
    assert names == ["emails", "orders"]
    assert [q.name for q in client.queue.list()] == ["orders"]


def test_pause_and_resume_are_visible_on_the_queue(client: QStash) -> None:
    client.queue.upsert("orders")

    client.queue.pause("orders")
    paused = client.queue.get("orders").paused
    client.queue.resume("orders")

    assert paused is True
    assert client.queue.get("orders").paused is False


def test_enqueue_delivers_through_the_queue_in_order(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.queue.upsert("fifo", parallelism=1)

    first = client.message.enqueue(queue="fifo", url=destination.url("/q/1"), body="1")
    second = client.message.enqueue_json(
        queue="fifo", url=destination.url("/q/2"), body={"n": 2}
    )
    mock.settle()

    assert first.message_id != second.message_id
    assert [d.path for d in destination.received()] == ["/q/1", "/q/2"]


def test_a_paused_queue_holds_its_messages_until_resumed(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.queue.upsert("held", paused=True)

    client.message.enqueue(queue="held", url=destination.url("/held"), body="x")
    mock.advance("1m")
    while_paused = destination.received("/held")
    client.queue.resume("held")
    mock.advance("1m")

    assert while_paused == []
    assert len(destination.received("/held")) == 1


def test_enqueue_to_an_unknown_queue_creates_it(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.enqueue(queue="implicit", url=destination.url("/implicit"), body="x")
    mock.settle()

    assert [q.name for q in client.queue.list()] == ["implicit"]
    assert len(destination.received("/implicit")) == 1
