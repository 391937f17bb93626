"""The dead letter queue through `client.dlq`: list with filters and cursor, get,
delete and delete_many."""

from typing import List

import pytest
from qstash import QStash
from qstash.errors import QStashError

from support import Destination, MockControl


def fail_into_dlq(
    client: QStash, mock: MockControl, destination: Destination, paths: List[str], **options
) -> List[str]:
    """Publishes one message per path to a destination that always answers 500 and runs
    the clock until every message has used up its retries. Returns the message ids."""
    ids = []
    for path in paths:
        destination.respond(path.split("?")[0], [500])
        published = client.message.publish(
            url=destination.url(path), body=f"body of {path}", retries=0, **options
        )
        ids.append(published.message_id)
    mock.settle()
    return ids


def test_a_message_that_uses_up_its_retries_lands_in_the_dlq_with_its_last_response(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/broken", [503])

    published = client.message.publish(url=destination.url("/broken"), body="payload")
    mock.advance("1h")
    [entry] = client.dlq.list().messages

    assert [d.retried for d in destination.received("/broken")] == [0, 1, 2, 3]
    assert entry.message_id == published.message_id
    assert entry.url == destination.url("/broken")
    assert entry.body == "payload"
    assert entry.response_status == 503
    assert entry.response_body == "answered 503"
    assert entry.max_retries == 3
    assert entry.dlq_id


def test_the_default_backoff_spaces_retries_12s_2m28s_and_30m8s_apart(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/backoff", [500])

    client.message.publish(url=destination.url("/backoff"), body="x")
    report = mock.advance("1h")

    failures = [e for e in report["events"] if e["event"] == "attemptFailed"]
    delays = [e["nextRetry"]["delayMs"] for e in failures if e.get("nextRetry")]
    assert delays == [12_000, 148_000, 1_808_000]


def test_a_489_with_the_non_retryable_header_goes_straight_to_the_dlq(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/fatal", [489], headers={"Upstash-NonRetryable-Error": "true"})

    published = client.message.publish(url=destination.url("/fatal"), body="x", retries=3)
    mock.advance("1h")

    assert len(destination.received("/fatal")) == 1
    [entry] = client.dlq.list().messages
    assert entry.message_id == published.message_id
    assert entry.response_status == 489


def test_list_filters_by_url_status_label_and_message_id(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    [a, b] = fail_into_dlq(client, mock, destination, ["/a", "/b"], label="red")
    [c] = fail_into_dlq(client, mock, destination, ["/c"], label="blue")

    by_url = client.dlq.list(filter={"url": destination.url("/b")}).messages
    by_label = client.dlq.list(filter={"label": "red"}).messages
    by_status = client.dlq.list(filter={"response_status": 500}).messages
    by_other_status = client.dlq.list(filter={"response_status": 404}).messages
    by_id = client.dlq.list(filter={"message_id": c}).messages

    assert [m.message_id for m in by_url] == [b]
    assert sorted(m.message_id for m in by_label) == sorted([a, b])
    assert len(by_status) == 3
    assert by_other_status == []
    assert [m.message_id for m in by_id] == [c]


def test_list_filters_by_time_range(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    [early] = fail_into_dlq(client, mock, destination, ["/early"])
    mock.advance("1h")
    middle = mock.now_ms()
    [late] = fail_into_dlq(client, mock, destination, ["/late"])

    before = client.dlq.list(filter={"to_time": middle - 1}).messages
    after = client.dlq.list(filter={"from_time": middle}).messages

    assert [m.message_id for m in before] == [early]
    assert [m.message_id for m in after] == [late]


def test_list_pages_with_count_and_cursor_until_the_cursor_is_gone(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    ids = fail_into_dlq(client, mock, destination, [f"/page/{n}" for n in range(5)])

    pages = []
    cursor = None
    while True:
        page = client.dlq.list(count=2, cursor=cursor)
        pages.append([m.message_id for m in page.messages])
        cursor = page.cursor
        if cursor is None:
            break

    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == sorted(ids)


def test_get_returns_one_entry_by_its_dlq_id(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    [message_id] = fail_into_dlq(client, mock, destination, ["/one"])
    [listed] = client.dlq.list().messages

    entry = client.dlq.get(listed.dlq_id)

    assert entry.dlq_id == listed.dlq_id
    assert entry.message_id == message_id
    assert entry.response_status == 500


def test_delete_removes_an_entry_and_a_second_get_is_a_404(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    fail_into_dlq(client, mock, destination, ["/gone"])
    [entry] = client.dlq.list().messages

    client.dlq.delete(entry.dlq_id)

    with pytest.raises(QStashError) as missing:
        client.dlq.get(entry.dlq_id)
    assert "404" in str(missing.value)
    assert client.dlq.list().messages == []


def test_delete_many_removes_the_listed_entries_and_counts_them(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    fail_into_dlq(client, mock, destination, ["/x", "/y", "/z"])
    entries = client.dlq.list().messages
    keep = entries[2].dlq_id

    deleted = client.dlq.delete_many([entries[0].dlq_id, entries[1].dlq_id])

    assert deleted == 2
    assert [m.dlq_id for m in client.dlq.list().messages] == [keep]


def test_an_entry_expires_when_the_plans_retention_ends(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    fail_into_dlq(client, mock, destination, ["/expiring"])

    mock.advance("6d23h")
    kept = client.dlq.list().messages
    mock.advance("1h")

    assert len(kept) == 1
    assert client.dlq.list().messages == []
