// A task's page (#/tasks/<id>): what it was asked to do, what came of it, every delivery, its
// workflow links (parent, callbacks, chord, steps), and the retry and revoke actions.

import { api, onJob } from './api.js';
import { confirmDialog } from './dialogs.js';
import { ago, badge, dateTime, duration, elapsed, FINAL, h, json, meter, replace, taskHref, toast } from './dom.js';

/** While a job runs, its progress is read this often (progress reports are not job events). */
const RUNNING_POLL_MS = 2000;

const OUTCOMES = {
  retry: ['RETRY', 'retried'],
  lost: ['FAILURE', 'lease lost'],
  released: ['PENDING', 'released'],
  STARTED: ['STARTED', 'running'],
  SUCCESS: ['SUCCESS', 'succeeded'],
  FAILURE: ['FAILURE', 'failed'],
  REVOKED: ['REVOKED', 'revoked'],
};

function card(title, testid, ...body) {
  const id = `h-${testid}`;
  return h('section', { class: 'card span-12', 'aria-labelledby': id, 'data-testid': testid },
    h('div', { class: 'card-head' }, h('h2', { id }, title)), ...body);
}

function fact(label, value, testid) {
  return h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testid }, value ?? h('span', { class: 'faint' }, '—')));
}

function facts(t) {
  const runtime = t.runtimeMs ?? (t.startedAt && t.finishedAt ? t.finishedAt - t.startedAt : null);
  return h('dl', { class: 'facts' },
    fact('Queue', h('a', { href: `#/tasks?queue=${encodeURIComponent(t.queue)}` }, t.queue)),
    fact('Priority', String(t.priority ?? 0)),
    fact('Attempts', String(t.attempts ?? 0), 'fact-attempts'),
    fact('Deliveries', String(t.deliveries ?? 0)),
    fact('Fencing token', t.fencingToken != null ? h('span', { class: 'mono' }, String(t.fencingToken)) : null, 'fact-token'),
    fact('Worker', t.worker && h('span', { class: 'mono' }, t.worker), 'fact-worker'),
    fact('Enqueued', t.enqueuedAt && [dateTime(t.enqueuedAt), h('div', { class: 'sub muted' }, ago(t.enqueuedAt))]),
    fact('Run at', t.runAt && t.runAt !== t.enqueuedAt ? dateTime(t.runAt) : t.runAt ? 'at once' : null),
    fact('Started', t.startedAt && dateTime(t.startedAt)),
    fact('Finished', t.finishedAt && dateTime(t.finishedAt)),
    fact('Runtime', runtime != null ? duration(runtime) : t.state === 'STARTED' && t.startedAt ? ['running for ', elapsed(t.startedAt)] : null),
    fact('Expires', t.expiresAt && dateTime(t.expiresAt)),
    fact('Idempotency key', t.idempotencyKey && h('span', { class: 'mono' }, t.idempotencyKey)));
}

function errorBlock(error) {
  return h('div', { 'data-testid': 'task-error' },
    h('div', { class: 'error-box' },
      h('span', { class: 'error-type' }, error.type ?? 'Error'), error.code && h('span', { class: 'chip', style: { marginLeft: '8px' } }, error.code),
      h('div', { class: 'error-msg' }, error.message)),
    error.stack && h('details', { open: true }, h('summary', {}, 'Stack trace'), h('pre', { class: 'code', 'data-testid': 'task-stack' }, error.stack)));
}

