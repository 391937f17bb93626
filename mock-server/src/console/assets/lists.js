// The messages in flight, the event log and the sinks.

import { del, get, segment } from './api.js';
import { byId, el, fill, formatDuration, formPairs, newestOnly, statusBadge, timeCell } from './dom.js';

/** The most events the log view draws; the newest come first. */
const EVENT_ROWS = 500;

/** A button showing a message id that opens the message. */
function messageLink(ctx, messageId) {
  if (!messageId) {
    return el('span', { class: 'muted', text: '—' });
  }
  return el('button', {
    type: 'button',
    class: 'link mono',
    text: messageId,
    onclick: () => ctx.openDetail(messageId),
  });
}

/** Wires a filter form so that submitting or clearing it calls `apply` with its pairs. */
function wireFilters(form, apply) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply(formPairs(form));
  });
  form.addEventListener('reset', () => window.setTimeout(() => apply(formPairs(form))));
}

export function createMessagesView(ctx) {
  let filters = [];
  let messages = [];

  wireFilters(byId('messages-filters'), (pairs) => {
    filters = pairs;
    refresh().catch(ctx.handleError);
  });

  const newest = newestOnly();

  async function refresh() {
    await newest(
      () => get('/__mock/messages', filters),
      (answer) => {
        messages = answer.messages;
        render();
      },
    );
  }

  function render() {
    const now = ctx.clock?.now;
    fill(
      byId('messages-rows'),
      messages.map((message) =>
        el(
          'tr',
          { dataset: { messageId: message.messageId } },
          el('td', {}, messageLink(ctx, message.messageId)),
          el('td', { class: 'url', title: message.url, text: message.url }),
          el('td', {}, el('span', { class: `badge message-${message.state.toLowerCase()}`, text: message.state })),
          el('td', { class: 'num', text: `${message.attempts} of ${message.maxRetries + 1}` }),
          timeCell(message.nextDeliveryAt, now),
          timeCell(message.createdAt, now),
          el('td', { text: message.labels.join(', ') }),
          el(
            'td',
            { class: 'actions' },
            el('button', {
              type: 'button',
              class: 'danger',
              text: 'Cancel',
              'aria-label': `Cancel ${message.messageId}`,
              onclick: () => cancel(message.messageId),
            }),
          ),
        ),
      ),
    );
    byId('messages-empty').hidden = messages.length > 0;
  }

  async function cancel(messageId) {
    try {
      await del(`/v2/messages/${segment(messageId)}`);
      ctx.notify(`Cancelled ${messageId}.`);
      await ctx.refresh();
    } catch (error) {
      ctx.handleError(error);
    }
  }

  return { show: () => refresh().catch(ctx.handleError), refresh, render };
}

export function createEventsView(ctx) {
  let filters = [];
  let events = [];

  wireFilters(byId('events-filters'), (pairs) => {
    filters = pairs;
    refresh().catch(ctx.handleError);
  });

  const newest = newestOnly();

  async function refresh() {
    await newest(
      () => get('/__mock/events', filters),
      (answer) => {
        events = answer.events;
        render();
      },
    );
  }

  function render() {
    const shown = events.slice(-EVENT_ROWS).reverse();
    byId('events-summary').textContent =
      events.length > EVENT_ROWS
        ? `The newest ${EVENT_ROWS} of ${events.length} events, newest first.`
        : `${events.length} events, newest first.`;
    fill(
      byId('events-rows'),
      shown.map((event) =>
        el(
          'tr',
          { dataset: { event: event.event, messageId: event.messageId ?? '' } },
          timeCell(event.time, ctx.clock?.now),
          el('td', {}, el('span', { class: `badge event-${event.event}`, text: event.event })),
          el('td', {}, messageLink(ctx, event.messageId)),
          el('td', { class: 'details', text: details(event) }),
        ),
      ),
    );
  }

  return { show: () => refresh().catch(ctx.handleError), refresh, render };
}

