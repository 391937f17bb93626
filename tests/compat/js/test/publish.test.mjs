// Publishing with `client.publish` and `client.publishJSON`, and what arrives.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, QstashError } from "@upstash/qstash";
import { useMock } from "../lib/harness.mjs";
import { env } from "../lib/env.mjs";

const { client, mock, destination } = useMock();

test("publish delivers the body, method and forwarded headers to the exact url", async () => {
  const url = destination.url("/orders?region=eu&id=7");

  const response = await client.publish({
    url,
    body: "order 7 paid",
    method: "PUT",
    headers: { "Content-Type": "text/plain", "X-Trace": "abc" },
  });
  await mock.settle();

  const [delivery] = destination.received("/orders?region=eu&id=7");
  assert.match(response.messageId, /^msg_/);
  assert.equal(response.url, url);
  assert.equal(delivery.method, "PUT");
  assert.equal(delivery.body, "order 7 paid");
  assert.equal(delivery.headers["content-type"], "text/plain");
  assert.equal(delivery.headers["x-trace"], "abc");
  assert.equal(delivery.headers["upstash-message-id"], response.messageId);
  assert.equal(delivery.headers["upstash-retried"], "0");
  assert.ok(delivery.verified, delivery.error);
});

test("publishJSON serialises the body and sets the JSON content type", async () => {
  const payload = { order: 7, items: ["a", "b"], note: "ünïcode" };

  await client.publishJSON({ url: destination.url("/json"), body: payload });
  await mock.settle();

  const [delivery] = destination.received("/json");
  assert.equal(delivery.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(delivery.body), payload);
});

test("a client given baseUrl and token reaches the mock", async () => {
  const explicit = new Client({
    baseUrl: `${env("QSTASH_URL")}/`,
    token: env("QSTASH_TOKEN"),
    retry: false,
  });

  const response = await explicit.publish({ url: destination.url("/explicit"), body: "x" });
  await mock.settle();

  assert.ok(response.messageId);
  assert.equal(destination.received("/explicit").length, 1);
});

test("a delayed message waits for the clock", async () => {
  await client.publish({ url: destination.url("/later"), body: "x", delay: 90 });

  await mock.settle();
  await mock.advance("89s");
  const early = destination.received("/later");
  await mock.advance("1s");

  assert.deepEqual(early, []);
  assert.equal(destination.received("/later").length, 1);
});

test("notBefore holds a message until that unix second", async () => {
  const notBefore = Math.floor((await mock.nowMs()) / 1000) + 3600;

  const { messageId } = await client.publish({
    url: destination.url("/not-before"),
    body: "x",
    notBefore,
  });
  const pending = await client.messages.get(messageId);
  await mock.advance("59m");
  const early = destination.received("/not-before");
  await mock.advance("1m");

  assert.equal(pending.notBefore, notBefore * 1000);
  assert.deepEqual(early, []);
  assert.equal(destination.received("/not-before").length, 1);
});

test("a repeated deduplication id is reported as deduplicated and delivered once", async () => {
  const url = destination.url("/dedup");

  const first = await client.publish({ url, body: "a", deduplicationId: "order-7" });
  const second = await client.publish({ url, body: "b", deduplicationId: "order-7" });
  await mock.settle();

  assert.equal(first.deduplicated, undefined);
  assert.equal(second.deduplicated, true);
  assert.equal(second.messageId, first.messageId);
  assert.deepEqual(destination.received("/dedup").map((d) => d.body), ["a"]);
});

test("content based deduplication drops an identical second message", async () => {
  const url = destination.url("/content-dedup");

  const first = await client.publish({ url, body: "same", contentBasedDeduplication: true });
  const second = await client.publish({ url, body: "same", contentBasedDeduplication: true });
  const third = await client.publish({ url, body: "other", contentBasedDeduplication: true });
  await mock.settle();

  assert.deepEqual(
    [first.deduplicated, second.deduplicated, third.deduplicated],
    [undefined, true, undefined],
  );
  assert.deepEqual(destination.received("/content-dedup").map((d) => d.body), ["same", "other"]);
});

test("retries and a retry delay expression drive the attempts", async () => {
  destination.respond("/flaky", [500, 500, 200]);

  const { messageId } = await client.publish({
    url: destination.url("/flaky"),
    body: "x",
    retries: 2,
    retryDelay: "1000 * (1 + retried)",
  });
  await mock.settle();
  await mock.advance("1s");
  await mock.advance("2s");

  assert.deepEqual(destination.received("/flaky").map((d) => d.retried), [0, 1, 2]);
  assert.equal((await mock.timeline(messageId)).status, "delivered");
});

test("the default backoff waits 12s before the first retry", async () => {
  destination.respond("/backoff", [500, 200]);

  await client.publish({ url: destination.url("/backoff"), body: "x" });
  await mock.settle();
  await mock.advance("11s");
  const beforeBackoff = destination.received("/backoff").length;
  await mock.advance("1s");

  assert.equal(beforeBackoff, 1);
  assert.deepEqual(destination.received("/backoff").map((d) => d.retried), [0, 1]);
});

test("a callback and a failure callback are signed for their own urls", async () => {
  destination.respond("/always-fails", [500]);

  await client.publish({
    url: destination.url("/always-fails"),
    body: "x",
    retries: 0,
    callback: destination.url("/callback"),
    failureCallback: destination.url("/failure"),
  });
  await mock.runUntilIdle();

  const [callback] = destination.received("/callback");
  const [failure] = destination.received("/failure");
  assert.equal(JSON.parse(callback.body).status, 500);
  assert.ok(JSON.parse(failure.body).dlqId);
  assert.ok(callback.verified && failure.verified);
});

test("labels given as an array are kept on the message", async () => {
  const { messageId } = await client.publish({
    url: destination.url("/labelled"),
    body: "x",
    label: ["billing", "eu"],
    delay: "1h",
  });

  const message = await client.messages.get(messageId);

  assert.equal(message.label, "billing");
  assert.deepEqual(message.labels, ["billing", "eu"]);
});

test("an invalid header value is refused with a 400 naming the header", async () => {
  const publishing = client.publish({ url: destination.url("/bad"), body: "x", delay: "soon" });

  await assert.rejects(publishing, (error) => {
    assert.ok(error instanceof QstashError);
    assert.equal(error.status, 400);
    assert.match(error.message, /Upstash-Delay/);
    return true;
  });
});

test("a wrong token is refused with 401", async () => {
  const stranger = new Client({ baseUrl: env("QSTASH_URL"), token: "wrong", retry: false });

  const publishing = stranger.publish({ url: destination.url("/x"), body: "x" });

  await assert.rejects(publishing, (error) => error instanceof QstashError && error.status === 401);
});
