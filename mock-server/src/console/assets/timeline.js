// A message's timeline as an inline SVG picture: attempts over virtual time, the move to
// the DLQ, the expiry deadline and the mock's current time.
//
// Retries cluster in the first minutes while retention runs for days, so the time axis is
// logarithmic in the time since publish: every attempt stays readable next to a deadline a
// week away.

import { el, formatDuration, formatTime, svg } from './dom.js';

const WIDTH = 960;
const HEIGHT = 190;
const LEFT = 40;
const RIGHT = 40;
const LANE_Y = 92;
const AXIS_Y = 150;
const LABEL_HEIGHT = 13;
const CHAR_WIDTH = 6.6;

/** Nice durations for the axis ticks, in ms. */
const TICKS = [
  1000, 10000, 60000, 600000, 3600000, 6 * 3600000, 86400000, 3 * 86400000, 7 * 86400000,
  30 * 86400000, 90 * 86400000,
];

/**
 * Draws the picture. `events` are the message's events from /__mock/events, `timeline`
 * its /__mock/messages/{id}/timeline answer, `now` the mock's time.
 */
export function drawTimeline({ events, timeline, now }) {
  const start = events[0]?.time ?? now;
  const end = Math.max(
    start + 60000,
    now ?? start,
    timeline.expiresAt ?? start,
    timeline.nextAttemptAt ?? start,
    ...events.map((e) => e.time),
  );
  const scale = (t) => {
    const span = Math.log1p((end - start) / 1000);
    const offset = Math.log1p(Math.max(0, t - start) / 1000);
    return LEFT + ((WIDTH - LEFT - RIGHT) * offset) / span;
  };
  const labels = new LabelPlacer();
  const picture = svg('svg', {
    class: 'timeline',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': `Timeline of ${timeline.messageId}: ${timeline.attempts} attempts, status ${timeline.status}`,
    'data-testid': 'timeline-picture',
  });

  picture.append(axis(start, end, scale));
  picture.append(lane(events, timeline, now, scale));
  drawDlqStay(picture, events, timeline, scale);
  drawDeadlines(picture, timeline, now, scale, labels);
  drawMarkers(picture, events, timeline, scale, labels);

  return el(
    'figure',
    { class: 'timeline-figure' },
    picture,
    el(
      'figcaption',
      {},
      legend('dot failed', 'failed attempt'),
      legend('dot ok', 'delivered'),
      legend('dot planned', 'next attempt'),
      legend('diamond', 'moved to the DLQ'),
      legend('line expiry', 'expiry deadline'),
      legend('line now', 'now'),
      el('span', { class: 'muted', text: 'time since publish, logarithmic' }),
    ),
  );
}

function legend(kind, text) {
  return el('span', { class: 'legend' }, el('span', { class: `swatch ${kind}` }), text);
}

