// URL groups through `client.urlGroups` (and publishing to one), and schedules through
// `client.schedules`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useMock } from "../lib/harness.mjs";

const { client, mock, destination } = useMock();

test("url group addEndpoints, get, list, removeEndpoints and delete", async () => {
  await client.urlGroups.addEndpoints({
    name: "team",
    endpoints: [{ url: destination.url("/alice"), name: "alice" }, { url: destination.url("/bob") }],
  });

  const group = await client.urlGroups.get("team");
  const listed = (await client.urlGroups.list()).map((g) => g.name);
  await client.urlGroups.removeEndpoints({ name: "team", endpoints: [{ name: "alice" }] });
  const afterRemoval = await client.urlGroups.get("team");
  await client.urlGroups.delete("team");

  assert.equal(group.name, "team");
  assert.deepEqual(group.endpoints.map((e) => e.url).sort(), [
    destination.url("/alice"),
    destination.url("/bob"),
  ]);
  assert.deepEqual(listed, ["team"]);
  assert.deepEqual(afterRemoval.endpoints.map((e) => e.url), [destination.url("/bob")]);
  assert.deepEqual(await client.urlGroups.list(), []);
});

test("publishing to a url group fans out one signed message per endpoint", async () => {
  await client.urlGroups.addEndpoints({
    name: "team",
    endpoints: [{ url: destination.url("/alice") }, { url: destination.url("/bob") }],
  });

  const responses = await client.publish({ urlGroup: "team", body: "hello team" });
  await mock.settle();

  assert.deepEqual(responses.map((r) => r.url).sort(), [
    destination.url("/alice"),
    destination.url("/bob"),
  ]);
  for (const path of ["/alice", "/bob"]) {
    const [delivery] = destination.received(path);
    assert.equal(delivery.body, "hello team");
    assert.equal(delivery.headers["upstash-topic-name"], "team");
  }
});

test("a schedule fires on its cron with the schedule id header", async () => {
  const fiveMinutes = 300_000;
  const nextTick = (Math.floor((await mock.nowMs()) / fiveMinutes) + 1) * fiveMinutes;
  const { scheduleId } = await client.schedules.create({
    destination: destination.url("/tick"),
    cron: "*/5 * * * *",
    body: "tick",
    headers: { "X-Source": "cron" },
  });

  await mock.advanceTo(nextTick - 1000);
  await mock.advance("15m");

  const ticks = destination.received("/tick");
  assert.equal(ticks.length, 3);
  assert.ok(ticks.every((t) => t.body === "tick"));
  assert.ok(ticks.every((t) => t.headers["upstash-schedule-id"] === scheduleId));
  assert.ok(ticks.every((t) => t.headers["x-source"] === "cron"));
});

test("schedule get, list, pause, resume and delete", async () => {
  const { scheduleId } = await client.schedules.create({
    destination: destination.url("/daily"),
    cron: "0 9 * * *",
    body: JSON.stringify({ report: "daily" }),
    retries: 2,
    scheduleId: "daily-report",
  });

  const schedule = await client.schedules.get(scheduleId);
  const listed = (await client.schedules.list()).map((s) => s.scheduleId);
  await client.schedules.pause({ schedule: scheduleId });
  const paused = (await client.schedules.get(scheduleId)).isPaused;
  await client.schedules.resume({ schedule: scheduleId });
  const resumed = (await client.schedules.get(scheduleId)).isPaused;
  await client.schedules.delete(scheduleId);

  assert.equal(scheduleId, "daily-report");
  assert.equal(schedule.destination, destination.url("/daily"));
  assert.equal(schedule.cron, "0 9 * * *");
  assert.equal(schedule.retries, 2);
  assert.deepEqual(JSON.parse(schedule.body), { report: "daily" });
  assert.deepEqual(listed, ["daily-report"]);
  assert.equal(paused, true);
  assert.ok(!resumed);
  assert.deepEqual(await client.schedules.list(), []);
});
