// The DLQ console in a real browser against the real `qstash-mock` binary.
//
// Every wait below waits for a state of the page, never for an amount of time: the mock's
// clock is frozen and moves only through its control plane and the console's buttons.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openBrowser, publish, screenshot, startMock } from './support.mjs';

const FAILING_SCRIPT = { responses: [{ status: 500, body: '{"error":"database unavailable"}' }] };
const FLAKY_SCRIPT = {
  per: 'attempt',
  responses: [
    { status: 503, headers: { 'Content-Type': 'text/plain' }, body: 'warming up' },
    { status: 500, body: '{"error":"card processor timeout"}' },
  ],
};

/** A DLQ row of the console, by the message id it holds. */
const dlqRow = (page, messageId) => page.locator(`#dlq-rows tr[data-message-id="${messageId}"]`);

/** Whether the page only ever showed errors it was meant to (the refused token). */
function unexpected(problems) {
  return problems.filter((problem) => !problem.includes('status of 401'));
}

async function signIn(page, mock) {
  await page.goto(`${mock.url}/__console`);
  await page.fill('#token', mock.token);
  await page.click('#sign-in-form button[type="submit"]');
  await page.locator('#console').waitFor({ state: 'visible' });
}

async function noticeText(page, pattern) {
  const notice = page.locator('#notice');
  await notice.filter({ hasText: pattern }).waitFor();
  return notice.textContent();
}

