// Small helpers for building the page. Text from the server only ever goes in through
// textContent or attribute values, never as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `attributes` may hold `class`, `text` (set as textContent),
 * `on<event>` handlers, `dataset` entries and plain attributes.
 */
export function el(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/** Creates an SVG element; same conventions as `el`. */
export function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === 'text') {
      node.textContent = String(value);
    } else if (name === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

/** Replaces every child of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child);
    }
  }
}

/** `2030-01-01 00:00:12 UTC`, or with milliseconds when they are not zero. */
export function formatTime(ms) {
  if (typeof ms !== 'number') {
    return '—';
  }
  const iso = new Date(ms).toISOString();
  const [date, rest] = iso.split('T');
  const time = rest.endsWith('.000Z') ? rest.slice(0, 8) : rest.slice(0, 12);
  return `${date} ${time} UTC`;
}

/** A compact duration: `12s`, `2m28s`, `6h7m6s`, `1d`, `250ms`. */
export function formatDuration(ms) {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  if (rest < 1000) {
    return `${sign}${rest}ms`;
  }
  const parts = [];
  for (const [unit, size] of [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]]) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      rest -= count * size;
    }
  }
  if (rest > 0 && parts.length < 2) {
    parts.push(`${rest}ms`);
  }
  return sign + parts.join('');
}

/** `in 7d` or `12s ago`, relative to the mock's `now`. */
export function relative(ms, now) {
  if (typeof ms !== 'number' || typeof now !== 'number') {
    return '';
  }
  if (ms === now) {
    return 'now';
  }
  return ms > now ? `in ${formatDuration(ms - now)}` : `${formatDuration(now - ms)} ago`;
}

/** A time cell: absolute time with the relative one beneath. */
export function timeCell(ms, now) {
  if (typeof ms !== 'number') {
    return el('td', { class: 'muted', text: '—' });
  }
  return el(
    'td',
    { class: 'time' },
    el('time', { datetime: new Date(ms).toISOString(), text: formatTime(ms) }),
    el('span', { class: 'relative', text: relative(ms, now) }),
  );
}

/** A status badge coloured by class: 2xx ok, 4xx and 5xx failed, 0 no answer. */
export function statusBadge(status) {
  const kind = status >= 200 && status < 300 ? 'ok' : status === 0 ? 'none' : 'failed';
  return el('span', { class: `badge status-${kind}`, text: status === 0 ? 'no answer' : status });
}

/** The form's fields as [name, value] pairs, blanks left out. */
export function formPairs(form) {
  return [...new FormData(form).entries()]
    .map(([name, value]) => [name, String(value).trim()])
    .filter(([, value]) => value !== '');
}

/** A <pre> with a body, pretty-printed when it is JSON. */
export function bodyBlock(text) {
  if (text === undefined || text === null || text === '') {
    return el('p', { class: 'muted', text: '(empty)' });
  }
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    shown = text;
  }
  return el('pre', { class: 'body', text: shown });
}

/** A two-column table of headers, from an object of name → value or list of values. */
export function headerTable(headers) {
  const rows = Object.entries(headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) {
    return el('p', { class: 'muted', text: '(none)' });
  }
  return el(
    'table',
    { class: 'headers' },
    el(
      'tbody',
      {},
      rows.map(([name, value]) =>
        el(
          'tr',
          {},
          el('th', { text: name }),
          el('td', { text: Array.isArray(value) ? value.join(', ') : value }),
        ),
      ),
    ),
  );
}

/**
 * Keeps overlapping loads in order: `run(load, apply)` applies a load's result only if no
 * later call started meanwhile, so a slow poll cannot paint over a newer answer.
 */
export function newestOnly() {
  let ticket = 0;
  return async function run(load, apply) {
    ticket += 1;
    const mine = ticket;
    const result = await load();
    if (mine === ticket) {
      apply(result);
    }
  };
}
