"""Publishing with `client.message.publish` and `publish_json`, and what arrives."""

import json

import pytest
from qstash import QStash
from qstash.errors import QStashError

from support import Destination, MockControl, env


def test_publish_delivers_the_body_method_and_forwarded_headers_to_the_exact_url(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    url = destination.url("/orders?region=eu&id=7")

    response = client.message.publish(
        url=url,
        body="order 7 paid",
        content_type="text/plain",
        method="PUT",
        headers={"X-Trace": "abc", "Upstash-Forward-X-Tenant": "t1"},
    )
    mock.settle()

    [delivery] = destination.received("/orders?region=eu&id=7")
    assert response.message_id.startswith("msg_")
    assert response.deduplicated is False
    assert delivery.method == "PUT"
    assert delivery.body == "order 7 paid"
    assert delivery.headers["content-type"] == "text/plain"
    assert delivery.headers["x-trace"] == "abc"
    assert delivery.headers["x-tenant"] == "t1"
    assert delivery.headers["upstash-message-id"] == response.message_id
    assert delivery.headers["upstash-retried"] == "0"
    assert delivery.verified


def test_a_delivery_made_without_moving_the_clock_verifies_with_no_clock_tolerance(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.publish(url=destination.url("/strict"), body="now")

    mock.settle()

    [delivery] = destination.received("/strict")
    assert delivery.verified, delivery.error


def test_publish_json_serialises_the_body_and_sets_the_json_content_type(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    payload = {"order": 7, "items": ["a", "b"], "note": "ünïcode"}

    client.message.publish_json(url=destination.url("/json"), body=payload)
    mock.settle()

    [delivery] = destination.received("/json")
    assert delivery.headers["content-type"] == "application/json"
    assert json.loads(delivery.body) == payload
    assert delivery.verified


def test_a_client_given_base_url_reaches_the_mock_without_the_environment_variable(
    mock: MockControl, destination: Destination
) -> None:
    client = QStash(env("QSTASH_TOKEN"), base_url=env("QSTASH_URL") + "/", retry=False)

    response = client.message.publish(url=destination.url("/base-url"), body="x")
    mock.settle()

    assert len(destination.received("/base-url")) == 1
    assert response.message_id


def test_a_delayed_message_waits_for_the_clock(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.publish(url=destination.url("/later"), body="x", delay="90s")

    mock.settle()
    mock.advance("89s")
    before = destination.received("/later")
    mock.advance("1s")

    assert before == []
    assert len(destination.received("/later")) == 1


def test_an_integer_delay_is_sent_as_seconds(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    published = client.message.publish(url=destination.url("/int-delay"), body="x", delay=30)

    message = client.message.get(published.message_id)

    assert message.not_before - message.created_at == 30_000


def test_not_before_holds_a_message_until_that_unix_second(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    not_before = mock.now_ms() // 1000 + 3600

    published = client.message.publish(
        url=destination.url("/not-before"), body="x", not_before=not_before
    )
    pending = client.message.get(published.message_id)
    mock.advance("59m")
    early = destination.received("/not-before")
    mock.advance("1m")

    assert pending.not_before == not_before * 1000
    assert early == []
    assert len(destination.received("/not-before")) == 1


def test_a_repeated_deduplication_id_is_reported_as_deduplicated_and_delivered_once(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    url = destination.url("/dedup")

    first = client.message.publish(url=url, body="a", deduplication_id="order-7")
    second = client.message.publish(url=url, body="b", deduplication_id="order-7")
    mock.settle()

    assert first.deduplicated is False
    assert second.deduplicated is True
    assert second.message_id == first.message_id
    assert [d.body for d in destination.received("/dedup")] == ["a"]


def test_content_based_deduplication_sent_as_python_true_is_understood(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    url = destination.url("/content-dedup")

    first = client.message.publish(url=url, body="same", content_based_deduplication=True)
    second = client.message.publish(url=url, body="same", content_based_deduplication=True)
    third = client.message.publish(url=url, body="other", content_based_deduplication=True)
    mock.settle()

    assert (first.deduplicated, second.deduplicated, third.deduplicated) == (False, True, False)
    assert [d.body for d in destination.received("/content-dedup")] == ["same", "other"]


def test_retries_and_a_retry_delay_expression_drive_the_attempts(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/flaky", [500, 500, 200])

    published = client.message.publish(
        url=destination.url("/flaky"),
        body="x",
        retries=2,
        retry_delay="1000 * (1 + retried)",
    )
    mock.settle()
    mock.advance("1s")
    mock.advance("2s")

    attempts = destination.received("/flaky")
    assert [d.retried for d in attempts] == [0, 1, 2]
    assert mock.timeline(published.message_id)["status"] == "delivered"


def test_a_callback_and_a_failure_callback_are_signed_for_their_own_urls(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/always-fails", [500])

    client.message.publish(
        url=destination.url("/always-fails"),
        body="x",
        retries=0,
        callback=destination.url("/callback"),
        failure_callback=destination.url("/failure"),
    )
    mock.run_until_idle()

    [callback] = destination.received("/callback")
    [failure] = destination.received("/failure")
    assert json.loads(callback.body)["status"] == 500
    assert json.loads(failure.body)["dlqId"]
    assert callback.verified and failure.verified


def test_callback_headers_with_the_forward_prefix_reach_the_callback(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.message.publish(
        url=destination.url("/with-callback"),
        body="x",
        callback=destination.url("/callback"),
        callback_headers={"Upstash-Callback-Forward-X-Key": "k1"},
        failure_callback=destination.url("/failure"),
        failure_callback_headers={"Upstash-Failure-Callback-Forward-X-Key": "k2"},
        retries=0,
    )
    mock.settle()

    [callback] = destination.received("/callback")
    assert callback.headers["x-key"] == "k1"
    assert json.loads(callback.body)["status"] == 200
    assert destination.received("/failure") == []


def test_callback_headers_without_the_prefix_reach_their_callbacks(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    destination.respond("/fails-once-more", [500])

    client.message.publish(
        url=destination.url("/fails-once-more"),
        body="x",
        callback=destination.url("/callback"),
        callback_headers={"X-Key": "k1"},
        failure_callback=destination.url("/failure"),
        failure_callback_headers={"X-Key": "k2"},
        retries=0,
    )
    mock.run_until_idle()

    [callback] = destination.received("/callback")
    [failure] = destination.received("/failure")
    assert callback.headers["x-key"] == "k1"
    assert failure.headers["x-key"] == "k2"


def test_a_timeout_cuts_off_a_slow_attempt_and_the_retry_succeeds(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    # Wall time is the point here: the destination really is slower than the timeout.
    destination.respond("/slow", [200], stall_first_s=2.0)

    published = client.message.publish(
        url=destination.url("/slow"), body="x", timeout=1, retries=1, retry_delay="1000"
    )
    mock.settle()
    mock.advance("1s")

    assert [d.retried for d in destination.received("/slow")] == [0, 1]
    assert mock.timeline(published.message_id)["status"] == "delivered"


def test_labels_are_kept_on_the_message(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    published = client.message.publish(
        url=destination.url("/labelled"), body="x", label="billing", delay="1h"
    )

    message = client.message.get(published.message_id)

    assert message.label == "billing"


def test_an_invalid_header_value_is_refused_with_a_message_naming_the_header(
    client: QStash, destination: Destination
) -> None:
    with pytest.raises(QStashError) as refused:
        client.message.publish(url=destination.url("/bad"), body="x", delay="soon")

    assert "400" in str(refused.value)
    assert "Upstash-Delay" in str(refused.value)


def test_a_wrong_token_is_refused_with_401(destination: Destination) -> None:
    client = QStash("not-the-token", base_url=env("QSTASH_URL"), retry=False)

    with pytest.raises(QStashError) as refused:
        client.message.publish(url=destination.url("/x"), body="x")

    assert "401" in str(refused.value)
