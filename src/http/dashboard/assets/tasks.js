// The task list (#/tasks?state=&queue=&task=): filters, newest first, paged by cursor, and
// refreshed live when a job event concerns what it shows.

import { api, live, onJob, onSnapshot } from './api.js';
import { ago, badge, duration, h, meter, replace, shortId, STATES, taskHref, toast } from './dom.js';

const PAGE_SIZE = 25;
/** Job events arrive in bursts; refresh at most this often. */
const REFRESH_MS = 400;

function filtersFrom(params) {
  return { state: params.get('state') ?? '', queue: params.get('queue') ?? '', task: params.get('task') ?? '' };
}

function progressOf(t) {
  const p = t.progress;
  return p == null ? null : typeof p === 'number' ? p : p.fraction;
}

function row(t) {
  const fraction = progressOf(t);
  return h('tr', { class: 'clickable', 'data-testid': 'task-row', 'data-id': t.id, 'data-state': t.state, onclick: (e) => {
    if (!(e.target instanceof Element && e.target.closest('a'))) location.hash = taskHref(t.id);
  } },
    h('td', {}, badge(t.state)),
    h('td', {}, h('a', { href: taskHref(t.id), 'data-testid': 'task-link' }, t.task), h('div', { class: 'sub' }, shortId(t.id))),
    h('td', { class: 'hide-sm' }, h('span', { class: 'chip' }, t.queue)),
    h('td', { class: 'num hide-sm' }, t.attempts ?? '—'),
    h('td', { class: 'hide-sm ellipsis mono' }, t.worker ?? h('span', { class: 'faint' }, '—')),
    h('td', { class: 'nowrap' }, ago(t.enqueuedAt)),
    h('td', { class: 'num nowrap' }, t.state === 'STARTED' && fraction != null ? meter(fraction, `Progress of ${t.id}`) : duration(t.runtimeMs)));
}

function table(tasks) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('caption', { class: 'visually-hidden' }, 'Tasks, newest first'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Task'), h('th', { scope: 'col', class: 'hide-sm' }, 'Queue'),
      h('th', { scope: 'col', class: 'num hide-sm' }, 'Attempts'), h('th', { scope: 'col', class: 'hide-sm' }, 'Worker'),
      h('th', { scope: 'col' }, 'Enqueued'), h('th', { scope: 'col', class: 'num' }, 'Runtime'))),
    h('tbody', {}, tasks.map(row))));
}

function selectField(label, name, value, options, testid) {
  const values = value && !options.includes(value) ? [...options, value] : options;
  return h('label', { class: 'field' }, label,
    h('select', { name, 'data-testid': testid, 'data-focus-key': testid },
      h('option', { value: '' }, `All ${label.toLowerCase()}s`),
      values.map((v) => h('option', { value: v, selected: v === value }, v))));
}

/** Mount the list in `root` with the hash's query `params`; answers the function that unmounts it. */
export function mount(root, params) {
  let filters = filtersFrom(params);
  /** Cursors of the pages before this one; the current page's cursor is `cursor`. */
  const previous = [];
  let cursor = null;
  let nextCursor = null;
  let shown = new Set();
  let seq = 0;
  let timer = null;

  const body = h('div', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', { class: 'notice' }, 'Loading…'));
  const pageInfo = h('span', {});
  const newer = h('button', { type: 'button', class: 'btn small', 'data-testid': 'page-newer', onclick: () => go(previous.pop() ?? null) }, '← Newer');
  const older = h('button', { type: 'button', class: 'btn small', 'data-testid': 'page-older', onclick: () => { previous.push(cursor); go(nextCursor); } }, 'Older →');
  const queueSlot = h('div', {});
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter tasks', onsubmit: (e) => { e.preventDefault(); apply(); } },
    selectField('State', 'state', filters.state, STATES, 'filter-state'),
    queueSlot,
    h('label', { class: 'field' }, 'Task name',
      h('input', { type: 'search', name: 'task', value: filters.task, placeholder: 'email.send_welcome', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'filter-task' })));
  let queueNames = null;
  const drawQueues = () => {
    const names = (live.queues ?? []).map((q) => q.name).sort();
    if (names.join('\n') === queueNames) return; // redraw only when a queue appears or goes
    queueNames = names.join('\n');
    replace(queueSlot, selectField('Queue', 'queue', form.elements.namedItem('queue')?.value ?? filters.queue, names, 'filter-queue'));
  };
  drawQueues();

  replace(root,
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Tasks'), h('div', { class: 'subtitle' }, 'Newest first; updates live.'))),
    h('section', { class: 'card', 'aria-label': 'Task list', 'data-testid': 'task-list' }, form, body,
      h('div', { class: 'pager' }, pageInfo, h('div', { class: 'btns' }, newer, older))));

  async function load() {
    const mine = ++seq;
    body.setAttribute('aria-busy', 'true');
    try {
      const page = await api.tasks({ ...filters, limit: PAGE_SIZE, cursor });
      if (mine !== seq) return;
      nextCursor = page.nextCursor;
      shown = new Set(page.tasks.map((t) => t.id));
      const active = filters.state || filters.queue || filters.task;
      replace(body, page.tasks.length ? table(page.tasks)
        : h('p', { class: 'empty', 'data-testid': 'task-list-empty' }, active ? 'No task matches these filters.' : 'No tasks yet.'));
      pageInfo.textContent = `Page ${previous.length + 1}`;
      newer.disabled = cursor === null;
      older.disabled = !nextCursor;
    } catch (err) {
      if (mine === seq) replace(body, h('p', { class: 'empty' }, `Could not load tasks: ${err.message}`));
    } finally {
      if (mine === seq) body.setAttribute('aria-busy', 'false');
    }
  }

  function go(to) {
    cursor = to;
    load();
  }

  function apply() {
    const data = new FormData(form);
    filters = { state: String(data.get('state') ?? ''), queue: String(data.get('queue') ?? ''), task: String(data.get('task') ?? '').trim() };
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    history.replaceState(null, '', `#/tasks${q ? `?${q}` : ''}`); // no hashchange: the form keeps focus
    previous.length = 0;
    go(null);
  }

  let typing = null;
  form.addEventListener('change', (e) => { if (e.target.name !== 'task') apply(); });
  form.addEventListener('input', (e) => {
    if (e.target.name !== 'task') return;
    clearTimeout(typing);
    typing = setTimeout(apply, 300);
  });

  const matches = (e) => e.resync || shown.has(e.id) || ((!filters.state || filters.state.split(',').includes(e.state)) && (!filters.queue || filters.queue === e.queue) && (!filters.task || filters.task === e.task));
  const offJob = onJob((e) => {
    if (!matches(e) || timer) return;
    timer = setTimeout(() => { timer = null; load(); }, REFRESH_MS);
  });
  const offSnap = onSnapshot(drawQueues);
  load().catch((err) => toast(err.message, 'error'));
  return () => {
    offJob();
    offSnap();
    clearTimeout(timer);
    clearTimeout(typing);
    seq++;
  };
}
