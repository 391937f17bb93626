"""URL groups through `client.url_group` (and publishing to one), and schedules through
`client.schedule`."""

import json

from qstash import QStash

from support import Destination, MockControl


def test_url_group_upsert_get_list_remove_and_delete(
    client: QStash, destination: Destination
) -> None:
    client.url_group.upsert_endpoints(
        url_group="team",
        endpoints=[
            {"url": destination.url("/alice"), "name": "alice"},
            {"url": destination.url("/bob")},
        ],
    )

    group = client.url_group.get("team")
    listed = [g.name for g in client.url_group.list()]
    client.url_group.remove_endpoints(url_group="team", endpoints=[{"name": "alice"}])
    after_removal = client.url_group.get("team")
    client.url_group.delete("team")

    assert group.name == "team"
    assert sorted(e.url for e in group.endpoints) == [
        destination.url("/alice"),
        destination.url("/bob"),
    ]
    assert listed == ["team"]
    assert [e.url for e in after_removal.endpoints] == [destination.url("/bob")]
    assert client.url_group.list() == []


def test_publishing_to_a_url_group_fans_out_one_signed_message_per_endpoint(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    client.url_group.upsert_endpoints(
        url_group="team",
        endpoints=[{"url": destination.url("/alice")}, {"url": destination.url("/bob")}],
    )

    responses = client.message.publish(url_group="team", body="hello team")
    mock.settle()

    assert sorted(r.url for r in responses) == [
        destination.url("/alice"),
        destination.url("/bob"),
    ]
    assert len({r.message_id for r in responses}) == 2
    for path in ["/alice", "/bob"]:
        [delivery] = destination.received(path)
        assert delivery.body == "hello team"
        assert delivery.headers["upstash-topic-name"] == "team"


def test_a_url_group_forwards_the_default_headers_set_with_patch(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    # Neither SDK sets a group's default headers, so the PATCH is plain HTTP.
    client.url_group.upsert_endpoints(
        url_group="hooks", endpoints=[{"url": destination.url("/hook")}]
    )
    mock.call("PATCH", "/v2/topics/hooks", {"headers": {"x-source": "webhooks"}})

    [response] = client.message.publish(url_group="hooks", body="event")
    message = client.message.get(response.message_id)
    mock.settle()

    [delivery] = destination.received("/hook")
    assert delivery.headers["x-source"] == "webhooks"
    assert message.headers == {"X-Source": ["webhooks"]}


def test_a_schedule_fires_on_its_cron_with_the_schedule_id_header(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    five_minutes = 300_000
    next_tick = (mock.now_ms() // five_minutes + 1) * five_minutes
    schedule_id = client.schedule.create(
        destination=destination.url("/tick"),
        cron="*/5 * * * *",
        body="tick",
        headers={"X-Source": "cron"},
    )

    mock.advance_to(next_tick - 1000)
    mock.advance("15m")

    ticks = destination.received("/tick")
    assert len(ticks) == 3
    assert all(t.body == "tick" for t in ticks)
    assert all(t.headers["upstash-schedule-id"] == schedule_id for t in ticks)
    assert all(t.headers["x-source"] == "cron" for t in ticks)


def test_schedule_get_list_pause_resume_and_delete(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    schedule_id = client.schedule.create_json(
        destination=destination.url("/daily"),
        cron="0 9 * * *",
        body={"report": "daily"},
        retries=2,
        schedule_id="daily-report",
    )

    schedule = client.schedule.get(schedule_id)
    listed = [s.schedule_id for s in client.schedule.list()]
    client.schedule.pause(schedule_id)
    paused = client.schedule.get(schedule_id).paused
    client.schedule.resume(schedule_id)
    resumed = client.schedule.get(schedule_id).paused
    client.schedule.delete(schedule_id)

    assert schedule_id == "daily-report"
    assert schedule.destination == destination.url("/daily")
    assert schedule.cron == "0 9 * * *"
    assert schedule.retries == 2
    assert json.loads(schedule.body or "") == {"report": "daily"}
    assert listed == ["daily-report"]
    assert (paused, resumed) == (True, False)
    assert client.schedule.list() == []


def test_a_paused_schedule_does_not_fire(
    client: QStash, mock: MockControl, destination: Destination
) -> None:
    schedule_id = client.schedule.create(
        destination=destination.url("/quiet"), cron="* * * * *", body="x"
    )

    client.schedule.pause(schedule_id)
    mock.advance("10m")

    assert destination.received("/quiet") == []