describe('the DLQ console', () => {
  let mock;
  let browser;
  let failing;
  let flaky;
  const ids = {};

  before(async () => {
    mock = await startMock('dlq', ['--retention', '1h']);
    browser = await openBrowser();
    failing = (await mock.api('PUT', '/__mock/sinks/orders', { body: FAILING_SCRIPT })).url;
    flaky = (await mock.api('PUT', '/__mock/sinks/payments', { body: FLAKY_SCRIPT })).url;
    ids.first = await publish(mock, failing, { order: 1 }, { 'Upstash-Retries': '0' });
    ids.second = await publish(mock, failing, { order: 2 }, { 'Upstash-Retries': '0' });
    ids.flaky = await publish(mock, flaky, { charge: 4200, currency: 'EUR' }, {
      'Upstash-Retries': '2',
      'Upstash-Label': 'billing',
      'Upstash-Forward-X-Request-Id': 'req-7',
    });
    await mock.api('POST', '/__mock/clock/advance', { body: { by: '5m' } });
  });

  after(async () => {
    await browser?.close();
    await mock?.stop();
  });

  test('the start-up output links the console', () => {
    assert.equal(mock.consoleUrl, `${mock.url}/__console`);
  });

  test('the page is served without a token and with strict security headers', async () => {
    const response = await fetch(mock.consoleUrl);

    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy'), /^default-src 'self'/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.match(await response.text(), /<script type="module" src="\/__console\/app.js">/);
  });

  test('a wrong token shows the mock\'s 401 message and keeps the console closed', async () => {
    const { page } = browser;
    await page.goto(`${mock.url}/__console`);

    await page.fill('#token', 'not-the-token');
    await page.click('#sign-in-form button[type="submit"]');

    await page.locator('#sign-in-error', { hasText: '401' }).waitFor();
    assert.match(await page.textContent('#sign-in-error'), /invalid token/);
    assert.equal(await page.isVisible('#console'), false);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });

  test('signing in shows every DLQ entry and keeps the token in session storage only', async () => {
    const { page, context } = browser;

    await signIn(page, mock);

    for (const id of [ids.first, ids.second, ids.flaky]) {
      await dlqRow(page, id).waitFor();
    }
    const flakyRow = dlqRow(page, ids.flaky);
    assert.match(await flakyRow.textContent(), /500/);
    assert.equal((await flakyRow.locator('td.num').textContent()).trim(), '3');
    assert.match(await flakyRow.textContent(), /2030-01-01 01:02:40 UTC/);
    const stored = await page.evaluate(() => Object.values(sessionStorage));
    assert.deepEqual(stored, [mock.token]);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.deepEqual(await context.cookies(), []);
    assert.ok(!page.url().includes(mock.token));
    await screenshot(page, 'dlq');
  });

  test('the label filter narrows the table and clearing it brings every entry back', async () => {
    const { page } = browser;

    await page.fill('#dlq-filters input[name="label"]', 'billing');
    await page.click('#dlq-filters button[type="submit"]');
    await dlqRow(page, ids.first).waitFor({ state: 'detached' });

    assert.equal(await page.locator('#dlq-rows tr').count(), 1);
    assert.ok(await dlqRow(page, ids.flaky).isVisible());
    await page.click('#dlq-filters button[type="reset"]');
    await dlqRow(page, ids.first).waitFor();
    assert.equal(await page.locator('#dlq-rows tr').count(), 3);
  });

  test('a message\'s detail shows its request, last response and timeline picture', async () => {
    const { page } = browser;

    await dlqRow(page, ids.flaky).getByRole('button', { name: ids.flaky, exact: true }).click();

    const picture = page.locator('svg[data-testid="timeline-picture"]');
    await picture.waitFor();
    assert.equal(await picture.locator('circle.marker.failed').count(), 3);
    assert.equal(await picture.locator('path.marker.dlq').count(), 1);
    assert.equal(await picture.locator('line.expiry').count(), 1);
    const detail = await page.textContent('#detail');
    assert.match(detail, /X-Request-Id/i);
    assert.match(detail, /card processor timeout/);
    assert.match(detail, /"charge": 4200/);
    assert.match(detail, /retention removes it at 2030-01-01T01:02:40Z/);
    await screenshot(page, 'detail');
    await page.click('#detail-back');
    await dlqRow(page, ids.first).waitFor();
  });

  test('retry republishes an entry under a new id that fails back into the DLQ', async () => {
    const { page } = browser;

    await page.getByRole('button', { name: `Retry ${ids.first}` }).click();
    const notice = await noticeText(page, 'republished as');
    await dlqRow(page, ids.first).waitFor({ state: 'detached' });
    ids.republished = /republished as (\S+)\./.exec(notice)[1];
    await page.getByRole('button', { name: '+1 minute' }).click();
    await noticeText(page, 'Advanced 1m');

    assert.notEqual(ids.republished, ids.first);
    await dlqRow(page, ids.republished).waitFor();
    assert.equal(await dlqRow(page, ids.first).count(), 0);
  });

  test('delete removes an entry from the table and the log records it', async () => {
    const { page } = browser;

    await page.getByRole('button', { name: `Delete ${ids.second}` }).click();
    await dlqRow(page, ids.second).waitFor({ state: 'detached' });

    const { events } = await mock.api('GET', `/__mock/events?messageId=${ids.second}&event=dlqDeleted`);
    assert.equal(events.length, 1);
    assert.equal(await page.locator('#dlq-rows tr').count(), 2);
  });

  test('advancing past retention from the clock buttons expires the entries', async () => {
    const { page } = browser;

    await page.getByRole('button', { name: '+1 hour' }).click();
    await noticeText(page, 'Advanced 1h: now 2030-01-01 01:06:00 UTC');
    await page.getByRole('button', { name: '+1 hour' }).click();
    await noticeText(page, 'Advanced 1h: now 2030-01-01 02:06:00 UTC');

    await page.locator('#dlq-empty').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#dlq-rows tr').count(), 0);
    assert.equal(await page.textContent('#clock-now'), '2030-01-01 02:06:00 UTC');
  });

  test('the event log, filtered by event, shows each expiry', async () => {
    const { page } = browser;

    await page.click('a[data-tab="events"]');
    await page.selectOption('#events-filters select[name="event"]', 'dlqExpired');
    await page.click('#events-filters button[type="submit"]');
    await page.locator('#events-rows tr[data-event="dlqExpired"]').nth(1).waitFor();

    const rows = page.locator('#events-rows tr');
    assert.equal(await rows.count(), 2);
    const expired = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.messageId).sort());
    assert.deepEqual(expired, [ids.flaky, ids.republished].sort());
    await page.selectOption('#events-filters select[name="event"]', '');
    await page.click('#events-filters button[type="submit"]');
    await page.locator('#events-rows tr[data-event="published"]').first().waitFor();
    await screenshot(page, 'events');
  });

  test('the sinks view shows each script and the requests it answered', async () => {
    const { page } = browser;

    await page.click('a[data-tab="sinks"]');
    await page.locator('[data-sink="payments"]').waitFor();
    await page.locator('[data-sink="payments"] button').click();
    await page.locator('.sink-requests h3', { hasText: 'payments' }).waitFor();

    assert.match(await page.textContent('[data-sink="payments"]'), /3 requests received/);
    assert.match(await page.textContent('[data-sink="payments"] pre'), /warming up/);
    const requests = page.locator('.sink-requests tbody tr');
    assert.equal(await requests.count(), 3);
    assert.match(await requests.first().textContent(), new RegExp(ids.flaky));
    await screenshot(page, 'sinks');
  });

  test('the clock mode can be switched to running and back to frozen', async () => {
    const { page } = browser;

    await page.selectOption('#clock-mode-select', 'running');
    await page.fill('#clock-speed', '60');
    await page.click('#clock-mode-form button[type="submit"]');
    await page.locator('#clock-mode', { hasText: 'running ×60' }).waitFor();
    await page.selectOption('#clock-mode-select', 'frozen');
    await page.click('#clock-mode-form button[type="submit"]');

    await page.locator('#clock-mode', { hasText: 'frozen' }).waitFor();
    const clock = await mock.api('GET', '/__mock/clock');
    assert.equal(clock.mode, 'frozen');
  });

  test('the page raised no script error and no policy violation', () => {
    assert.deepEqual(unexpected(browser.problems), []);
  });
});

