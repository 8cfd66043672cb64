// The overview (#/): totals, throughput, queues, workers and the exactly-once counters, all
// re-rendered from each snapshot of the live feed.

import { api, live, onSnapshot } from './api.js';
import { throughputChart, throughputLegend } from './chart.js';
import { confirmDialog } from './dialogs.js';
import { ago, count, elapsed, h, replace, span, STATES, taskHref, toast } from './dom.js';

/** The counters of src/store/store.ts COUNTERS, with what each one means. */
const COUNTERS = [
  ['duplicates_suppressed_total', 'Duplicates suppressed', 'Enqueues that created nothing: the id or idempotency key was already held.'],
  ['steps_replayed_total', 'Steps replayed', 'ctx.step calls answered from the record instead of running again.'],
  ['stale_writes_refused_total', 'Stale writes refused', 'Writes refused because a newer delivery had replaced the writer.'],
  ['callbacks_deduplicated_total', 'Callbacks deduplicated', 'Callbacks and chord results not enqueued again because they already were.'],
  ['double_release_total', 'Double releases', 'Pool releases of an item the releaser no longer held.'],
  ['pool_items_reclaimed_total', 'Pool items reclaimed', 'Pool items returned because their holder’s lease lapsed.'],
];

/** A heartbeat older than this is late (amber), older than LOST_MS probably gone (red). */
const LATE_MS = 10_000;
const LOST_MS = 30_000;

function section(title, testid, span = 'span-12') {
  const meta = h('span', { class: 'meta' });
  const right = h('div', { class: 'right' });
  const body = h('div', {});
  const id = `h-${testid}`;
  const el = h('section', { class: `card ${span}`, 'aria-labelledby': id, 'data-testid': testid },
    h('div', { class: 'card-head' }, h('h2', { id }, title), meta, right), body);
  return { el, meta, right, body };
}

function tiles(queues, workers) {
  const sum = (states) => queues.reduce((s, q) => s + states.reduce((t, st) => t + (q.counts[st] ?? 0), 0), 0);
  const tile = (label, value, state, testid) => h('div', { class: 'card tile', 'data-testid': testid },
    h('div', { class: 'tile-label', 'data-state': state }, state && h('i', { class: 'dot', 'aria-hidden': 'true' }), label),
    h('div', { class: 'tile-value' }, count(value)));
  return [
    tile('Waiting', sum(['PENDING', 'RETRY']), 'PENDING', 'tile-waiting'),
    tile('Running', sum(['STARTED']), 'STARTED', 'tile-running'),
    tile('Succeeded', sum(['SUCCESS']), 'SUCCESS', 'tile-succeeded'),
    tile('Failed', sum(['FAILURE']), 'FAILURE', 'tile-failed'),
    tile('Workers', workers.length, null, 'tile-workers'),
  ];
}

async function purge(queue, waiting) {
  const ok = await confirmDialog({
    title: `Purge queue “${queue}”?`,
    body: `This deletes its ${count(waiting)} waiting job${waiting === 1 ? '' : 's'} (PENDING and RETRY) for good. Running and finished jobs stay.`,
    confirmLabel: 'Purge',
    danger: true,
    testid: 'purge-dialog',
  });
  if (!ok) return;
  try {
    const { purged } = await api.purge(queue);
    toast(`Purged ${count(purged)} job${purged === 1 ? '' : 's'} from ${queue}`);
  } catch (err) {
    toast(`Purge failed: ${err.message}`, 'error');
  }
}

