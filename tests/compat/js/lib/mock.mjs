// The mock's `/__mock` control plane over plain HTTP, plus the `/v2/keys` routes that
// the JavaScript SDK has no method for.

import { env } from "./env.mjs";

export class MockControl {
  constructor(baseUrl = env("QSTASH_URL"), token = env("QSTASH_TOKEN")) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
  }

  /** Sends one request and returns the decoded JSON answer; throws on a non-2xx. */
  async call(method, path, body) {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        "Content-Type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    }
    return text ? JSON.parse(text) : undefined;
  }

  reset() {
    return this.call("POST", "/__mock/reset");
  }

  /** Runs the deliveries due now, without moving the clock. */
  settle() {
    return this.call("POST", "/__mock/clock/settle");
  }

  advance(by) {
    return this.call("POST", "/__mock/clock/advance", { by });
  }

  advanceTo(ms) {
    return this.call("POST", "/__mock/clock/advance-to", { to: ms });
  }

  runUntilIdle() {
    return this.call("POST", "/__mock/clock/run-until-idle", { maxSteps: 1000 });
  }

  async nowMs() {
    return (await this.call("GET", "/__mock/clock")).now;
  }

  timeline(messageId) {
    return this.call("GET", `/__mock/messages/${messageId}/timeline`);
  }

  async events(event) {
    const query = event ? `?event=${encodeURIComponent(event)}` : "";
    return (await this.call("GET", `/__mock/events${query}`)).events;
  }

  signingKeys() {
    return this.call("GET", "/v2/keys");
  }

  rotateSigningKeys() {
    return this.call("POST", "/v2/keys/rotate");
  }
}
