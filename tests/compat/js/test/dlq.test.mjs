// The dead letter queue through `client.dlq`: listMessages with filters, ids and
// cursor, delete in every form, and retry in every form.

import { test } from "node:test";
import assert from "node:assert/strict";
import { QstashError } from "@upstash/qstash";
import { useMock } from "../lib/harness.mjs";

const { client, mock, destination } = useMock();

/**
 * Publishes one message per path to a destination that always answers 500, without
 * retries, and runs the deliveries. Returns the message ids.
 */
async function failIntoDlq(paths, options = {}) {
  const ids = [];
  for (const path of paths) {
    destination.respond(path, [500]);
    const { messageId } = await client.publish({
      url: destination.url(path),
      body: `body of ${path}`,
      retries: 0,
      ...options,
    });
    ids.push(messageId);
  }
  await mock.settle();
  return ids;
}

async function listAll() {
  return (await client.dlq.listMessages()).messages;
}

test("a message that uses up its retries lands in the dlq with its last response", async () => {
  destination.respond("/broken", [503]);

  const { messageId } = await client.publish({ url: destination.url("/broken"), body: "p" });
  await mock.advance("1h");
  const [entry] = await listAll();

  assert.deepEqual(destination.received("/broken").map((d) => d.retried), [0, 1, 2, 3]);
  assert.equal(entry.messageId, messageId);
  assert.equal(entry.url, destination.url("/broken"));
  assert.equal(entry.body, "p");
  assert.equal(entry.responseStatus, 503);
  assert.equal(entry.responseBody, "answered 503");
  assert.ok(entry.dlqId);
});

test("a 489 with the non-retryable header goes straight to the dlq", async () => {
  destination.respond("/fatal", [489], { "Upstash-NonRetryable-Error": "true" });

  await client.publish({ url: destination.url("/fatal"), body: "x", retries: 3 });
  await mock.advance("1h");

  assert.equal(destination.received("/fatal").length, 1);
  assert.equal((await listAll())[0].responseStatus, 489);
});

test("listMessages filters by url, status, label and message id", async () => {
  const [a, b] = await failIntoDlq(["/a", "/b"], { label: "red" });
  const [c] = await failIntoDlq(["/c"], { label: "blue" });

  const byUrl = await client.dlq.listMessages({ filter: { url: destination.url("/b") } });
  const byLabel = await client.dlq.listMessages({ filter: { label: "red" } });
  const byStatus = await client.dlq.listMessages({ filter: { responseStatus: 500 } });
  const byOtherStatus = await client.dlq.listMessages({ filter: { responseStatus: 404 } });
  const byId = await client.dlq.listMessages({ filter: { messageId: c } });

  assert.deepEqual(byUrl.messages.map((m) => m.messageId), [b]);
  assert.deepEqual(byLabel.messages.map((m) => m.messageId).sort(), [a, b].sort());
  assert.equal(byStatus.messages.length, 3);
  assert.deepEqual(byOtherStatus.messages, []);
  assert.deepEqual(byId.messages.map((m) => m.messageId), [c]);
});

test("listMessages filters by a time range", async () => {
  const [early] = await failIntoDlq(["/early"]);
  await mock.advance("1h");
  const middle = await mock.nowMs();
  const [late] = await failIntoDlq(["/late"]);

  const before = await client.dlq.listMessages({ filter: { toDate: middle - 1 } });
  const after = await client.dlq.listMessages({ filter: { fromDate: middle } });

  assert.deepEqual(before.messages.map((m) => m.messageId), [early]);
  assert.deepEqual(after.messages.map((m) => m.messageId), [late]);
});

test("listMessages with dlqIds returns exactly those entries", async () => {
  await failIntoDlq(["/x", "/y", "/z"]);
  const all = await listAll();
  const wanted = [all[0].dlqId, all[2].dlqId];

  const listed = await client.dlq.listMessages({ dlqIds: wanted });

  assert.deepEqual(listed.messages.map((m) => m.dlqId).sort(), [...wanted].sort());
});

