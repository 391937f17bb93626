// Pending messages through `client.messages`: get, cancel by id, by ids, by filter and
// all, and the deprecated delete and deleteMany.

import { test } from "node:test";
import assert from "node:assert/strict";
import { QstashError } from "@upstash/qstash";
import { useMock } from "../lib/harness.mjs";

const { client, mock, destination } = useMock();

async function publishLater(path, options = {}) {
  const { messageId } = await client.publish({
    url: destination.url(path),
    body: "x",
    delay: "1m",
    ...options,
  });
  return messageId;
}

test("get returns every field the SDK reads for a pending message", async () => {
  const url = destination.url("/pending");

  const { messageId } = await client.publish({
    url,
    body: "hello",
    method: "PATCH",
    headers: { "Content-Type": "text/plain", "X-Trace": "abc" },
    retries: 4,
    retryDelay: "pow(2, retried) * 1000",
    callback: destination.url("/cb"),
    failureCallback: destination.url("/fcb"),
    delay: "10m",
  });
  const message = await client.messages.get(messageId);

  assert.equal(message.messageId, messageId);
  assert.equal(message.url, url);
  assert.equal(message.method, "PATCH");
  assert.equal(message.body, "hello");
  assert.deepEqual(message.header, { "Content-Type": ["text/plain"], "X-Trace": ["abc"] });
  assert.equal(message.maxRetries, 4);
  assert.equal(message.retryDelayExpression, "pow(2, retried) * 1000");
  assert.equal(message.callback, destination.url("/cb"));
  assert.equal(message.failureCallback, destination.url("/fcb"));
  assert.equal(message.notBefore - message.createdAt, 600_000);
  assert.equal(message.callerIP, "127.0.0.1");
});

test("a delivered message is no longer found", async () => {
  const { messageId } = await client.publish({ url: destination.url("/done"), body: "x" });
  await mock.settle();

  const getting = client.messages.get(messageId);

  await assert.rejects(getting, (error) => error instanceof QstashError && error.status === 404);
});

test("cancel by id stops a pending message and answers cancelled 1", async () => {
  const messageId = await publishLater("/cancelled");

  const result = await client.messages.cancel(messageId);
  await mock.advance("2m");

  assert.deepEqual(result, { cancelled: 1 });
  assert.deepEqual(destination.received(), []);
});

test("cancel with a list of ids cancels those and counts them", async () => {
  const ids = [await publishLater("/many/0"), await publishLater("/many/1")];
  await publishLater("/many/2");

  const result = await client.messages.cancel(ids);
  await mock.advance("1m");

  assert.equal(result.cancelled, 2);
  assert.deepEqual(destination.received().map((d) => d.path), ["/many/2"]);
});

test("cancel with a label filter cancels only the matching messages", async () => {
  await publishLater("/red", { label: "red" });
  await publishLater("/blue", { label: "blue" });

  const result = await client.messages.cancel({ filter: { label: "red" } });
  await mock.advance("1m");

  assert.equal(result.cancelled, 1);
  assert.deepEqual(destination.received().map((d) => d.path), ["/blue"]);
});

test("cancel with a url filter cancels only the matching messages", async () => {
  await publishLater("/keep");
  await publishLater("/drop");

  const result = await client.messages.cancel({ filter: { url: destination.url("/drop") } });
  await mock.advance("1m");

  assert.equal(result.cancelled, 1);
  assert.deepEqual(destination.received().map((d) => d.path), ["/keep"]);
});

test("cancel with a queue filter cancels only that queue's messages", async () => {
  await client.queue({ queueName: "orders" }).enqueue({
    url: destination.url("/queued"),
    body: "x",
    delay: "1m",
  });
  await publishLater("/unrelated");

  const result = await client.messages.cancel({ filter: { queueName: "orders" } });
  await mock.advance("1m");

  assert.equal(result.cancelled, 1);
  assert.deepEqual(destination.received().map((d) => d.path), ["/unrelated"]);
});

test("cancel all cancels every pending message", async () => {
  for (const n of [0, 1, 2]) {
    await publishLater(`/all/${n}`);
  }

  const result = await client.messages.cancel({ all: true });
  await mock.advance("1m");

  assert.equal(result.cancelled, 3);
  assert.deepEqual(destination.received(), []);
});

test("the deprecated delete and deleteMany still cancel", async () => {
  const one = await publishLater("/old/0");
  const two = await publishLater("/old/1");
  const three = await publishLater("/old/2");

  await client.messages.delete(one);
  const many = await client.messages.deleteMany([two, three]);
  await mock.advance("1m");

  assert.equal(many, 2);
  assert.deepEqual(destination.received(), []);
});
