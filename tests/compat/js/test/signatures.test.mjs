// Signatures as the SDK's Receiver sees them, before and after a key rotation. The
// JavaScript SDK has no signing-key methods, so the keys are read and rotated with
// plain HTTP on `/v2/keys`, as a deployment script would.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Receiver, SignatureError } from "@upstash/qstash";
import { useMock } from "../lib/harness.mjs";
import { env } from "../lib/env.mjs";

const { client, mock, destination } = useMock();

/** The error `promise` rejects with, or undefined if it resolves. */
async function rejection(promise) {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

test("the mock serves the signing keys it printed at start", async () => {
  const keys = await mock.signingKeys();

  assert.deepEqual(keys, {
    current: env("QSTASH_CURRENT_SIGNING_KEY"),
    next: env("QSTASH_NEXT_SIGNING_KEY"),
  });
});

test("deliveries after two rotations verify only with the rotated pair", async () => {
  const original = await mock.signingKeys();
  await mock.rotateSigningKeys();
  const rotated = await mock.rotateSigningKeys();
  destination.useKeys(rotated.current, rotated.next);

  await client.publish({ url: destination.url("/after-rotation"), body: "x" });
  await mock.settle();

  const [delivery] = destination.received("/after-rotation");
  assert.ok(delivery.verified, delivery.error);
  const stale = new Receiver({
    currentSigningKey: original.current,
    nextSigningKey: original.next,
  });
  await assert.rejects(
    stale.verify({
      signature: delivery.headers["upstash-signature"],
      body: delivery.body,
      url: delivery.url,
    }),
    SignatureError,
  );
});

test("after one rotation the pre-rotation pair still verifies through its next key", async () => {
  const original = await mock.signingKeys();
  const rotated = await mock.rotateSigningKeys();

  await client.publish({ url: destination.url("/one-rotation"), body: "x" });
  await mock.settle();

  const [delivery] = destination.received("/one-rotation");
  assert.equal(rotated.current, original.next);
  assert.ok(delivery.verified, delivery.error);
});

test("a changed body or another url fails verification", async () => {
  await client.publish({ url: destination.url("/tamper"), body: "original" });
  await mock.settle();
  const [delivery] = destination.received("/tamper");
  const signature = delivery.headers["upstash-signature"];

  const changedBody = await rejection(
    destination.receiver.verify({ signature, body: "changed", url: delivery.url }),
  );
  const otherUrl = await rejection(
    destination.receiver.verify({ signature, body: delivery.body, url: destination.url("/x") }),
  );

  assert.match(String(changedBody), /body hash does not match/);
  assert.match(String(otherUrl), /invalid subject/);
});

test("a retry made after moving the clock verifies with no clock tolerance", async () => {
  destination.respond("/skewed", [500, 200]);

  await client.publish({ url: destination.url("/skewed"), body: "x", retries: 1 });
  await mock.settle();
  await mock.advance("12s");

  const deliveries = destination.received("/skewed");
  assert.equal(deliveries.length, 2);
  assert.ok(deliveries.every((d) => d.verified));
});
