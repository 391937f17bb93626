// The clock bar: the mock's virtual time, its mode, and the buttons that move it.

import { post, put } from './api.js';
import { byId, formatDuration, formatTime, relative } from './dom.js';

export function createClock(ctx) {
  let shownMode = null;
  const buttons = () => [...byId('clock').querySelectorAll('button')];

  /** Runs one clock action, reports what it did, and refreshes the page. */
  async function act(label, action) {
    for (const button of buttons()) {
      button.disabled = true;
    }
    try {
      const report = await action();
      ctx.notify(describe(label, report));
      await ctx.refresh();
    } catch (error) {
      ctx.handleError(error);
    } finally {
      for (const button of buttons()) {
        button.disabled = false;
      }
    }
  }

  for (const button of byId('clock').querySelectorAll('[data-advance]')) {
    const by = button.dataset.advance;
    button.addEventListener('click', () =>
      act(`Advanced ${by}`, () => post('/__mock/clock/advance', { by })),
    );
  }
  byId('clock-next-event').addEventListener('click', () =>
    act('Ran the next event', () => post('/__mock/clock/next')),
  );
  byId('clock-idle').addEventListener('click', () =>
    act('Ran until idle', () => post('/__mock/clock/run-until-idle', {})),
  );
  byId('clock-mode-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const mode = byId('clock-mode-select').value;
    const body = mode === 'running' ? { mode, speed: Number(byId('clock-speed').value) } : { mode };
    act(`Clock set to ${mode}`, () => put('/__mock/clock/mode', body));
  });

  function render(clock) {
    const now = byId('clock-now');
    now.textContent = formatTime(clock.now);
    now.dateTime = new Date(clock.now).toISOString();
    byId('clock-mode').textContent =
      clock.mode === 'running' ? `running ×${clock.speed}` : 'frozen';
    byId('clock-mode').className = `badge mode-${clock.mode}`;
    byId('clock-next').textContent =
      typeof clock.nextDueAt === 'number'
        ? `next work ${relative(clock.nextDueAt, clock.now)}`
        : 'nothing scheduled';
    // The form follows the mock only when its mode changes, so a poll never undoes a
    // choice the user has not submitted yet.
    const mode = `${clock.mode} ${clock.speed ?? ''}`;
    if (mode !== shownMode) {
      shownMode = mode;
      byId('clock-mode-select').value = clock.mode;
      if (clock.mode === 'running') {
        byId('clock-speed').value = String(clock.speed);
      }
    }
    byId('dlq-count').textContent = String(clock.dlqCount ?? '');
    byId('messages-count').textContent = String(clock.messageCount ?? '');
  }

  return { render };
}

/** One line about an advance report, or about the clock after a mode change. */
function describe(label, report) {
  if (report && typeof report.to === 'number') {
    const events = report.events?.length ?? 0;
    const moved = report.to === report.from ? 'no time passed' : formatDuration(report.to - report.from);
    return `${label}: now ${formatTime(report.to)} (${moved}); ${report.attempts} attempts, ${events} events.`;
  }
  return `${label}.`;
}
