// The dead letter queue: filters, a page of entries, paging by cursor, and retry or
// delete for one entry or for a selection.

import { del, get, post, segment } from './api.js';
import { byId, el, fill, formPairs, newestOnly, statusBadge, timeCell } from './dom.js';

export function createDlqView(ctx) {
  const state = {
    filters: [],
    count: '25',
    /** The cursor of each page seen so far; the first page has none. */
    cursors: [undefined],
    page: 0,
    next: null,
    entries: [],
    details: new Map(),
    selected: new Set(),
  };

  const form = byId('dlq-filters');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilters();
  });
  form.addEventListener('reset', () => window.setTimeout(applyFilters));
  byId('dlq-prev').addEventListener('click', () => turn(-1));
  byId('dlq-next').addEventListener('click', () => turn(1));
  byId('dlq-select-all').addEventListener('change', (event) => {
    for (const entry of state.entries) {
      select(entry.dlqId, event.target.checked);
    }
    for (const box of byId('dlq-rows').querySelectorAll('input[type="checkbox"]')) {
      box.checked = event.target.checked;
    }
    renderSelection();
  });
  byId('dlq-retry-selected').addEventListener('click', () => retrySelected());
  byId('dlq-delete-selected').addEventListener('click', () => deleteSelected());

  function applyFilters() {
    const pairs = formPairs(form);
    state.count = pairs.find(([name]) => name === 'count')?.[1] ?? '25';
    state.filters = pairs.filter(([name]) => name !== 'count');
    state.cursors = [undefined];
    state.page = 0;
    state.selected.clear();
    refresh().catch(ctx.handleError);
  }

  function turn(step) {
    if (step > 0 && state.next) {
      state.cursors[state.page + 1] = state.next;
    }
    state.page = Math.max(0, state.page + step);
    refresh().catch(ctx.handleError);
  }

  const newest = newestOnly();

  async function refresh() {
    await newest(load, (page) => {
      state.entries = page.entries;
      state.next = page.next;
      state.details = page.details;
      const ids = page.entries.map((entry) => entry.dlqId);
      for (const id of [...state.selected]) {
        if (!ids.includes(id)) {
          state.selected.delete(id);
        }
      }
      render();
    });
  }

  /** The current page with the details of its entries. */
  async function load() {
    for (;;) {
      const query = [...state.filters, ['count', state.count], ['cursor', state.cursors[state.page]]];
      const answer = await get('/v2/dlq', query);
      const entries = answer.messages ?? [];
      if (entries.length === 0 && state.page > 0) {
        // Everything on this page went away (retried, deleted, expired): step back.
        state.page -= 1;
        continue;
      }
      const ids = entries.map((entry) => entry.dlqId);
      const details =
        ids.length === 0 ? { entries: [] } : await get('/__mock/dlq', ids.map((id) => ['dlqId', id]));
      return {
        entries,
        next: answer.cursor || null,
        details: new Map(details.entries.map((detail) => [detail.dlqId, detail])),
      };
    }
  }

  function render() {
    const now = ctx.clock?.now;
    fill(byId('dlq-rows'), state.entries.map((entry) => row(entry, now)));
    byId('dlq-empty').hidden = state.entries.length > 0;
    byId('dlq-empty').textContent =
      state.filters.length > 0 ? 'No DLQ entry matches these filters.' : 'The dead letter queue is empty.';
    byId('dlq-prev').disabled = state.page === 0;
    byId('dlq-next').disabled = !state.next;
    byId('dlq-page').textContent = `page ${state.page + 1}`;
    renderSelection();
  }

  /** The selection's count, the bulk buttons and the select-all box; rows stay as they are. */
  function renderSelection() {
    const selected = state.selected.size;
    byId('dlq-selected').textContent = selected === 0 ? 'none selected' : `${selected} selected`;
    byId('dlq-retry-selected').disabled = selected === 0;
    byId('dlq-delete-selected').disabled = selected === 0;
    const all = byId('dlq-select-all');
    all.checked = state.entries.length > 0 && state.entries.every((e) => state.selected.has(e.dlqId));
    all.indeterminate = selected > 0 && !all.checked;
  }

  function select(dlqId, selected) {
    if (selected) {
      state.selected.add(dlqId);
    } else {
      state.selected.delete(dlqId);
    }
  }

  function row(entry, now) {
    const detail = state.details.get(entry.dlqId) ?? {};
    const attempts = detail.attempts ?? entry.maxRetries + 1;
    const checkbox = el('input', {
      type: 'checkbox',
      'aria-label': `Select ${entry.messageId}`,
      onchange: (event) => {
        select(entry.dlqId, event.target.checked);
        renderSelection();
      },
    });
    checkbox.checked = state.selected.has(entry.dlqId);
    return el(
      'tr',
      { dataset: { messageId: entry.messageId, dlqId: entry.dlqId } },
      el('td', {}, checkbox),
      el(
        'td',
        {},
        el('button', {
          type: 'button',
          class: 'link mono',
          text: entry.messageId,
          title: `DLQ id ${entry.dlqId}`,
          onclick: () => ctx.openDetail(entry.messageId),
        }),
      ),
      el('td', { class: 'url', title: entry.url, text: entry.url }),
      el('td', {}, statusBadge(entry.responseStatus)),
      el('td', { class: 'num', title: `up to ${entry.maxRetries} retries`, text: attempts }),
      timeCell(detail.enteredAt, now),
      timeCell(detail.expiresAt, now),
      el(
        'td',
        { class: 'actions' },
        el('button', {
          type: 'button',
          text: 'Retry',
          'aria-label': `Retry ${entry.messageId}`,
          onclick: () => retryOne(entry),
        }),
        el('button', {
          type: 'button',
          class: 'danger',
          text: 'Delete',
          'aria-label': `Delete ${entry.messageId}`,
          onclick: () => deleteOne(entry),
        }),
      ),
    );
  }

  async function retryOne(entry) {
    await act(async () => {
      const answer = await post(`/v2/dlq/retry/${segment(entry.dlqId)}`);
      return `Retried ${entry.messageId}: republished as ${answer.messageId}.`;
    });
  }

  async function deleteOne(entry) {
    await act(async () => {
      await del(`/v2/dlq/${segment(entry.dlqId)}`);
      return `Deleted ${entry.messageId} from the DLQ.`;
    });
  }

  async function retrySelected() {
    const ids = [...state.selected];
    await act(async () => {
      const answer = await post('/v2/dlq/retry', undefined, ids.map((id) => ['dlqIds', id]));
      const created = (answer.responses ?? []).map((r) => r.messageId);
      return `Retried ${ids.length} entries: republished as ${created.join(', ')}.`;
    });
  }

  async function deleteSelected() {
    const ids = [...state.selected];
    await act(async () => {
      const answer = await del('/v2/dlq', ids.map((id) => ['dlqIds', id]));
      return `Deleted ${answer.deleted} of ${ids.length} selected entries.`;
    });
  }

  async function act(action) {
    try {
      ctx.notify(await action());
      state.selected.clear();
      await ctx.refresh();
    } catch (error) {
      ctx.handleError(error);
    }
  }

  return {
    show: () => refresh().catch(ctx.handleError),
    refresh,
    render,
  };
}
