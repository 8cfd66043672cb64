// DOM and formatting helpers. Everything is built with createElement, never innerHTML, so task
// names, args and error messages can never inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The job states, in the order the page lists them (as src/states.ts). */
export const STATES = ['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];
export const FINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

function build(el, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'style') Object.assign(el.style, value); // CSSOM, allowed by the page's CSP
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: h('a', { href: '#/' }, 'text', otherNode). Null and false children are skipped. */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

/** An SVG element, as {@link h}. */
export function svg(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

/**
 * Replace a container's children, keeping keyboard focus on the element with the same
 * `data-focus-key` (live updates re-render sections; a focused button should stay focused).
 */
export function replace(container, ...children) {
  const key = container.contains(document.activeElement) ? document.activeElement?.getAttribute('data-focus-key') : null;
  container.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false));
  if (key) container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}

/** A state badge. */
export function badge(state, big = false) {
  return h('span', { class: big ? 'badge big' : 'badge', 'data-state': state, 'data-testid': 'state-badge' }, state);
}

/** A progress meter (fraction 0..1) with its percentage. */
export function meter(fraction, label, big = false) {
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return h('div', { class: 'progress' },
    h('div', { class: big ? 'meter big' : 'meter', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, 'data-testid': 'progress' },
      h('span', { style: { width: `${pct}%` } })),
    h('span', { class: 'num muted' }, `${pct}%`));
}

/** A <time> that says how long ago `ms` was, kept current by {@link tickAges}. */
export function ago(ms) {
  if (ms == null) return h('span', { class: 'faint' }, '—');
  return h('time', { datetime: new Date(ms).toISOString(), title: dateTime(ms), 'data-ago': ms }, agoText(ms));
}

/** How long since `ms` (a running job's time so far), kept current by {@link tickAges}. */
export function elapsed(ms) {
  return h('span', { title: `since ${dateTime(ms)}`, 'data-since': ms }, span(Math.max(0, Date.now() - ms)));
}

/** Refresh every {@link ago} and {@link elapsed} on the page (called once a second). */
export function tickAges() {
  for (const el of document.querySelectorAll('[data-ago]')) el.textContent = agoText(Number(el.dataset.ago));
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = span(Math.max(0, Date.now() - Number(el.dataset.since)));
}

export function agoText(ms) {
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < -1) return `in ${span(-s * 1000)}`;
  if (s < 2) return 'just now';
  return `${span(s * 1000)} ago`;
}

/** A coarse span: 42s, 3m 05s, 2h 10m, 3d 4h. */
export function span(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** A precise duration: 12 ms, 1.24 s, then as {@link span}. */
export function duration(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return span(ms);
}

export function dateTime(ms) {
  if (ms == null) return '—';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** Thousands separators. */
export function count(n) {
  return (n ?? 0).toLocaleString();
}

/** Pretty JSON of any value; `undefined` reads as nothing. */
export function json(value) {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** The first 8 characters of an id, the whole id in the tooltip. */
export function shortId(id) {
  return h('span', { class: 'mono', title: id }, id.length > 12 ? `${id.slice(0, 8)}…` : id);
}

/** The href of a task's page. */
export function taskHref(id) {
  return `#/tasks/${encodeURIComponent(id)}`;
}

/** Show a short message in the corner for a few seconds (announced to screen readers). */
export function toast(message, kind = 'info') {
  const el = h('div', { class: kind === 'error' ? 'toast error' : 'toast', 'data-testid': 'toast' }, message);
  document.querySelector('.toasts')?.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 7000 : 3500);
}
