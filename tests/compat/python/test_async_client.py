"""The same API through `qstash.AsyncQStash`, which has its own HTTP layer (httpx's
async client), driven with `asyncio.run` so no pytest plugin is needed."""

import asyncio

from qstash import AsyncQStash

from support import Destination, MockControl, env


def test_the_async_client_publishes_reads_and_cancels_messages(
    mock: MockControl, destination: Destination
) -> None:
    client = AsyncQStash(env("QSTASH_TOKEN"), retry=False)

    async def scenario() -> "tuple[str, str, int]":
        later = await client.message.publish(url=destination.url("/later"), body="x", delay=60)
        pending = await client.message.get(later.message_id)
        await client.message.cancel(later.message_id)
        cancelled_rest = await client.message.cancel_all()
        now = await client.message.publish_json(url=destination.url("/async"), body={"a": 1})
        return now.message_id, pending.url, cancelled_rest

    message_id, pending_url, cancelled_rest = asyncio.run(scenario())
    mock.advance("1m")

    [delivery] = destination.received()
    assert delivery.headers["upstash-message-id"] == message_id
    assert pending_url == destination.url("/later")
    assert cancelled_rest == 0


def test_the_async_client_lists_gets_and_deletes_dlq_entries(
    mock: MockControl, destination: Destination
) -> None:
    client = AsyncQStash(env("QSTASH_TOKEN"), retry=False)
    destination.respond("/down", [500])

    async def scenario() -> "tuple[int, str, int, int]":
        for _ in range(3):
            await client.message.publish(url=destination.url("/down"), body="x", retries=0)
        # A blocking control-plane call is fine here: nothing else runs on this loop.
        mock.settle()
        listed = await client.dlq.list(count=2)
        entry = await client.dlq.get(listed.messages[0].dlq_id)
        await client.dlq.delete(entry.dlq_id)
        deleted = await client.dlq.delete_many([listed.messages[1].dlq_id])
        remaining = await client.dlq.list()
        return len(listed.messages), entry.url, deleted, len(remaining.messages)

    first_page, url, deleted, remaining = asyncio.run(scenario())

    assert first_page == 2
    assert url == destination.url("/down")
    assert deleted == 1
    assert remaining == 1


def test_the_async_client_reads_and_rotates_signing_keys(destination: Destination) -> None:
    client = AsyncQStash(env("QSTASH_TOKEN"), retry=False)

    async def scenario() -> "tuple[str, str]":
        before = await client.signing_key.get()
        after = await client.signing_key.rotate()
        return before.next, after.current

    next_before, current_after = asyncio.run(scenario())

    assert current_after == next_before