/** Earlier deliveries, then the current (or last) one when it is not among them. */
function deliveries(t) {
  const rows = (t.history ?? []).map((d) => ({ ...d, outcomeKey: d.outcome }));
  const current = t.fencingToken > 0 && !rows.some((d) => d.token === t.fencingToken) && t.state !== 'PENDING' && t.state !== 'RETRY';
  if (current) rows.push({ token: t.fencingToken, attempt: t.attempts, worker: t.worker, startedAt: t.startedAt, endedAt: t.finishedAt, outcomeKey: t.state, error: t.state === 'FAILURE' ? t.error : null });
  if (!rows.length) return h('p', { class: 'empty' }, 'Not delivered to a worker yet.');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Token', 'Attempt', 'Worker', 'Started', 'Took', 'Outcome'].map((c) => h('th', { scope: 'col', class: c === 'Attempt' ? 'num' : null }, c)))),
    h('tbody', {}, rows.map((d) => {
      const [state, label] = OUTCOMES[d.outcomeKey] ?? ['PENDING', d.outcomeKey];
      return h('tr', { 'data-testid': 'delivery-row' },
        h('td', { class: 'mono' }, String(d.token)),
        h('td', { class: 'num' }, String(d.attempt ?? '—')),
        h('td', { class: 'mono ellipsis' }, d.worker ?? '—'),
        h('td', { class: 'nowrap' }, d.startedAt ? dateTime(d.startedAt) : '—'),
        h('td', { class: 'nowrap' }, d.startedAt && d.endedAt ? duration(d.endedAt - d.startedAt) : d.startedAt ? elapsed(d.startedAt) : '—'),
        h('td', {}, h('span', { class: 'outcome', 'data-state': state }, label),
          d.error && h('div', { class: 'sub muted ellipsis', title: d.error.message }, `${d.error.type}: ${d.error.message}`)));
    }))));
}

function links(t) {
  const out = [];
  if (t.parent) {
    out.push(card('Parent', 'task-parent', h('div', { class: 'card-body' },
      h('a', { href: taskHref(t.parent.id) }, t.parent.task ?? t.parent.id), ' ', t.parent.state && badge(t.parent.state),
      h('div', { class: 'sub muted mono' }, t.parent.id))));
  }
  if (t.callbacks?.length) {
    out.push(card('Callbacks', 'task-callbacks', h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['On', 'Task', 'Id', 'Queue'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, t.callbacks.map((c) => h('tr', {},
        h('td', {}, h('span', { class: 'chip' }, c.on)), h('td', {}, c.task),
        h('td', {}, h('a', { class: 'mono', href: taskHref(c.id) }, c.id)), h('td', {}, c.queue))))))));
  }
  if (t.chord) {
    out.push(card('Chord', 'task-chord', h('div', { class: 'card-body' },
      `Member ${t.chord.index + 1} of ${t.chord.size}. When all are final, the callback `,
      h('a', { class: 'mono', href: taskHref(t.chord.callbackId) }, t.chord.callbackId), ' runs once with their results.')));
  }
  if (t.steps?.length) {
    out.push(card('Steps', 'task-steps', h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Step', 'Result', 'Token', 'Recorded'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, t.steps.map((s) => h('tr', {},
        h('td', { class: 'mono' }, s.name), h('td', { class: 'mono ellipsis', title: JSON.stringify(s.result) }, JSON.stringify(s.result)),
        h('td', { class: 'mono' }, String(s.token)), h('td', { class: 'nowrap' }, ago(s.recordedAt)))))))));
  }
  return out;
}

async function retry(t, reload) {
  try {
    await api.retry(t.id);
    toast('Sent again: the job is back in its queue.');
  } catch (err) {
    toast(`Retry failed: ${err.message}`, 'error');
  }
  reload();
}

async function revoke(t, reload) {
  const values = await confirmDialog({
    title: `Revoke ${t.task}?`,
    body: t.state === 'STARTED' ? 'It is running now: its result will be refused. Terminate also aborts the handler (ctx.signal).' : 'It will not run.',
    confirmLabel: 'Revoke',
    danger: true,
    testid: 'revoke-dialog',
    fields: [
      { type: 'checkbox', name: 'terminate', label: 'Terminate if running', help: 'Aborts the running handler’s ctx.signal.' },
      { type: 'text', name: 'reason', label: 'Reason (optional)', placeholder: 'shown in the error' },
    ],
  });
  if (!values) return;
  try {
    await api.revoke(t.id, { terminate: values.terminate, ...(values.reason ? { reason: values.reason } : {}) });
    toast('Revoked.');
  } catch (err) {
    toast(`Revoke failed: ${err.message}`, 'error');
  }
  reload();
}

