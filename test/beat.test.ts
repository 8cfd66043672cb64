/**
 * Beat on every engine: `every` and cron schedules send one job per tick, however many beats
 * run; missed ticks are skipped or caught up; a bad cron expression or timezone is refused at
 * registration. Beats run by `runOnce()` on a fake clock; one test runs two real `conveyor beat`
 * processes on one store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Logger } from 'pino';
import { Beat, Conveyor, InvalidArgumentError, type ScheduleOptions, type Task } from '../src/index.js';
import { STORES } from './crash/processes.js';
import { freshStore } from './fixtures/fresh-store.js';
import { recordingLogger } from './exactly-once/engines.js';
import { silent, T0 } from './helpers.js';

const LIMIT = { timeout: 20_000 };
const root = fileURLToPath(new URL('..', import.meta.url));

/** A store several apps (processes) share: each app opens its own connection to it. */
interface Shared {
  url: string;
  clock: { now: number };
  /** A new app on the store, on the shared fake clock, with the task `ping` registered. */
  app(options?: { logger?: Logger }): { app: Conveyor; ping: Task<[string], string> };
  close(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** The next multiple of `period` after T0. */
const nextMultiple = (t: number, period: number) => (Math.floor(t / period) + 1) * period;

for (const engine of STORES) describe(`beat (${engine.name})`, () => {
  const opened: Shared[] = [];
  const shared = (): Shared => {
    const { url, remove } = freshStore(engine);
    const clock = { now: T0 };
    const apps: Conveyor[] = [];
    const s: Shared = {
      url, clock,
      app(options = {}) {
        const app = new Conveyor({ store: url, clock: () => clock.now, logger: options.logger ?? silent });
        apps.push(app);
        return { app, ping: app.task({ name: 'ping' }, async (_ctx, label: string) => label) };
      },
      async close() {
        await Promise.all(apps.map((a) => a.close()));
        await remove();
      },
    };
    opened.push(s);
    return s;
  };
  const jobs = async (app: Conveyor) => (await app.store.jobsList({ task: 'ping', limit: 5000 })).sort((a, b) => (a.idempotencyKey! < b.idempotencyKey! ? -1 : 1));
  before(() => engine.ready());
  after(() => Promise.all(opened.map((s) => s.close())));

  it('an every schedule sends one job per tick, on multiples of its period, and nothing for the past at first start', LIMIT, async () => {
    const s = shared();
    const { app, ping } = s.app();
    app.schedule('minutely', { every: '1m', task: ping, args: ['m'] });
    const beat = new Beat(app, { logger: silent });
    assert.deepEqual(await beat.runOnce(), { sent: 0, duplicates: 0, skipped: 0 }, 'first start: nothing owed for the past');
    const tick1 = nextMultiple(T0, 60_000);
    s.clock.now = tick1 - 1;
    assert.equal((await beat.runOnce()).sent, 0);
    s.clock.now = tick1;
    assert.equal((await beat.runOnce()).sent, 1);
    assert.equal((await beat.runOnce()).sent, 0, 'a tick is sent once');
    s.clock.now = tick1 + 59_999;
    assert.equal((await beat.runOnce()).sent, 0);
    s.clock.now = tick1 + 60_000 + 700;
    assert.equal((await beat.runOnce()).sent, 1, 'a tick seen a little late is on time');
    const sent = await jobs(app);
    assert.deepEqual(sent.map((j) => j.idempotencyKey), [`beat:minutely:${iso(tick1)}`, `beat:minutely:${iso(tick1 + 60_000)}`]);
    assert.deepEqual(sent.map((j) => JSON.parse(j.argsJson)), [['m'], ['m']]);
    assert.equal(await app.store.scheduleTickGet('minutely'), tick1 + 60_000);
  });

  it('a cron schedule sends on its matches (5 and 6 fields)', LIMIT, async () => {
    const s = shared();
    const { app, ping } = s.app();
    app.schedule('five-min', { cron: '*/5 * * * *', task: ping, args: ['5m'] });
    app.schedule('every-10s', { cron: '*/10 * * * * *', task: ping, args: ['10s'] });
    const beat = new Beat(app, { logger: silent });
    await beat.runOnce();
    const first5 = nextMultiple(T0, 300_000);
    for (let t = T0; t <= first5 + 300_000; t += 1000) {
      s.clock.now = t;
      await beat.runOnce();
    }
    const sent = await jobs(app);
    const fives = sent.filter((j) => j.idempotencyKey!.startsWith('beat:five-min:'));
    assert.deepEqual(fives.map((j) => j.idempotencyKey), [`beat:five-min:${iso(first5)}`, `beat:five-min:${iso(first5 + 300_000)}`]);
    const tens = sent.filter((j) => j.idempotencyKey!.startsWith('beat:every-10s:'));
    const expected = [];
    for (let t = nextMultiple(T0, 10_000); t <= first5 + 300_000; t += 10_000) expected.push(`beat:every-10s:${iso(t)}`);
    assert.deepEqual(tens.map((j) => j.idempotencyKey), expected);
  });

  it('two beats (two apps on one store, as two processes) never send a tick twice', LIMIT, async () => {
    const s = shared();
    const beats = [s.app(), s.app()].map(({ app, ping }) => {
      app.schedule('fast', { every: '1s', task: ping, args: ['f'] });
      app.schedule('cron', { cron: '*/2 * * * * *', task: ping, args: ['c'] });
      return new Beat(app, { logger: silent });
    });
    let duplicates = 0;
    await Promise.all(beats.map((b) => b.runOnce()));
    for (let i = 0; i < 40; i++) {
      s.clock.now += 250 + ((i * 397) % 900); // uneven steps: sometimes several ticks at once
      // Together (both read the same last tick and both send) or one after the other.
      const reports = i % 3 === 0 ? [await beats[1]!.runOnce(), await beats[0]!.runOnce()] : await Promise.all(beats.map((b) => b.runOnce()));
      duplicates += reports.reduce((n, r) => n + r.duplicates, 0);
    }
    const { app } = s.app();
    const sent = await jobs(app);
    const keys = sent.map((j) => j.idempotencyKey!);
    assert.equal(new Set(keys).size, keys.length, 'no tick has two jobs');
    const fast = keys.filter((k) => k.startsWith('beat:fast:')).map((k) => Date.parse(k.slice('beat:fast:'.length)));
    const expected = [];
    for (let t = nextMultiple(T0, 1000); t <= s.clock.now; t += 1000) expected.push(t);
    assert.deepEqual(fast, expected, 'every tick of the run has its job');
    const evens = keys.filter((k) => k.startsWith('beat:cron:')).length;
    assert.equal(evens, Math.floor(s.clock.now / 2000) - Math.floor(T0 / 2000));
    assert.ok(duplicates > 0, 'the beats did race for ticks');
    assert.equal((await app.counters()).duplicates_suppressed_total, duplicates);
  });

  it("after downtime, 'skip' sends none of the missed ticks and 'catch-up' sends each", LIMIT, async () => {
    const s = shared();
    const { app, ping } = s.app();
    app.schedule('skipper', { every: '1m', task: ping, args: ['skip'] });
    app.schedule('catcher', { every: '1m', task: ping, args: ['catch'], missed: 'catch-up' });
    const beat = new Beat(app, { logger: silent });
    await beat.runOnce();
    const tick1 = nextMultiple(T0, 60_000);
    s.clock.now = tick1;
    assert.equal((await beat.runOnce()).sent, 2);
    // Down for 10 minutes and a half: ticks 2..11 pass with no beat running.
    s.clock.now = tick1 + 10 * 60_000 + 30_000;
    const restarted = new Beat(app, { logger: silent });
    assert.deepEqual(await restarted.runOnce(), { sent: 10, duplicates: 0, skipped: 10 });
    s.clock.now = tick1 + 11 * 60_000;
    assert.equal((await restarted.runOnce()).sent, 2, 'both send the next tick on time');
    const sent = await jobs(app);
    const ticksOf = (name: string) => sent.filter((j) => j.idempotencyKey!.startsWith(`beat:${name}:`)).map((j) => (Date.parse(j.idempotencyKey!.slice(name.length + 6)) - tick1) / 60_000);
    assert.deepEqual(ticksOf('skipper'), [0, 11]);
    assert.deepEqual(ticksOf('catcher'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('catch-up is bounded: past maxCatchUp it sends the latest ticks and logs the rest', LIMIT, async () => {
    const s = shared();
    const { logger, lines } = recordingLogger();
    const { app, ping } = s.app();
    app.schedule('catcher', { every: '1s', task: ping, args: ['c'], missed: 'catch-up' });
    const beat = new Beat(app, { logger, maxCatchUp: 5 });
    await beat.runOnce();
    const start = s.clock.now;
    s.clock.now += 12_000; // 12 ticks
    assert.deepEqual(await beat.runOnce(), { sent: 5, duplicates: 0, skipped: 7 });
    const ticks = (await jobs(app)).map((j) => (Date.parse(j.idempotencyKey!.slice('beat:catcher:'.length)) - start) / 1000);
    assert.deepEqual(ticks, [8, 9, 10, 11, 12]);
    assert.ok(lines.some((l) => l.level === 40 && /missed 7 tick/.test(l.msg)), 'the dropped ticks are logged');
  });

  it('a cron schedule is read in its timezone', LIMIT, async () => {
    const s = shared();
    const { app, ping } = s.app();
    app.schedule('nine-ny', { cron: '0 9 * * *', timezone: 'America/New_York', task: ping, args: ['ny'] });
    app.schedule('nine-utc', { cron: '0 9 * * *', task: ping, args: ['utc'] });
    const beat = new Beat(app, { logger: silent });
    s.clock.now = Date.parse('2023-11-14T08:00:00Z');
    await beat.runOnce();
    s.clock.now = Date.parse('2023-11-14T09:00:00Z');
    await beat.runOnce();
    s.clock.now = Date.parse('2023-11-14T13:59:59Z'); // 08:59:59 in New York (EST, UTC-5)
    await beat.runOnce();
    s.clock.now = Date.parse('2023-11-14T14:00:00Z');
    await beat.runOnce();
    const keys = (await jobs(app)).map((j) => j.idempotencyKey);
    assert.deepEqual(keys, ['beat:nine-ny:2023-11-14T14:00:00.000Z', 'beat:nine-utc:2023-11-14T09:00:00.000Z']);
  });

  it('a bad schedule is refused at registration, naming the schedule, the expression and the reason', LIMIT, () => {
    const { app, ping } = shared().app();
    const refused = (options: ScheduleOptions<[string]>, ...patterns: RegExp[]) =>
      assert.throws(() => app.schedule('bad', options), (err: Error) => {
        assert.ok(err instanceof InvalidArgumentError, String(err));
        for (const p of patterns) assert.match(err.message, p);
        return true;
      });
    refused({ cron: '61 * * * *', task: ping }, /schedule "bad"/, /'61 \* \* \* \*'/, /Invalid value for minute: 61/);
    refused({ cron: 'every day', task: ping }, /schedule "bad"/, /'every day'/, /five, six, or seven/);
    refused({ cron: '0 9 * * *', timezone: 'Mars/Olympus', task: ping }, /schedule "bad"/, /'0 9 \* \* \*'/, /Mars\/Olympus/, /[Ii]nvalid time ?zone/);
    refused({ cron: '0 0 30 2 *', task: ping }, /never fire/);
    refused({ task: ping }, /exactly one of cron and every/);
    refused({ cron: '* * * * *', every: '1m', task: ping }, /exactly one of cron and every/);
    refused({ every: '500ms', task: ping }, /at least 1s/);
    refused({ every: '1m', timezone: 'UTC', task: ping }, /timezone applies to cron/);
    refused({ every: '1m', task: ping, missed: 'later' as never }, /missed must be/);
    refused({ every: '1m', task: ping, args: [new Date()] as never }, /is a Date, which is not JSON/);
    assert.equal(app.schedules.size, 0);
    app.schedule('good', { every: '1m', task: ping, args: ['x'] });
    assert.throws(() => app.schedule('good', { every: '1m', task: ping, args: ['x'] }), /already registered/);
    assert.deepEqual([...app.schedules.keys()], ['good']);
  });

  it('two `conveyor beat` processes on one store send each tick of an every-1s schedule once', { timeout: 60_000 }, async () => {
    const { url, remove } = freshStore(engine);
    const procs = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), 'beat', '--app', path.join(root, 'test/fixtures/beat-app.ts'), '--store', url, '--log-format', 'json'], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONVEYOR_STORE: url },
    }));
    const app = new Conveyor({ store: url, logger: silent });
    try {
      const stderr = procs.map((p) => {
        let text = '';
        p.stderr!.on('data', (d: Buffer) => (text += d.toString()));
        return () => text;
      });
      const exited = procs.map((p) => new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code))));
      // Let both run a few seconds past their start (tsx takes a moment to load).
      const deadline = Date.now() + 30_000;
      while ((await app.store.jobsList({ task: 'beat.ping', limit: 1000 })).length < 4 && Date.now() < deadline) await sleep(200);
      await sleep(2500);
      for (const p of procs) p.kill('SIGTERM');
      const codes = await Promise.all(exited);
      assert.deepEqual(codes, [0, 0], stderr.map((e) => e()).join('\n'));
      const sent = await app.store.jobsList({ task: 'beat.ping', limit: 1000 });
      const ticks = sent.map((j) => Date.parse(j.idempotencyKey!.slice('beat:every-second:'.length))).sort((a, b) => a - b);
      assert.ok(ticks.length >= 5, `only ${ticks.length} ticks sent`);
      assert.equal(new Set(ticks).size, ticks.length, 'a tick has two jobs');
      for (const t of ticks) assert.equal(t % 1000, 0);
      // Both beats were alive throughout: no tick between the first and the last is missing.
      assert.equal(ticks.length, (ticks.at(-1)! - ticks[0]!) / 1000 + 1);
      const logged = stderr.map((e) => e().split('\n').filter((l) => l.includes('beat: sent')).length);
      assert.equal(logged[0]! + logged[1]!, ticks.length, 'each tick was sent by exactly one of the two');
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
      await app.close();
      await remove();
    }
  });
});
