// The HTTP API (docs/http-api.md) and its live feed. With ?token=... in the page's URL, GETs
// (and the EventSource, which cannot send headers) carry it as a query parameter; POST and
// DELETE send it as `Authorization: Bearer`.

const token = new URLSearchParams(location.search).get('token');
/** Where the API is: beside this module's folder (the server may mount everything under a prefix). */
const BASE = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** An API error, with the server's code (NOT_FOUND, CONFLICT, ...) and HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function withToken(path) {
  if (!token) return path;
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

async function request(method, path, body) {
  const init = { method, headers: {} };
  if (method === 'GET') path = withToken(path);
  else if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(BASE + path, init);
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? 'HTTP_ERROR', data?.error?.message ?? `${method} ${path}: HTTP ${res.status}`);
  return data;
}

/** A query string of the non-empty values. */
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  queues: () => request('GET', '/api/queues'),
  workers: () => request('GET', '/api/workers'),
  counters: () => request('GET', '/api/counters'),
  throughput: () => request('GET', '/api/throughput'),
  tasks: (filters) => request('GET', `/api/tasks${query(filters)}`),
  task: (id) => request('GET', `/api/tasks/${encodeURIComponent(id)}`),
  retry: (id) => request('POST', `/api/tasks/${encodeURIComponent(id)}/retry`, {}),
  revoke: (id, options) => request('POST', `/api/tasks/${encodeURIComponent(id)}/revoke`, options),
  purge: (queue) => request('DELETE', `/api/queues/${encodeURIComponent(queue)}/jobs`),
};

// ---- live data: the latest snapshot, and listeners for snapshots and job events ----

/** What the overview shows; filled by the first GETs, then by each `snapshot` event. */
export const live = { queues: null, workers: null, counters: null, throughput: null };

const snapshotListeners = new Set();
const jobListeners = new Set();

/** Call `fn()` after every change of {@link live}; answers the unsubscribe function. */
export function onSnapshot(fn) {
  snapshotListeners.add(fn);
  return () => snapshotListeners.delete(fn);
}

/**
 * Call `fn(event)` for every job event `{ id, task, queue, state, at }`, and with `{ resync: true }`
 * after the feed reconnects; answers the unsubscribe function.
 */
export function onJob(fn) {
  jobListeners.add(fn);
  return () => jobListeners.delete(fn);
}

function applySnapshot(data) {
  if (data.queues) live.queues = data.queues;
  if (data.workers) live.workers = data.workers;
  if (data.counters) live.counters = data.counters;
  if (data.throughput) live.throughput = data.throughput;
  for (const fn of snapshotListeners) fn();
}

/** Load the overview once (so the page fills before the first event), then follow the feed. */
export async function connect(setStatus) {
  const source = new EventSource(BASE + withToken('/api/events'));
  let reopened = false;
  source.addEventListener('open', () => {
    setStatus('live');
    // Back after a drop: events were missed, so every view reloads what it shows.
    if (reopened) for (const fn of jobListeners) fn({ resync: true });
    reopened = true;
  });
  source.addEventListener('error', () => setStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  source.addEventListener('snapshot', (e) => applySnapshot(JSON.parse(e.data)));
  source.addEventListener('job', (e) => {
    const event = JSON.parse(e.data);
    for (const fn of jobListeners) fn(event);
  });
  const [queues, workers, counters, throughput] = await Promise.all([api.queues(), api.workers(), api.counters(), api.throughput()]);
  // A snapshot that arrived meanwhile is newer: keep it.
  applySnapshot({
    queues: live.queues ?? queues.queues,
    workers: live.workers ?? workers.workers,
    counters: live.counters ?? counters,
    throughput: live.throughput ?? throughput,
  });
}
