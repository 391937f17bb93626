// One message: what was sent, what came back, and its timeline as a picture and in words.

import { ApiError, del, get, post, segment } from './api.js';
import {
  bodyBlock,
  byId,
  el,
  fill,
  formatTime,
  headerTable,
  newestOnly,
  relative,
  statusBadge,
} from './dom.js';
import { drawTimeline } from './timeline.js';

/** How the timeline's statuses read to a person. */
const STATUS_TEXT = {
  pending: 'waiting for its first attempt',
  retrying: 'retrying',
  delivered: 'delivered',
  inDlq: 'in the DLQ',
  retriedFromDlq: 'retried from the DLQ',
  deletedFromDlq: 'deleted from the DLQ',
  expired: 'expired from the DLQ',
  cancelled: 'cancelled',
};

export function createDetailView(ctx) {
  let messageId = null;
  let data = null;
  const newest = newestOnly();

  async function show(id) {
    messageId = id;
    data = null;
    fill(byId('detail'), el('p', { class: 'muted', text: `Loading ${id}…` }));
    await refresh().catch(ctx.handleError);
  }

  async function refresh() {
    if (messageId === null) {
      return;
    }
    await newest(
      () => load(messageId),
      (loaded) => {
        data = loaded;
        if (data === null) {
          fill(byId('detail'), el('p', { class: 'empty', text: `The mock has no record of ${messageId}.` }));
          return;
        }
        render();
      },
    );
  }

  /** Everything the view shows about message `id`, or null when the mock never saw it. */
  async function load(id) {
    const timeline = await optional(get(`/__mock/messages/${segment(id)}/timeline`));
    if (timeline === null) {
      return null;
    }
    const { events } = await get('/__mock/events', [['messageId', id]]);
    let entry = null;
    let message = null;
    if (timeline.status === 'inDlq' && timeline.dlqId) {
      entry = await optional(get(`/v2/dlq/${segment(timeline.dlqId)}`));
    } else {
      message = await optional(get(`/v2/messages/${segment(id)}`));
    }
    return { timeline, events, entry, message };
  }

  function render() {
    if (data === null) {
      return;
    }
    const { timeline, events, entry, message } = data;
    const now = ctx.clock?.now;
    const sent = entry ?? message;
    const moved = events.find((e) => e.event === 'movedToDlq');
    const published = events.find((e) => e.event === 'published');
    fill(
      byId('detail'),
      el(
        'div',
        { class: 'detail-head' },
        el('h2', { class: 'mono', text: timeline.messageId }),
        el('span', { class: `badge state-${timeline.status}`, text: STATUS_TEXT[timeline.status] ?? timeline.status }),
        actions(timeline, entry),
      ),
      summary(timeline, sent, moved, published, now),
      el('h3', { text: 'Timeline' }),
      drawTimeline({ events, timeline, now }),
      el(
        'ol',
        { class: 'timeline-entries' },
        timeline.entries.map((line) =>
          el(
            'li',
            {},
            el('time', { datetime: line.at, text: formatTime(line.time) }),
            el('span', { class: 'since', text: `+${line.sincePublish}` }),
            el('span', { text: line.summary }),
          ),
        ),
      ),
      requestSection(sent),
      entry ? responseSection(entry) : null,
    );
  }

  function actions(timeline, entry) {
    const box = el('div', { class: 'actions' });
    if (entry) {
      box.append(
        el('button', { type: 'button', text: 'Retry', onclick: () => retry(entry) }),
        el('button', { type: 'button', class: 'danger', text: 'Delete', onclick: () => remove(entry) }),
      );
    } else if (data.message) {
      box.append(
        el('button', { type: 'button', class: 'danger', text: 'Cancel', onclick: () => cancel(timeline) }),
      );
    }
    return box;
  }

  async function retry(entry) {
    await act(async () => {
      const answer = await post(`/v2/dlq/retry/${segment(entry.dlqId)}`);
      return `Retried ${entry.messageId}: republished as ${answer.messageId}.`;
    });
  }

  async function remove(entry) {
    await act(async () => {
      await del(`/v2/dlq/${segment(entry.dlqId)}`);
      return `Deleted ${entry.messageId} from the DLQ.`;
    });
  }

  async function cancel(timeline) {
    await act(async () => {
      await del(`/v2/messages/${segment(timeline.messageId)}`);
      return `Cancelled ${timeline.messageId}.`;
    });
  }

  async function act(action) {
    try {
      ctx.notify(await action());
      await ctx.refresh();
    } catch (error) {
      ctx.handleError(error);
    }
  }

  return { show, refresh, render };
}

/** Resolves to null when the mock answers 404 (the thing is gone), else to the answer. */
async function optional(request) {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return null;
    }
    throw error;
  }
}

function summary(timeline, sent, moved, published, now) {
  const rows = [
    ['Destination', sent?.url ?? published?.url],
    ['Method', sent?.method],
    ['DLQ id', timeline.dlqId],
    ['Attempts', `${timeline.attempts} of ${(published?.maxRetries ?? sent?.maxRetries ?? 0) + 1}`],
    ['Published', published ? `${formatTime(published.time)} (${relative(published.time, now)})` : null],
    ['Failed at', moved ? `${formatTime(moved.time)} (${relative(moved.time, now)})` : null],
    ['Reason', moved?.reason === 'nonRetryable' ? 'non-retryable answer (489)' : moved ? 'retries ran out' : null],
    ['Expires', timeline.expiresAt ? `${formatTime(timeline.expiresAt)} (${relative(timeline.expiresAt, now)})` : null],
    ['Next attempt', timeline.nextAttemptAt ? `${formatTime(timeline.nextAttemptAt)} (${relative(timeline.nextAttemptAt, now)})` : null],
    ['Labels', sent?.labels?.join(', ')],
    ['Republished from', published?.fromDlqId ? `DLQ entry ${published.fromDlqId}` : null],
  ];
  const list = el('dl', { class: 'summary' });
  for (const [name, value] of rows) {
    if (value !== undefined && value !== null && value !== '') {
      list.append(el('dt', { text: name }), el('dd', { text: value }));
    }
  }
  if (timeline.retriedAs) {
    list.append(
      el('dt', { text: 'Republished as' }),
      el('dd', {}, el('a', { class: 'mono', href: `#message/${encodeURIComponent(timeline.retriedAs)}`, text: timeline.retriedAs })),
    );
  }
  return list;
}

function requestSection(sent) {
  if (!sent) {
    return el('p', { class: 'muted', text: 'The request is no longer held: the message left the queue and the DLQ.' });
  }
  return el(
    'section',
    { class: 'pair' },
    el('div', {}, el('h3', { text: 'Request headers' }), headerTable(sent.header)),
    el('div', {}, el('h3', { text: 'Request body' }), sent.bodyBase64 ? el('p', { class: 'muted', text: `binary, base64: ${sent.bodyBase64}` }) : bodyBlock(sent.body)),
  );
}

function responseSection(entry) {
  return el(
    'section',
    { class: 'pair' },
    el(
      'div',
      {},
      el('h3', {}, 'Last response ', statusBadge(entry.responseStatus)),
      headerTable(entry.responseHeader),
    ),
    el(
      'div',
      {},
      el('h3', { text: 'Response body' }),
      entry.responseBodyBase64
        ? el('p', { class: 'muted', text: `binary, base64: ${entry.responseBodyBase64}` })
        : bodyBlock(entry.responseBody),
    ),
  );
}
