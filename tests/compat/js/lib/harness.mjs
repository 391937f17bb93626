// Wires a test file to the mock: one destination per file, a reset before each test
// and, after it, a check that every delivery carried a signature the Receiver accepts.

import { after, afterEach, before, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@upstash/qstash";
import { Destination } from "./destination.mjs";
import { MockControl } from "./mock.mjs";

export function useMock() {
  const context = {
    mock: new MockControl(),
    destination: new Destination(),
    // The SDK as an app would build it: base URL and token from QSTASH_URL and
    // QSTASH_TOKEN. Its own HTTP retries are off so that a refused request fails at once.
    client: new Client({ retry: false }),
  };

  before(() => context.destination.start());
  after(() => context.destination.stop());
  beforeEach(async () => {
    await context.mock.reset();
    context.destination.forget();
  });
  afterEach(() => {
    const rejected = context.destination.unverified().map((d) => [d.path, d.error]);
    assert.deepEqual(rejected, [], "deliveries whose signature the Receiver rejected");
  });

  return context;
}
