// The console's entry point: sign-in, tabs, and the poll that keeps every view current.

import { ApiError, get, signIn, signOut, signedIn } from './api.js';
import { byId } from './dom.js';
import { createClock } from './clock.js';
import { createDlqView } from './dlq.js';
import { createDetailView } from './detail.js';
import { createEventsView, createMessagesView, createSinksView } from './lists.js';

/** How often the page asks the mock whether anything changed. */
const POLL_MS = 1000;

const ctx = {
  /** The last answer of GET /__mock/clock. */
  clock: null,
  notify,
  handleError,
  refresh: refreshNow,
  openDetail(messageId) {
    window.location.hash = `#message/${encodeURIComponent(messageId)}`;
  },
};

const views = {
  dlq: createDlqView(ctx),
  detail: createDetailView(ctx),
  messages: createMessagesView(ctx),
  events: createEventsView(ctx),
  sinks: createSinksView(ctx),
};
const clock = createClock(ctx);

let current = null;
let pollTimer = null;
let lastEventCount = null;

function notify(text, kind = 'info') {
  const notice = byId('notice');
  notice.textContent = text;
  notice.className = `notice ${kind}`;
}

/** Shows an error where the user is looking; a refused token sends them to sign in. */
function handleError(error) {
  if (error instanceof ApiError && error.status === 401) {
    leave(`The mock refused the token (401): ${error.message}`);
    return;
  }
  notify(error instanceof ApiError ? `${error.message} (${error.status})` : String(error), 'error');
}

function showSignIn(message = '') {
  byId('console').hidden = true;
  byId('clock').hidden = true;
  byId('sign-out').hidden = true;
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = message;
  byId('token').focus();
}

function leave(message) {
  signOut();
  stopPolling();
  showSignIn(message);
}

async function enter() {
  try {
    ctx.clock = await get('/__mock/clock');
  } catch (error) {
    const reason =
      error instanceof ApiError && error.status === 401
        ? `The mock refused the token (401): ${error.message}`
        : `Could not reach the mock: ${error.message}`;
    leave(reason);
    return;
  }
  byId('sign-in').hidden = true;
  byId('console').hidden = false;
  byId('clock').hidden = false;
  byId('sign-out').hidden = false;
  byId('token').value = '';
  lastEventCount = ctx.clock.eventCount;
  clock.render(ctx.clock);
  await route();
  startPolling();
}

/** Shows the view the location hash names: `#dlq`, `#messages`, `#message/<id>`, … */
async function route() {
  const hash = decodeURIComponent(window.location.hash.slice(1));
  let name = hash || 'dlq';
  let argument = null;
  if (hash.startsWith('message/')) {
    name = 'detail';
    argument = hash.slice('message/'.length);
  }
  if (!(name in views)) {
    name = 'dlq';
  }
  current = name;
  for (const [key] of Object.entries(views)) {
    byId(`view-${key}`).hidden = key !== name;
  }
  for (const tab of document.querySelectorAll('[data-tab]')) {
    tab.classList.toggle('active', tab.dataset.tab === name);
    if (tab.dataset.tab === name) {
      tab.setAttribute('aria-current', 'page');
    } else {
      tab.removeAttribute('aria-current');
    }
  }
  await views[name].show(argument);
}

async function refreshNow() {
  try {
    ctx.clock = await get('/__mock/clock');
    lastEventCount = ctx.clock.eventCount;
    clock.render(ctx.clock);
    await views[current].refresh();
  } catch (error) {
    handleError(error);
  }
}

async function poll() {
  pollTimer = null;
  try {
    const previous = ctx.clock;
    ctx.clock = await get('/__mock/clock');
    clock.render(ctx.clock);
    const view = views[current];
    if (ctx.clock.eventCount !== lastEventCount || view.alwaysRefresh) {
      lastEventCount = ctx.clock.eventCount;
      await view.refresh();
    } else if (previous === null || previous.now !== ctx.clock.now) {
      // Only the time moved: relative times change, the data does not.
      view.render();
    }
  } catch (error) {
    handleError(error);
  }
  if (signedIn()) {
    pollTimer = window.setTimeout(poll, POLL_MS);
  }
}

function startPolling() {
  stopPolling();
  pollTimer = window.setTimeout(poll, POLL_MS);
}

function stopPolling() {
  if (pollTimer !== null) {
    window.clearTimeout(pollTimer);
    pollTimer = null;
  }
}

function start() {
  byId('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = byId('token').value.trim();
    if (token === '') {
      byId('sign-in-error').textContent = 'Enter the token first.';
      return;
    }
    signIn(token);
    enter();
  });
  byId('sign-out').addEventListener('click', () => leave('Signed out.'));
  window.addEventListener('hashchange', () => {
    if (signedIn()) {
      route().catch(handleError);
    }
  });
  if (signedIn()) {
    enter();
  } else {
    showSignIn();
  }
}

start();