function axis(start, end, scale) {
  const group = svg('g', { class: 'axis' });
  group.append(svg('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: AXIS_Y, y2: AXIS_Y }));
  let lastX = -Infinity;
  for (const offset of [0, ...TICKS]) {
    const x = scale(start + offset);
    if (start + offset > end || x - lastX < 48) {
      continue;
    }
    lastX = x;
    group.append(
      svg('line', { x1: x, x2: x, y1: AXIS_Y, y2: AXIS_Y + 5 }),
      svg('text', { x, y: AXIS_Y + 18, 'text-anchor': 'middle', text: offset === 0 ? 'publish' : `+${formatDuration(offset)}` }),
    );
  }
  group.append(
    svg('text', { x: LEFT, y: HEIGHT - 4, class: 'axis-date', text: formatTime(start) }),
  );
  return group;
}

/** The line the message lives on, from publish to its last event (or to now). */
function lane(events, timeline, now, scale) {
  const last = events[events.length - 1]?.time ?? now;
  const open = ['pending', 'retrying'].includes(timeline.status);
  const until = open ? Math.max(last, timeline.nextAttemptAt ?? last) : last;
  return svg('line', {
    class: 'lane',
    x1: scale(events[0]?.time ?? now),
    x2: scale(until),
    y1: LANE_Y,
    y2: LANE_Y,
  });
}

function drawDlqStay(picture, events, timeline, scale) {
  const moved = events.find((e) => e.event === 'movedToDlq');
  if (!moved) {
    return;
  }
  const left = events.find((e) => ['dlqRetried', 'dlqDeleted', 'dlqExpired'].includes(e.event));
  const until = left?.time ?? timeline.expiresAt ?? moved.time;
  const x1 = scale(moved.time);
  const x2 = Math.max(scale(until), x1 + 2);
  picture.append(
    svg('rect', { class: 'dlq-stay', x: x1, y: LANE_Y - 9, width: x2 - x1, height: 18, rx: 3 },
      svg('title', { text: `in the DLQ from ${formatTime(moved.time)} to ${formatTime(until)}` })),
  );
  if (x2 - x1 > 70) {
    picture.append(svg('text', { class: 'dlq-stay-label', x: (x1 + x2) / 2, y: LANE_Y + 4, 'text-anchor': 'middle', text: 'in DLQ' }));
  }
}

function drawDeadlines(picture, timeline, now, scale, labels) {
  if (typeof timeline.expiresAt === 'number') {
    const x = scale(timeline.expiresAt);
    picture.append(
      svg('line', { class: 'expiry', x1: x, x2: x, y1: 18, y2: AXIS_Y },
        svg('title', { text: `retention removes the entry at ${formatTime(timeline.expiresAt)}` })),
    );
    labels.place(picture, x, [0], 'expiry-label', 'expires');
  }
  if (typeof now === 'number') {
    const x = scale(now);
    picture.append(svg('line', { class: 'now', x1: x, x2: x, y1: 18, y2: AXIS_Y }, svg('title', { text: `now: ${formatTime(now)}` })));
    labels.place(picture, x, [0, 1], 'now-label', 'now');
  }
}

function drawMarkers(picture, events, timeline, scale, labels) {
  for (const event of events) {
    const x = scale(event.time);
    const title = svg('title', { text: `${formatTime(event.time)}: ${describe(event)}` });
    switch (event.event) {
      case 'published':
        picture.append(svg('circle', { class: 'marker published', cx: x, cy: LANE_Y, r: 5 }, title));
        labels.place(picture, x, [5, 6], 'event-label', 'published');
        break;
      case 'attemptFailed':
      case 'attemptSucceeded': {
        const ok = event.event === 'attemptSucceeded';
        picture.append(svg('circle', { class: `marker ${ok ? 'ok' : 'failed'}`, cx: x, cy: LANE_Y, r: 7 }, title));
        const what = event.status ?? (event.error ? 'error' : '?');
        labels.place(picture, x, [3, 2, 1], 'attempt-label', `#${event.retried + 1} ${what}`);
        break;
      }
      case 'movedToDlq':
        picture.append(
          svg('path', { class: 'marker dlq', d: `M${x} ${LANE_Y - 10} l10 10 l-10 10 l-10 -10 z` }, title),
        );
        labels.place(picture, x, [5, 6], 'event-label', 'to DLQ');
        break;
      case 'dlqRetried':
      case 'dlqDeleted':
      case 'dlqExpired':
      case 'cancelled': {
        const text = { dlqRetried: 'retried', dlqDeleted: 'deleted', dlqExpired: 'expired', cancelled: 'cancelled' }[event.event];
        picture.append(svg('rect', { class: 'marker end', x: x - 6, y: LANE_Y - 6, width: 12, height: 12 }, title));
        labels.place(picture, x, [6, 5], 'event-label', text);
        break;
      }
      default:
        picture.append(svg('circle', { class: 'marker other', cx: x, cy: LANE_Y, r: 3 }, title));
    }
  }
  if (['pending', 'retrying'].includes(timeline.status) && typeof timeline.nextAttemptAt === 'number') {
    const x = scale(timeline.nextAttemptAt);
    picture.append(
      svg('circle', { class: 'marker planned', cx: x, cy: LANE_Y, r: 7 },
        svg('title', { text: `next attempt at ${formatTime(timeline.nextAttemptAt)}` })),
    );
    labels.place(picture, x, [3, 2], 'attempt-label', 'next');
  }
}

/** One line about an event, for the marker's tooltip. */
function describe(event) {
  switch (event.event) {
    case 'attemptFailed': {
      const cause = event.status ? `status ${event.status}` : event.error ?? 'no answer';
      const next = event.nextRetry ? `; next: ${event.nextRetry.explanation}` : '; no retries left';
      return `attempt ${event.retried + 1} failed with ${cause}${next}`;
    }
    case 'attemptSucceeded':
      return `attempt ${event.retried + 1} delivered with status ${event.status}`;
    case 'movedToDlq':
      return `moved to the DLQ as ${event.dlqId}`;
    default:
      return event.event;
  }
}

/**
 * Puts labels in rows so that none overlaps another: each label takes the first of its
 * preferred rows where its span is free, or the last one if none is.
 */
class LabelPlacer {
  constructor() {
    this.rows = new Map();
  }

  rowY(row) {
    // Rows 0–3 sit above the lane, rows 5–6 below it; row 4 is the lane itself.
    return row < 4 ? 28 + row * LABEL_HEIGHT : LANE_Y + 26 + (row - 5) * LABEL_HEIGHT;
  }

  reserve(row, x1, x2) {
    const taken = this.rows.get(row) ?? [];
    taken.push([x1, x2]);
    this.rows.set(row, taken);
  }

  free(row, x1, x2) {
    return (this.rows.get(row) ?? []).every(([a, b]) => x2 + 4 < a || x1 - 4 > b);
  }

  place(picture, x, preferred, className, text) {
    const width = text.length * CHAR_WIDTH;
    const x1 = Math.min(Math.max(x - width / 2, 2), WIDTH - width - 2);
    const x2 = x1 + width;
    const row = preferred.find((r) => this.free(r, x1, x2)) ?? preferred[preferred.length - 1];
    this.reserve(row, x1, x2);
    picture.append(svg('text', { class: className, x: x1 + width / 2, y: this.rowY(row), 'text-anchor': 'middle', text }));
  }
}
