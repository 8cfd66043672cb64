/**
 * Summarize a V8 `.cpuprofile` (from `node --cpu-prof`): the functions with the most self time,
 * and the most inclusive time, and self time by file.
 *
 *   node dist/bench/cpuprofile.js <file.cpuprofile> [--top 25] [--match <regexp>]
 *
 * `--match` keeps only samples whose stack contains a function or file matching the regexp
 * (for example `Worker|sqlite-store`), to look at one part of a run.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, match: { type: 'string' } },
});
const file = positionals[0];
if (!file) {
  process.stderr.write('usage: node dist/bench/cpuprofile.js <file.cpuprofile> [--top 25] [--match <regexp>]\n');
  process.exit(2);
}
const top = Number(opts.top);
const match = opts.match === undefined ? undefined : new RegExp(opts.match);

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url: string) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/dist\//, 'dist/');
const keyOf = (n: ProfileNode) => {
  const { functionName, url, lineNumber } = n.callFrame;
  return url ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
};

const self = new Map<string, number>();
const total = new Map<string, number>();
const selfByFile = new Map<string, number>();
let all = 0;
let kept = 0;
profile.samples.forEach((id, i) => {
  const delta = (profile.timeDeltas[i] ?? 0) / 1000; // µs -> ms
  all += delta;
  const stack: ProfileNode[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur)!);
  if (match && !stack.some((n) => match.test(n.callFrame.functionName) || match.test(n.callFrame.url))) return;
  kept += delta;
  const leaf = stack[0]!;
  self.set(keyOf(leaf), (self.get(keyOf(leaf)) ?? 0) + delta);
  const file = leaf.callFrame.url ? shortUrl(leaf.callFrame.url) : leaf.callFrame.functionName;
  selfByFile.set(file, (selfByFile.get(file) ?? 0) + delta);
  for (const key of new Set(stack.map(keyOf))) total.set(key, (total.get(key) ?? 0) + delta);
});

const busy = kept - (self.get('(idle)') ?? 0);
const lines = [`${file}`, `sampled ${all.toFixed(0)} ms; ${match ? `matching ${match}: ${kept.toFixed(0)} ms; ` : ''}busy (not idle) ${busy.toFixed(0)} ms`];
const section = (title: string, map: Map<string, number>) => {
  lines.push('', title, `${'ms'.padStart(9)} ${'%busy'.padStart(6)}  function`);
  for (const [key, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${ms.toFixed(1).padStart(9)} ${((100 * ms) / busy).toFixed(1).padStart(6)}  ${key}`);
  }
};
section('self time by function', self);
section('self time by file', selfByFile);
section('inclusive time by function', total);
process.stdout.on('error', () => process.exit(0)); // piped into head: stop quietly
process.stdout.write(`${lines.join('\n')}\n`);
