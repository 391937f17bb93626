// Batches through `client.batch` / `batchJSON`, queues through `client.queue(...)`, and
// enqueueing through `queue.enqueue` / `enqueueJSON`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useMock } from "../lib/harness.mjs";

const { client, mock, destination } = useMock();

test("batch publishes every item with its own settings", async () => {
  const responses = await client.batch([
    { url: destination.url("/batch/a"), body: "a", headers: { "X-Item": "1" } },
    { url: destination.url("/batch/b"), body: "b", method: "PUT" },
    { url: destination.url("/batch/c"), body: "c", delay: 60 },
  ]);
  await mock.settle();
  const beforeDelay = destination.received().map((d) => d.path).sort();
  await mock.advance("1m");

  assert.equal(responses.length, 3);
  assert.ok(responses.every((r) => r.messageId.startsWith("msg_")));
  assert.deepEqual(beforeDelay, ["/batch/a", "/batch/b"]);
  assert.equal(destination.received("/batch/a")[0].headers["x-item"], "1");
  assert.equal(destination.received("/batch/b")[0].method, "PUT");
  assert.equal(destination.received("/batch/c").length, 1);
});

test("batchJSON serialises each body", async () => {
  await client.batchJSON([
    { url: destination.url("/bj/1"), body: { n: 1 } },
    { url: destination.url("/bj/2"), body: { n: 2 } },
  ]);
  await mock.settle();

  const deliveries = destination.received();
  assert.deepEqual(deliveries.map((d) => JSON.parse(d.body).n).sort(), [1, 2]);
  assert.ok(deliveries.every((d) => d.headers["content-type"] === "application/json"));
});

test("a batch item may go into a queue", async () => {
  await client.batch([{ url: destination.url("/queued"), body: "x", queueName: "batched" }]);
  await mock.settle();

  assert.deepEqual((await client.queue().list()).map((q) => q.name), ["batched"]);
  assert.equal(destination.received("/queued").length, 1);
});

test("queue upsert, get, list and delete", async () => {
  await client.queue({ queueName: "orders" }).upsert({ parallelism: 2 });
  await client.queue({ queueName: "emails" }).upsert({});

  const orders = await client.queue({ queueName: "orders" }).get();
  const names = (await client.queue().list()).map((q) => q.name).sort();
  await client.queue({ queueName: "emails" }).delete();

  assert.equal(orders.name, "orders");
  assert.equal(orders.parallelism, 2);
  assert.equal(orders.paused, false);
  assert.equal(orders.lag, 0);
  assert.deepEqual(names, ["emails", "orders"]);
  assert.deepEqual((await client.queue().list()).map((q) => q.name), ["orders"]);
});

test("a paused queue holds its messages until resumed", async () => {
  const queue = client.queue({ queueName: "held" });
  await queue.upsert({});
  await queue.pause();

  await queue.enqueue({ url: destination.url("/held"), body: "x" });
  await mock.advance("1m");
  const whilePaused = destination.received("/held");
  const pausedFlag = (await queue.get()).paused;
  await queue.resume();
  await mock.advance("1m");

  assert.deepEqual(whilePaused, []);
  assert.equal(pausedFlag, true);
  assert.equal(destination.received("/held").length, 1);
});

test("enqueue and enqueueJSON deliver through the queue in order", async () => {
  const queue = client.queue({ queueName: "fifo" });

  const first = await queue.enqueue({ url: destination.url("/q/1"), body: "1" });
  const second = await queue.enqueueJSON({ url: destination.url("/q/2"), body: { n: 2 } });
  await mock.settle();

  assert.notEqual(first.messageId, second.messageId);
  assert.deepEqual(destination.received().map((d) => d.path), ["/q/1", "/q/2"]);
  assert.equal(destination.received("/q/2")[0].headers["content-type"], "application/json");
});