function page(t, reload) {
  const final = FINAL.has(t.state);
  const progress = t.progress;
  return [
    h('div', { class: 'crumbs' }, h('a', { href: '#/tasks' }, 'Tasks'), ' / ', h('a', { href: `#/tasks?task=${encodeURIComponent(t.task)}` }, t.task)),
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { 'data-testid': 'task-name' }, t.task),
        h('div', { class: 'subtitle' }, h('span', { 'data-testid': 'task-state' }, badge(t.state, true)), h('span', { class: 'id', 'data-testid': 'task-id' }, t.id))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn primary', disabled: t.state !== 'FAILURE' && t.state !== 'REVOKED', 'data-testid': 'retry-button', 'data-focus-key': 'retry',
          title: 'Send a failed or revoked job again, with a fresh retry budget', onclick: () => retry(t, reload) }, 'Retry'),
        h('button', { type: 'button', class: 'btn danger', disabled: final, 'data-testid': 'revoke-button', 'data-focus-key': 'revoke',
          title: 'Cancel this job', onclick: () => revoke(t, reload) }, 'Revoke'))),
    h('div', { class: 'grid' },
      progress && card('Progress', 'task-progress', h('div', { class: 'card-body' }, meter(progress.fraction, 'Progress', true),
        progress.info != null && h('pre', { class: 'code', style: { marginTop: '10px' } }, json(progress.info)),
        h('div', { class: 'sub muted' }, 'reported ', ago(progress.at)))),
      card('Details', 'task-facts', facts(t)),
      t.error && card('Error', 'task-error-card', h('div', { class: 'card-body' }, errorBlock(t.error))),
      h('section', { class: 'card span-6', 'aria-labelledby': 'h-args' }, h('div', { class: 'card-head' }, h('h2', { id: 'h-args' }, 'Arguments')),
        h('div', { class: 'card-body' }, h('pre', { class: 'code', 'data-testid': 'task-args' }, json(t.args)))),
      h('section', { class: 'card span-6', 'aria-labelledby': 'h-result' }, h('div', { class: 'card-head' }, h('h2', { id: 'h-result' }, 'Result')),
        h('div', { class: 'card-body' }, t.state === 'SUCCESS'
          ? h('pre', { class: 'code', 'data-testid': 'task-result' }, json(t.result))
          : h('p', { class: 'muted' }, final ? 'No result: the job did not succeed.' : 'Not finished yet.'))),
      card('Deliveries', 'task-deliveries', deliveries(t)),
      links(t)),
  ];
}

/** Mount the page of task `id` in `root`; answers the function that unmounts it. */
export function mount(root, id) {
  let seq = 0;
  let timer = null;
  let poll = null;
  replace(root, h('p', { class: 'notice' }, 'Loading…'));

  async function load() {
    const mine = ++seq;
    try {
      const t = await api.task(id);
      if (mine !== seq) return;
      replace(root, h('article', { 'data-testid': 'task-detail', 'data-state': t.state, 'aria-label': `Task ${t.task}` }, page(t, load)));
      document.title = `${t.task} · ${t.state} · Conveyor`;
      clearTimeout(poll);
      if (t.state === 'STARTED') poll = setTimeout(load, RUNNING_POLL_MS);
    } catch (err) {
      if (mine !== seq) return;
      replace(root, h('div', { class: 'notice', 'data-testid': 'task-missing' },
        h('h1', {}, err.code === 'NOT_FOUND' ? 'Task not found' : 'Could not load the task'),
        h('p', {}, err.code === 'NOT_FOUND' ? `No job has the id ${id}: it never existed, or its result expired.` : err.message),
        h('a', { href: '#/tasks' }, '← All tasks')));
    }
  }

  const off = onJob((e) => {
    if ((e.id !== id && !e.resync) || timer) return;
    timer = setTimeout(() => { timer = null; load(); }, 100);
  });
  load();
  return () => {
    off();
    clearTimeout(timer);
    clearTimeout(poll);
    seq++;
  };
}
