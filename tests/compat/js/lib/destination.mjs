// A local HTTP server standing in for the app QStash delivers to. It checks every
// `Upstash-Signature` with the SDK's own Receiver against the exact URL that was
// published, and answers each path from a script of statuses picked by
// `Upstash-Retried`, like the mock's sinks (the last status repeats; 200 by default).

import http from "node:http";
import { Receiver } from "@upstash/qstash";
import { env } from "./env.mjs";

export class Destination {
  constructor() {
    this.deliveries = [];
    this.scripts = new Map();
    this.replyHeaders = new Map();
    this.server = http.createServer((request, response) => {
      this.#receive(request, response).catch((error) => {
        response.statusCode = 599;
        response.end(String(error));
      });
    });
    this.forget();
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address();
    this.baseUrl = `http://127.0.0.1:${port}`;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The URL to publish to for `path` (which may carry a query string). */
  url(path) {
    return this.baseUrl + path;
  }

  /** Forgets deliveries and scripts and returns to the launch keys. */
  forget() {
    this.deliveries = [];
    this.scripts.clear();
    this.replyHeaders.clear();
    this.useKeys(env("QSTASH_CURRENT_SIGNING_KEY"), env("QSTASH_NEXT_SIGNING_KEY"));
  }

  /** Verifies from now on with a new key pair, as an app would after a rotation. */
  useKeys(currentSigningKey, nextSigningKey) {
    this.receiver = new Receiver({ currentSigningKey, nextSigningKey });
  }

  /**
   * Answers requests to `path` (without query) with `statuses[Upstash-Retried]`, the
   * last one repeating, and `headers` on every answer.
   */
  respond(path, statuses, headers = {}) {
    this.scripts.set(path, statuses);
    this.replyHeaders.set(path, headers);
  }

  received(path) {
    return this.deliveries.filter((d) => path === undefined || d.path === path);
  }

  unverified() {
    return this.deliveries.filter((d) => !d.verified);
  }

  async #receive(request, response) {
    const chunks = [];
    for await (const chunk of request) {
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    const url = this.url(request.url);
    const retried = Number(request.headers["upstash-retried"] ?? "0");
    const bare = request.url.split("?")[0];
    const script = this.scripts.get(bare) ?? [200];
    const status = script[Math.min(retried, script.length - 1)];

    const { verified, error } = await verify(this.receiver, request.headers, body, url);
    this.deliveries.push({
      method: request.method,
      url,
      path: request.url,
      headers: request.headers,
      body,
      retried,
      status,
      verified,
      error,
    });

    response.writeHead(status, { "Content-Type": "text/plain", ...this.replyHeaders.get(bare) });
    response.end(`answered ${status}`);
  }
}

async function verify(receiver, headers, body, url) {
  const signature = headers["upstash-signature"];
  if (signature === undefined) {
    return { verified: false, error: "no Upstash-Signature header" };
  }
  try {
    await receiver.verify({ signature, body, url });
    return { verified: true, error: undefined };
  } catch (error) {
    return { verified: false, error: String(error) };
  }
}
