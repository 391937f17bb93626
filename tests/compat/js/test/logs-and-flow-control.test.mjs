// Logs through `client.logs`, and flow control through the `flowControl` publish option
// and `client.flowControl`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useMock } from "../lib/harness.mjs";

const { client, mock, destination } = useMock();

test("logs show a message from creation to delivery", async () => {
  destination.respond("/logged", [500, 200]);
  const { messageId } = await client.publish({
    url: destination.url("/logged"),
    body: "x",
    retries: 1,
  });
  await mock.settle();
  await mock.advance("1m");

  const { logs } = await client.logs({ filter: { messageId } });

  const states = new Set(logs.map((l) => l.state));
  for (const state of ["CREATED", "ERROR", "DELIVERED"]) {
    assert.ok(states.has(state), `no ${state} log in ${[...states]}`);
  }
  assert.ok(logs.every((l) => l.messageId === messageId));
});

test("logs filter by state and page with a cursor", async () => {
  for (const n of [0, 1, 2]) {
    await client.publish({ url: destination.url(`/many/${n}`), body: "x" });
  }
  await mock.settle();

  const delivered = await client.logs({ filter: { state: "DELIVERED" } });
  const first = await client.logs({ count: 2 });
  const second = await client.logs({ count: 2, cursor: first.cursor });

  assert.equal(delivered.logs.length, 3);
  assert.equal(first.logs.length, 2);
  assert.ok(first.cursor);
  assert.ok(second.logs.length > 0);
  const key = (l) => `${l.messageId}/${l.state}`;
  const firstKeys = new Set(first.logs.map(key));
  assert.ok(second.logs.every((l) => !firstKeys.has(key(l))));
});

test("a flow control key shows up in the api with its limits", async () => {
  for (const n of [0, 1, 2]) {
    await client.publish({
      url: destination.url(`/fc/${n}`),
      body: "x",
      flowControl: { key: "tenant-1", parallelism: 1, rate: 10, period: 60 },
    });
  }

  const info = await client.flowControl.get("tenant-1");
  const global = await client.flowControl.getGlobalParallelism();
  await mock.settle();

  assert.equal(info.flowControlKey, "tenant-1");
  assert.equal(info.parallelismMax, 1);
  assert.equal(info.rateMax, 10);
  assert.equal(info.ratePeriod, 60);
  assert.ok(global.parallelismMax > 0);
  assert.equal(destination.received().length, 3);
});

test("a paused flow control key holds its messages until resumed", async () => {
  await client.publish({
    url: destination.url("/held"),
    body: "x",
    flowControl: { key: "tenant-3", parallelism: 1 },
    delay: 10,
  });

  await client.flowControl.pause("tenant-3");
  await mock.advance("1m");
  const held = await client.flowControl.get("tenant-3");
  const deliveredWhilePaused = destination.received("/held").length;
  await client.flowControl.resume("tenant-3");
  await mock.settle();

  assert.equal(held.isPaused, true);
  assert.equal(held.waitListSize, 1);
  assert.equal(deliveredWhilePaused, 0);
  assert.equal(destination.received("/held").length, 1);
});

test("flow control pause, resume, pin, unpin and resetRate", async () => {
  await client.publish({
    url: destination.url("/fc"),
    body: "x",
    flowControl: { key: "tenant-2", rate: 10 },
    delay: "1h",
  });

  await client.flowControl.pause("tenant-2");
  const paused = (await client.flowControl.get("tenant-2")).isPaused;
  await client.flowControl.resume("tenant-2");
  await client.flowControl.pin("tenant-2", { parallelism: 5, rate: 2, period: 30 });
  const pinned = await client.flowControl.get("tenant-2");
  await client.flowControl.unpin("tenant-2", { parallelism: true });
  await client.flowControl.resetRate("tenant-2");
  const after = await client.flowControl.get("tenant-2");

  assert.equal(paused, true);
  assert.equal(pinned.isPinnedParallelism, true);
  assert.equal(pinned.isPinnedRate, true);
  assert.deepEqual(
    [pinned.parallelismMax, pinned.rateMax, pinned.ratePeriod],
    [5, 2, 30],
  );
  assert.equal(after.isPaused, false);
  assert.equal(after.isPinnedParallelism, false);
  assert.equal(after.isPinnedRate, true);
  assert.equal(after.rateCount, 0);
});

test("managing an unknown flow control key is a 404", async () => {
  await assert.rejects(client.flowControl.pause("never-used"), (error) => {
    assert.equal(error.status, 404);
    assert.match(error.message, /never-used/);
    return true;
  });
});
