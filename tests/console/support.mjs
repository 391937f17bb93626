// Helpers for the console's browser test: the mock binary, its API, and Chromium.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(repoRoot, 'artifacts', 'console');

/** The Chromium flags for a quiet, sandbox-free headless run in CI. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function mockBinary() {
  if (process.env.QSTASH_MOCK_BIN) {
    return resolve(process.env.QSTASH_MOCK_BIN);
  }
  const target = resolve(repoRoot, process.env.CARGO_TARGET_DIR ?? 'target');
  return join(target, 'debug', 'qstash-mock');
}

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Starts the `qstash-mock` binary on a free port with a frozen clock and waits for its
 * start-up output, down to the console's link. `name` names its log file under
 * artifacts/console/.
 */
export async function startMock(name, extraArgs = []) {
  await mkdir(artifacts, { recursive: true });
  const port = await freePort();
  const args = [
    '--clock', 'frozen',
    '--start', '2030-01-01T00:00:00Z',
    '--seed', '1',
    '--port', String(port),
    ...extraArgs,
  ];
  const child = spawn(mockBinary(), args, {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(artifacts, `${name}.mock.log`));
  child.stderr.pipe(log);

  const environment = await new Promise((done, fail) => {
    let output = '';
    const found = {};
    child.on('error', (error) => fail(new Error(`could not start ${mockBinary()}: ${error.message}`)));
    child.on('exit', (code) => fail(new Error(`qstash-mock exited with ${code} before it was ready:\n${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      log.write(chunk);
      for (const line of output.split('\n')) {
        const match = /^\s*(QSTASH_URL|QSTASH_TOKEN)=(\S+)/.exec(line);
        if (match) {
          found[match[1]] = match[2];
        }
        const link = /^DLQ console:\s+(\S+)/.exec(line);
        if (link) {
          found.console = link[1];
        }
      }
      if (found.QSTASH_URL && found.QSTASH_TOKEN && found.console) {
        done(found);
      }
    });
  });
  child.removeAllListeners('exit');
  child.stdout.on('data', (chunk) => log.write(chunk));
  // Should the test process end without `stop()`, the mock must not outlive it.
  const orphan = () => child.kill('SIGTERM');
  process.once('exit', orphan);

  const url = environment.QSTASH_URL;
  const token = environment.QSTASH_TOKEN;
  return {
    url,
    token,
    /** The console's address as the start-up output gives it. */
    consoleUrl: environment.console,
    api: (method, path, options) => request(url, token, method, path, options),
    async stop() {
      process.removeListener('exit', orphan);
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      log.end();
    },
  };
}

/** One call to the mock's API; rejects on any answer but 2xx, with the mock's error. */
async function request(base, token, method, path, { body, headers = {} } = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  }
  return text === '' ? null : JSON.parse(text);
}

/** Publishes `body` to `destination` through the mock; resolves to the message id. */
export async function publish(mock, destination, body, headers = {}) {
  const answer = await mock.api('POST', `/v2/publish/${destination}`, {
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...headers },
  });
  return answer.messageId;
}

/**
 * Launches the system's Chromium with a fresh profile and opens one page. The page's
 * console errors and uncaught exceptions are collected in `problems`.
 */
export async function openBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'qstash-console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 640 },
    deviceScaleFactor: 1,
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`console: ${message.text()}`);
    }
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page under artifacts/console/. */
export async function screenshot(page, name) {
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
