// The throughput chart: jobs succeeded and failed per bucket over the last 15 minutes, as
// stacked bars in an inline SVG sized to its container (so its text stays crisp).

import { clock, count, h, svg } from './dom.js';

const WINDOW_MS = 15 * 60_000;
const PAD = { top: 10, right: 8, bottom: 24, left: 40 };

/** 1, 2, 5, 10, 20, 50, ...: the smallest at or above `n` (at least 4, so an idle chart has a scale). */
function niceMax(n) {
  let step = 1;
  while (step * 5 < n) step *= 10;
  for (const m of [1, 2, 5, 10]) if (step * m >= Math.max(n, 4)) return step * m;
  return step * 10;
}

/** The buckets of the window, oldest first, from the server's points (missing buckets are zero). */
export function buckets(throughput) {
  const bucketMs = throughput?.bucketMs || 30_000;
  const points = [...(throughput?.points ?? [])].sort((a, b) => a.at - b.at);
  // Time runs on the server's clock: end the window at its latest bucket, not at the browser's now.
  const end = points.length ? points[points.length - 1].at + bucketMs : Math.floor(Date.now() / bucketMs) * bucketMs + bucketMs;
  const n = Math.round(WINDOW_MS / bucketMs);
  const start = end - n * bucketMs;
  const out = Array.from({ length: n }, (_, i) => ({ at: start + i * bucketMs, succeeded: 0, failed: 0 }));
  for (const p of points) {
    const i = Math.floor((p.at - start) / bucketMs);
    if (i < 0 || i >= n) continue;
    out[i].succeeded += p.succeeded ?? 0;
    out[i].failed += p.failed ?? 0;
  }
  return out;
}

/** The chart as an <svg> of `width` x `height` pixels. */
export function throughputChart(throughput, width, height) {
  const data = buckets(throughput);
  const plotW = Math.max(100, width - PAD.left - PAD.right);
  const plotH = height - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(...data.map((d) => d.succeeded + d.failed)));
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const slot = plotW / data.length;
  const barW = Math.max(2, slot * 0.68);
  const ok = data.reduce((s, d) => s + d.succeeded, 0);
  const failed = data.reduce((s, d) => s + d.failed, 0);

  const grid = [0, max / 2, max].map((v) => svg('g', {},
    svg('line', { class: 'grid-line', x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) }),
    svg('text', { class: 'axis', x: PAD.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, Number.isInteger(v) ? count(v) : v.toFixed(1))));

  const bars = data.map((d, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const okH = (d.succeeded / max) * plotH;
    const failH = (d.failed / max) * plotH;
    return svg('g', { class: 'bucket' },
      svg('title', {}, `${clock(d.at)} · ${count(d.succeeded)} succeeded, ${count(d.failed)} failed`),
      svg('rect', { x: PAD.left + i * slot, y: PAD.top, width: slot, height: plotH, fill: 'transparent' }),
      d.succeeded > 0 && svg('rect', { class: 'bar-ok', x, y: y(0) - okH, width: barW, height: okH, rx: Math.min(2, barW / 4) }),
      d.failed > 0 && svg('rect', { class: 'bar-fail', x, y: y(0) - okH - failH, width: barW, height: failH, rx: Math.min(2, barW / 4) }));
  });

  const short = width < 480;
  const labels = [[0, short ? '15m ago' : '15 min ago'], [data.length / 3, short ? '10m' : '10 min'], [(2 * data.length) / 3, short ? '5m' : '5 min'], [data.length, 'now']].map(([i, text], k, all) =>
    svg('text', { class: 'axis', x: PAD.left + i * slot, y: height - 6, 'text-anchor': k === 0 ? 'start' : k === all.length - 1 ? 'end' : 'middle' }, text));

  return svg('svg', {
    class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'data-testid': 'throughput-chart',
    'aria-label': `Throughput over the last 15 minutes: ${count(ok)} succeeded, ${count(failed)} failed`,
  }, grid, bars, labels);
}

/** The legend under the chart: totals and rate. */
export function throughputLegend(throughput) {
  const data = buckets(throughput);
  const ok = data.reduce((s, d) => s + d.succeeded, 0);
  const failed = data.reduce((s, d) => s + d.failed, 0);
  return h('div', { class: 'legend' },
    h('span', { 'data-state': 'SUCCESS' }, h('i', { class: 'dot', 'aria-hidden': 'true' }), `${count(ok)} succeeded`),
    h('span', { 'data-state': 'FAILURE' }, h('i', { class: 'dot', 'aria-hidden': 'true' }), `${count(failed)} failed`),
    h('span', {}, `${((ok + failed) / 15).toFixed(1)} / min`));
}