describe('the DLQ console with many entries', () => {
  let mock;
  let browser;
  const published = [];

  before(async () => {
    mock = await startMock('bulk');
    browser = await openBrowser();
  });

  after(async () => {
    await browser?.close();
    await mock?.stop();
  });

  test('entries that fail while the page is open appear without a reload', async () => {
    const { page } = browser;
    await signIn(page, mock);
    await page.locator('#dlq-empty').waitFor({ state: 'visible' });
    const sink = (await mock.api('PUT', '/__mock/sinks/down', { body: FAILING_SCRIPT })).url;

    for (let n = 0; n < 12; n += 1) {
      published.push(await publish(mock, sink, { n }, { 'Upstash-Retries': '0' }));
    }
    await mock.api('POST', '/__mock/clock/advance', { body: { by: '1m' } });

    for (const id of published) {
      await dlqRow(page, id).waitFor();
    }
    assert.equal(await page.textContent('#dlq-count'), '12');
  });

  test('paging walks the entries by cursor', async () => {
    const { page } = browser;

    await page.selectOption('#dlq-filters select[name="count"]', '10');
    await page.click('#dlq-filters button[type="submit"]');
    await dlqRow(page, published[11]).waitFor({ state: 'detached' });
    await page.click('#dlq-next');
    await dlqRow(page, published[11]).waitFor();

    assert.equal(await page.locator('#dlq-rows tr').count(), 2);
    assert.equal(await page.textContent('#dlq-page'), 'page 2');
    await page.click('#dlq-prev');
    await dlqRow(page, published[0]).waitFor();
    await page.selectOption('#dlq-filters select[name="count"]', '25');
    await page.click('#dlq-filters button[type="submit"]');
    await dlqRow(page, published[11]).waitFor();
  });

  test('retry selected republishes every selected entry at once', async () => {
    const { page } = browser;

    await page.check('#dlq-select-all');
    await page.click('#dlq-retry-selected');
    const notice = await noticeText(page, 'Retried 12 entries');

    const republished = /republished as (.+)\./.exec(notice)[1].split(', ');
    assert.equal(republished.length, 12);
    for (const id of published) {
      await dlqRow(page, id).waitFor({ state: 'detached' });
      assert.ok(!republished.includes(id));
    }
    await page.getByRole('button', { name: '+1 minute' }).click();
    for (const id of republished) {
      await dlqRow(page, id).waitFor();
    }
  });

  test('delete selected removes only the selected entries', async () => {
    const { page } = browser;
    const rows = page.locator('#dlq-rows tr');
    const keep = await rows.nth(2).getAttribute('data-message-id');

    await rows.nth(0).locator('input[type="checkbox"]').check();
    await rows.nth(1).locator('input[type="checkbox"]').check();
    await page.click('#dlq-delete-selected');
    await noticeText(page, 'Deleted 2 of 2 selected entries');

    await page.locator('#dlq-rows tr').nth(10).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 10);
    assert.equal(await rows.first().getAttribute('data-message-id'), keep);
  });

  test('run until idle runs every retry and expiry, leaving the DLQ empty', async () => {
    const { page } = browser;

    await page.getByRole('button', { name: 'Run until idle' }).click();
    await noticeText(page, 'Ran until idle');

    await page.locator('#dlq-empty').waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#clock-next'), 'nothing scheduled');
    const { events } = await mock.api('GET', '/__mock/events?event=dlqExpired');
    assert.equal(events.length, 10);
  });

  test('a retrying message shows in flight with its next attempt, and cancel removes it', async () => {
    const { page } = browser;
    const sink = `${mock.url}/__sinks/down`;
    const id = await publish(mock, sink, { slow: true }, { 'Upstash-Retries': '3' });
    await mock.api('POST', '/__mock/clock/advance', { body: { by: '1m' } });

    await page.click('a[data-tab="messages"]');
    const row = page.locator(`#messages-rows tr[data-message-id="${id}"]`);
    await row.waitFor();

    assert.match(await row.textContent(), /RETRY/);
    assert.match(await row.textContent(), /2 of 4/);
    await row.getByRole('button', { name: id, exact: true }).click();
    await page.locator('svg[data-testid="timeline-picture"] circle.marker.planned').waitFor();
    await page.click('#detail-back');
    await page.click('a[data-tab="messages"]');
    await page.getByRole('button', { name: `Cancel ${id}` }).click();
    await row.waitFor({ state: 'detached' });
    await page.locator('#messages-empty').waitFor({ state: 'visible' });
  });

  test('signing out forgets the token', async () => {
    const { page } = browser;

    await page.click('#sign-out');

    await page.locator('#sign-in').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });

  test('the page raised no script error and no policy violation', () => {
    assert.deepEqual(unexpected(browser.problems), []);
  });
});