function queueRow(q) {
  const total = STATES.reduce((s, st) => s + (q.counts[st] ?? 0), 0);
  const waiting = (q.counts.PENDING ?? 0) + (q.counts.RETRY ?? 0);
  const link = (state) => `#/tasks?queue=${encodeURIComponent(q.name)}${state ? `&state=${state}` : ''}`;
  return h('tr', { 'data-testid': 'queue-row', 'data-queue': q.name },
    h('th', { scope: 'row' }, h('a', { href: link() }, q.name), h('div', { class: 'sub' }, `${count(total)} jobs`)),
    h('td', { class: 'hide-sm' }, h('div', { class: 'statebar', role: 'img', 'aria-label': STATES.map((s) => `${q.counts[s] ?? 0} ${s}`).join(', ') },
      STATES.filter((s) => q.counts[s] > 0).map((s) => h('span', { 'data-state': s, style: { flexGrow: String(q.counts[s]) } })))),
    STATES.map((s) => h('td', { class: 'num', 'data-state': s },
      h('a', { class: q.counts[s] ? 'count' : 'count zero', href: link(s), 'data-testid': `count-${s}`, 'aria-label': `${q.counts[s] ?? 0} ${s} in ${q.name}` }, count(q.counts[s])))),
    h('td', { class: 'num nowrap' }, q.oldestAgeMs != null ? span(q.oldestAgeMs) : h('span', { class: 'faint' }, '—')),
    h('td', { class: 'num' }, h('button', {
      class: 'btn small danger', type: 'button', disabled: waiting === 0, 'data-testid': 'purge-button', 'data-focus-key': `purge:${q.name}`,
      'aria-label': `Purge waiting jobs of ${q.name}`, onclick: () => purge(q.name, waiting),
    }, 'Purge')));
}

function queuesTable(queues) {
  if (!queues.length) return h('p', { class: 'empty' }, 'No queues yet: enqueue a task and it shows here.');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Queue'), h('th', { scope: 'col', class: 'hide-sm' }, h('span', { class: 'visually-hidden' }, 'Share by state')),
      STATES.map((s) => h('th', { scope: 'col', class: 'num', 'data-state': s }, s)),
      h('th', { scope: 'col', class: 'num', title: 'How long the job at the head of the queue has waited' }, 'Head wait'),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
    h('tbody', {}, [...queues].sort((a, b) => a.name.localeCompare(b.name)).map(queueRow))));
}

function heartbeat(lastSeenAt) {
  const age = Date.now() - lastSeenAt;
  return h('span', { class: age > LOST_MS ? 'hb lost' : age > LATE_MS ? 'hb late' : 'hb' }, ago(lastSeenAt));
}

function workerRow(w) {
  const active = w.active ?? [];
  const counts = w.counts ?? {};
  return h('tr', { 'data-testid': 'worker-row', 'data-worker': w.id },
    h('th', { scope: 'row' }, h('span', { class: 'mono' }, w.id), h('div', { class: 'sub' }, `${w.hostname} · pid ${w.pid} · up ${span(Math.max(0, w.lastSeenAt - w.startedAt))}`),
      w.pool && h('div', { class: 'sub', 'data-testid': 'worker-pool' }, poolText(w.pool))),
    h('td', {}, h('div', { class: 'chips' }, (w.queues ?? []).map((q) => h('span', { class: 'chip' }, q)))),
    h('td', {}, heartbeat(w.lastSeenAt)),
    h('td', {}, h('div', { class: 'progress' },
      h('div', { class: 'meter', role: 'meter', 'aria-label': `${active.length} of ${w.concurrency} slots busy`, 'aria-valuemin': 0, 'aria-valuemax': w.concurrency, 'aria-valuenow': active.length },
        h('span', { style: { width: `${Math.min(100, (active.length / Math.max(1, w.concurrency)) * 100)}%` } })),
      h('span', { class: 'num muted nowrap' }, `${active.length} / ${w.concurrency}`))),
    h('td', {}, active.length
      ? h('div', { class: 'chips' }, active.slice(0, 6).map((j) => h('a', { class: 'chip', href: taskHref(j.id), title: j.id }, j.task, ' · ', elapsed(j.startedAt))),
        active.length > 6 && h('span', { class: 'chip' }, `+${active.length - 6}`))
      : h('span', { class: 'faint' }, 'idle')),
    h('td', { class: 'num nowrap' }, h('span', { 'data-state': 'SUCCESS' }, count(counts.succeeded ?? 0)), h('span', { class: 'faint' }, ' / '),
      h('span', { 'data-state': 'FAILURE' }, count(counts.failed ?? 0))));
}