/** The facts of an event in one line. */
function details(event) {
  switch (event.event) {
    case 'published':
      return `to ${event.url}, up to ${event.maxRetries} retries${event.fromDlqId ? `, republished from ${event.fromDlqId}` : ''}`;
    case 'deduplicated':
      return `deduplication id ${event.deduplicationId}`;
    case 'attemptSucceeded':
      return `attempt ${event.retried + 1}: status ${event.status}`;
    case 'attemptFailed': {
      const cause = event.status !== undefined ? `status ${event.status}` : event.error ?? 'no answer';
      const next = event.nextRetry
        ? `next in ${formatDuration(event.nextRetry.delayMs)} (${event.nextRetry.explanation})`
        : 'no retries left';
      return `attempt ${event.retried + 1}: ${cause}; ${next}`;
    }
    case 'movedToDlq':
      return `as ${event.dlqId} (${event.reason}), expires ${new Date(event.expiresAt).toISOString()}`;
    case 'callbackPublished':
      return `${event.role} ${event.callbackMessageId} to ${event.url}`;
    case 'dlqRetried':
      return `${event.dlqId} republished as ${event.newMessageId}`;
    case 'dlqDeleted':
    case 'dlqExpired':
      return event.dlqId;
    default:
      return '';
  }
}

export function createSinksView(ctx) {
  let sinks = [];
  let selected = null;
  let requests = [];

  const newest = newestOnly();

  async function refresh() {
    await newest(load, (answer) => {
      ({ sinks, selected, requests } = answer);
      render();
    });
  }

  /** Every sink, and the requests of the one shown (the first, unless one was picked). */
  async function load() {
    const list = (await get('/__mock/sinks')).sinks;
    const shown = list.some((sink) => sink.name === selected) ? selected : list[0]?.name ?? null;
    const received = shown === null ? [] : await get(`/__mock/sinks/${segment(shown)}/requests`);
    return { sinks: list, selected: shown, requests: received };
  }

  function render() {
    byId('sinks-empty').hidden = sinks.length > 0;
    fill(
      byId('sinks'),
      el('div', { class: 'sink-cards' }, sinks.map(card)),
      selected === null ? null : requestTable(),
    );
  }

  function card(sink) {
    return el(
      'article',
      { class: `sink-card${sink.name === selected ? ' selected' : ''}`, dataset: { sink: sink.name } },
      el('h3', { text: sink.name }),
      el('p', { class: 'mono url', text: sink.url }),
      el('p', { text: `${sink.receivedCount} requests received` }),
      el('h4', { text: 'Script' }),
      el('pre', { class: 'body', text: JSON.stringify(sink.script, null, 2) }),
      el('button', {
        type: 'button',
        text: sink.name === selected ? 'Showing requests' : 'Show requests',
        disabled: sink.name === selected,
        onclick: () => {
          selected = sink.name;
          refresh().catch(ctx.handleError);
        },
      }),
    );
  }

  function requestTable() {
    const now = ctx.clock?.now;
    return el(
      'section',
      { class: 'sink-requests' },
      el(
        'div',
        { class: 'detail-head' },
        el('h3', { text: `Requests received by ${selected}` }),
        el('button', { type: 'button', class: 'danger', text: 'Forget requests', onclick: forget }),
      ),
      requests.length === 0
        ? el('p', { class: 'empty', text: 'No request yet.' })
        : el(
            'table',
            { class: 'grid' },
            el('thead', {}, el('tr', {}, ['Time', 'Request', 'Message', 'Upstash-Retried', 'Answer', 'Body'].map((h) => el('th', { text: h })))),
            el(
              'tbody',
              {},
              [...requests].reverse().map((request) =>
                el(
                  'tr',
                  {},
                  timeCell(request.time, now),
                  el('td', { class: 'mono', text: `${request.method} ${request.path}` }),
                  el('td', {}, messageLink(ctx, request.messageId)),
                  el('td', { class: 'num', text: request.retried ?? '—' }),
                  el('td', {}, typeof request.status === 'number' ? statusBadge(request.status) : '—'),
                  el('td', { class: 'mono clip', text: clip(request.body ?? (request.bodyBase64 ? `base64: ${request.bodyBase64}` : '')) }),
                ),
              ),
            ),
          ),
    );
  }

  async function forget() {
    try {
      await del(`/__mock/sinks/${segment(selected)}/requests`);
      ctx.notify(`Forgot the requests ${selected} received.`);
      await refresh();
    } catch (error) {
      ctx.handleError(error);
    }
  }

  return { show: () => refresh().catch(ctx.handleError), refresh, render, alwaysRefresh: true };
}

function clip(text) {
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}