test("listMessages pages with count and cursor until the cursor is gone", async () => {
  const ids = await failIntoDlq([0, 1, 2, 3, 4].map((n) => `/page/${n}`));

  const pages = [];
  let cursor;
  do {
    const page = await client.dlq.listMessages({ count: 2, cursor });
    pages.push(page.messages.map((m) => m.messageId));
    cursor = page.cursor;
  } while (cursor);

  assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
  assert.deepEqual(pages.flat().sort(), [...ids].sort());
});

test("delete by dlq id removes one entry", async () => {
  await failIntoDlq(["/one", "/two"]);
  const [first, second] = await listAll();

  const result = await client.dlq.delete(first.dlqId);

  assert.deepEqual(result, { deleted: 1 });
  assert.deepEqual((await listAll()).map((m) => m.dlqId), [second.dlqId]);
});

test("delete with a list of dlq ids removes those and counts them", async () => {
  await failIntoDlq(["/x", "/y", "/z"]);
  const [x, y, z] = await listAll();

  const result = await client.dlq.delete([x.dlqId, y.dlqId]);
  const legacy = await client.dlq.deleteMany({ dlqIds: [z.dlqId] });

  assert.equal(result.deleted, 2);
  assert.equal(legacy.deleted, 1);
  assert.deepEqual(await listAll(), []);
});

test("delete with a filter removes only the matching entries", async () => {
  await failIntoDlq(["/red"], { label: "red" });
  await failIntoDlq(["/blue"], { label: "blue" });

  const result = await client.dlq.delete({ filter: { label: "red" } });

  assert.equal(result.deleted, 1);
  assert.deepEqual((await listAll()).map((m) => m.labels), [["blue"]]);
});

test("delete all pages through count entries at a time", async () => {
  await failIntoDlq([0, 1, 2, 3, 4].map((n) => `/bulk/${n}`));

  const counts = [];
  let cursor;
  do {
    const result = await client.dlq.delete({ all: true, count: 2, cursor });
    counts.push(result.deleted);
    cursor = result.cursor;
  } while (cursor);

  assert.equal(counts.reduce((sum, n) => sum + n, 0), 5);
  assert.deepEqual(await listAll(), []);
});

test("retry by dlq id publishes a new message and removes the entry", async () => {
  const [original] = await failIntoDlq(["/retry-one"]);
  const [entry] = await listAll();
  destination.respond("/retry-one", [200]);

  const result = await client.dlq.retry(entry.dlqId);
  await mock.settle();

  const [response] = result.responses;
  assert.notEqual(response.messageId, original);
  assert.equal(result.cursor, undefined);
  assert.deepEqual(await listAll(), []);
  const deliveries = destination.received("/retry-one");
  assert.equal(deliveries.length, 2);
  assert.equal(deliveries[1].headers["upstash-message-id"], response.messageId);
});

test("retry with a list of ids retries each of them", async () => {
  await failIntoDlq(["/r1", "/r2", "/r3"]);
  const [a, b] = await listAll();

  const result = await client.dlq.retry([a.dlqId, b.dlqId]);

  assert.equal(result.responses.length, 2);
  assert.equal((await listAll()).length, 1);
});

test("retry of an unknown dlq id is a 404 and retries nothing", async () => {
  await failIntoDlq(["/kept"]);
  const [entry] = await listAll();

  const retrying = client.dlq.retry([entry.dlqId, "no-such-entry"]);

  await assert.rejects(retrying, (error) => error instanceof QstashError && error.status === 404);
  assert.equal((await listAll()).length, 1);
});

test("retry with a filter retries only the matching entries", async () => {
  await failIntoDlq(["/red"], { label: "red" });
  await failIntoDlq(["/blue"], { label: "blue" });

  const result = await client.dlq.retry({ filter: { label: "red" } });

  assert.equal(result.responses.length, 1);
  assert.deepEqual((await listAll()).map((m) => m.labels), [["blue"]]);
});

test("retry all pages through count entries at a time", async () => {
  await failIntoDlq([0, 1, 2].map((n) => `/again/${n}`));

  const counts = [];
  let cursor;
  do {
    const result = await client.dlq.retry({ all: true, count: 2, cursor });
    counts.push(result.responses.length);
    cursor = result.cursor;
  } while (cursor);

  assert.equal(counts.reduce((sum, n) => sum + n, 0), 3);
  assert.deepEqual(await listAll(), []);
});