/** "processes ×4 · 2 recycled · 1 crashed", or "inline · loop blocked 3× (12.5 s)". */
function poolText(pool) {
  const parts = [pool.kind === 'inline' ? 'inline' : `${pool.kind} ×${pool.children.length}`];
  if (pool.recycled) parts.push(`${count(pool.recycled)} recycled`);
  if (pool.crashed) parts.push(`${count(pool.crashed)} crashed`);
  if (pool.blocked?.count) parts.push(`loop blocked ${count(pool.blocked.count)}× (${pool.blocked.seconds.toFixed(1)} s)`);
  return parts.join(' · ');
}

function workersTable(workers) {
  if (!workers.length) return h('p', { class: 'empty' }, 'No worker has sent a heartbeat lately. Start one with: npx conveyor worker --app ./tasks.ts');
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Worker', 'Queues', 'Heartbeat', 'Load', 'Running now'].map((t) => h('th', { scope: 'col' }, t)),
      h('th', { scope: 'col', class: 'num', title: 'Jobs succeeded / failed since it started' }, 'Done'))),
    h('tbody', {}, [...workers].sort((a, b) => a.id.localeCompare(b.id)).map(workerRow))));
}

function countersList(counters) {
  return h('ul', { class: 'counters' }, COUNTERS.map(([name, label, help]) => h('li', { class: 'counter', title: `${name}: ${help}`, 'data-testid': `counter-${name}` },
    h('div', { class: 'counter-label' }, label, h('span', { class: 'visually-hidden' }, ` (${name}): ${help}`)),
    h('div', { class: counters[name] ? 'counter-value' : 'counter-value zero' }, count(counters[name] ?? 0)))));
}

/** Mount the overview in `root`; answers the function that unmounts it. */
export function mount(root) {
  const top = h('div', { class: 'tiles' });
  const tp = section('Throughput', 'throughput', 'span-8');
  const qs = section('Queues', 'queues');
  const ws = section('Workers', 'workers');
  const cs = section('Exactly-once', 'counters', 'span-4');
  cs.meta.textContent = 'all processes';
  tp.meta.textContent = 'jobs finished per 30 s, last 15 minutes';
  tp.el.classList.add('fill'); // as tall as the counters beside it; the chart fills the height
  tp.body.className = 'card-body';
  const chartBox = h('div', { class: 'chart-box' });
  const legend = h('div', {});
  tp.body.append(chartBox, legend);
  replace(root, h('div', { class: 'page-head' }, h('h1', {}, 'Overview')), top, h('div', { class: 'grid' }, tp.el, cs.el, qs.el, ws.el));

  const drawn = {};
  const changed = (key, value) => {
    const text = JSON.stringify(value);
    if (drawn[key] === text) return false;
    drawn[key] = text;
    return true;
  };
  const drawChart = () => replace(chartBox, throughputChart(live.throughput, chartBox.clientWidth || 720, chartBox.clientHeight || 180));
  const render = () => {
    if (!live.queues) return replace(top, h('p', { class: 'notice' }, 'Loading…'));
    const queues = live.queues, workers = live.workers ?? [];
    if (changed('top', [queues, workers.length])) replace(top, tiles(queues, workers));
    if (changed('queues', queues)) {
      replace(qs.body, queuesTable(queues));
      qs.meta.textContent = `${queues.length} queue${queues.length === 1 ? '' : 's'}`;
    }
    if (changed('workers', workers)) {
      replace(ws.body, workersTable(workers));
      ws.meta.textContent = `${workers.length} online`;
    }
    if (live.counters && changed('counters', live.counters)) replace(cs.body, countersList(live.counters));
    if (changed('throughput', live.throughput)) {
      drawChart();
      replace(legend, throughputLegend(live.throughput));
    }
  };
  render();
  const resize = new ResizeObserver(() => drawChart());
  resize.observe(chartBox);
  const off = onSnapshot(render);
  return () => {
    off();
    resize.disconnect();
  };
}
