/**
 * `conveyor chaos`: the scenario app run by real worker processes on an isolated namespace of a
 * store, under the faults that the promise exists for, then checked.
 *
 * A run: open the target (store-target.ts), add the pool's executors, start the workers, send the
 * chord and then the payments spread over the first part of `duration` while injecting one
 * fault after another (kill -9 and replace a worker, SIGSTOP one past its lease, replace one by
 * a worker on a clock a minute off, crash and restart a private Redis or PostgreSQL); then heal
 * everything, wait until every job is final, stop the workers, and hand what the store and the
 * ledger hold to the checker (verdict.ts).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chord } from '../canvas.js';
import { StoreUnavailableError } from '../errors.js';
import { isFinal, type JobState } from '../states.js';
import type { Store } from '../store/store.js';
import { Ledger } from './ledger.js';
import { prng } from './prng.js';
import { app as scenario, declined, EFFECT_STEPS, executorTtlMs, EXECUTORS, part, pay, total } from './scenario-app.js';
import { openTarget, type StoreTarget } from './store-target.js';
import { FAULTS, verdict, type ChaosFacts, type FaultName, type VerdictRow } from './verdict.js';
import { WorkerSet, type ChaosWorker } from './workers.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /**
   * `sqlite` (a private file), `sqlite:<path>`, `redis` (a private redis-server), a `redis://` URL,
   * `postgres` (a private PostgreSQL server) or a `postgres://` URL.
   * @default 'sqlite'
   * @example 'postgres://app@db.internal:5432/app' // in a schema of the run's own, dropped at the end
   */
  store?: string;
  /** Payments to send. @default 100 */
  jobs?: number;
  /** Worker processes. @default 3 */
  workers?: number;
  /** Jobs each worker runs at once. @default 4 */
  concurrency?: number;
  /**
   * How long faults are injected (the payments are sent over its first 60%); past it, at most 30 s
   * or the duration more, until each fault asked for was injected once. @default 60 s
   */
  durationMs?: number;
  /** The workers' lease; a frozen worker stays frozen 2.5 leases. @default 2 s */
  leaseMs?: number;
  /** Faults to inject, in rounds of each once in a random order. @default every one that applies to the store */
  faults?: readonly FaultName[];
  /** Seeds the payments' amounts and work times and the choice of faults and victims. @default random */
  seed?: number;
  /** Told of progress as the run goes. */
  onProgress?(progress: { final: number; total: number; faults: number; phase: 'running' | 'draining' }): void;
}

/** What a run answers. */
export interface ChaosReport {
  store: string;
  seed: number;
  ok: boolean;
  rows: VerdictRow[];
  /** Injections of each fault asked for. */
  faults: Partial<Record<FaultName, number>>;
  /** Faults asked for that do not apply to the store, with why. */
  skipped: Partial<Record<FaultName, string>>;
  durationMs: number;
}

/** How many executors the pool has (fewer than the slots, so payments wait for one). */
const EXECUTOR_COUNT = 3;

/**
 * Why `fault` does not apply to a store, or undefined when it does. Clock skew applies to Redis
 * and PostgreSQL alike: each decides every time question on its own clock (`TIME`,
 * `clock_timestamp()`), and a worker whose clock is off must change nothing.
 */
function notApplicable(target: StoreTarget, fault: FaultName): string | undefined {
  if (target.engine === 'sqlite' && fault === 'clock-skew') return "SQLite's processes share one machine, so one clock";
  if (target.engine === 'sqlite' && fault === 'store-restart') return 'SQLite is embedded: there is no server to restart (kill9 covers a crash of its processes)';
  if (!target.server && fault === 'store-restart') return `chaos restarts only a store it started itself: pass --store ${target.engine}`;
  return undefined;
}

/** Run the scenario under faults and check it. */
export async function runChaos(options: ChaosOptions = {}): Promise<ChaosReport> {
  const jobs = options.jobs ?? 100;
  const workerCount = options.workers ?? 3;
  const durationMs = options.durationMs ?? 60_000;
  const leaseMs = options.leaseMs ?? 2_000;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = prng(seed);
  const target = await openTarget(options.store ?? 'sqlite');
  const asked = options.faults ?? FAULTS;
  const skipped: Partial<Record<FaultName, string>> = {};
  for (const f of asked) {
    const why = notApplicable(target, f);
    if (why !== undefined) skipped[f] = why;
  }
  const enabled = asked.filter((f) => !skipped[f]);
  const faults: Partial<Record<FaultName, number>> = Object.fromEntries(asked.map((f) => [f, 0]));
  const ledgerPath = join(target.dir, 'ledger.db');
  const ledger = new Ledger(ledgerPath);
  scenario.useStore(target.url);
  const workers = new WorkerSet({ storeUrl: target.url, ledgerPath, concurrency: options.concurrency ?? 4, leaseMs });
  const started = performance.now();
  let over = false;
  let failed = false;
  try {
    await scenario.pool(EXECUTORS).add(...Array.from({ length: EXECUTOR_COUNT }, (_, i) => `exec-${i + 1}`));
    await Promise.all(Array.from({ length: workerCount }, () => workers.start()));

    // The chord first, so its parts meet the faults too; then the payments, spread over the send window.
    const parts = Math.min(20, Math.max(3, Math.round(jobs / 10)));
    const chordResult = await chord(Array.from({ length: parts }, (_, i) => part.s(i)), total.s()).applyAsync();
    const sent: { id: string; amount: number }[] = [];
    const sendWindowMs = durationMs * 0.6;
    const run = seed.toString(36);
    // Its failure ends the run (below), never as an unhandled rejection; it stops when the run does.
    let sendFailure: { error: unknown } | undefined;
    const sending = (async () => {
      const batches = Math.min(jobs, 20);
      for (let b = 0; b < batches && !over; b++) {
        const size = Math.floor(((b + 1) * jobs) / batches) - Math.floor((b * jobs) / batches);
        for (let i = 0; i < size; i++) {
          const amount = 100 + sent.length;
          const args: [number, number] = [amount, 50 + Math.floor(rand() * 350)];
          // Its own id: a resend after the store went away mid-send is the same send, never a second payment.
          const r = await withRetry(() => pay.applyAsync(args, { taskId: `pay-${run}-${amount}` }));
          sent.push({ id: r.id, amount });
        }
        await sleep(sendWindowMs / batches);
      }
    })().catch((error: unknown) => void (sendFailure = { error }));

    // Faults, one after another, until the duration is over (and past it for one not injected yet).
    const progress = async (phase: 'running' | 'draining') => {
      const final = (await finalPays(scenario.store, sent.map((s) => s.id)).catch(() => 0));
      options.onProgress?.({ final, total: jobs, faults: Object.values(faults).reduce((a, b) => a + b, 0), phase });
    };
    let lastHealed: number | null = null;
    const freezes = new Set<Promise<void>>();
    let skew = 1;
    const injectOne = async (fault: FaultName) => {
      const victims = [...workers.live].filter((w) => !w.stopped && !w.ending);
      const victim = await pickVictim(scenario.store, victims, rand);
      switch (fault) {
        case 'kill9':
          if (!victim) return;
          await workers.kill9(victim);
          await workers.start();
          break;
        case 'sigstop':
          if (!victim) return;
          // Frozen past its lease while the run goes on; healed when it thaws.
          freezes.add(workers.freeze(victim, leaseMs * 2.5).then(() => void (lastHealed = performance.now())));
          break;
        case 'clock-skew':
          if (!victim) return;
          await workers.stop(victim);
          await workers.start((skew = -skew) * (30_000 + Math.floor(rand() * 60_000)));
          break;
        case 'store-restart':
          await target.server!.restart('SIGKILL');
          break;
      }
      faults[fault] = (faults[fault] ?? 0) + 1;
      lastHealed = performance.now();
    };
    // In rounds: each round injects every enabled fault once, in a random order.
    const round: FaultName[] = [];
    const next = (): FaultName => {
      if (round.length === 0) round.push(...[...enabled].sort(() => rand() - 0.5));
      return round.shift()!;
    };
    const faultEveryMs = Math.min(5_000, Math.max(500, durationMs / 10));
    // A short run whose injections were slow (a worker's start, a server's recovery) goes on past
    // its duration, within a bound, until every fault asked for was injected once: the verdict
    // asks for each, and a run that never tried one has checked nothing about it.
    const overtimeEnd = durationMs + Math.max(30_000, durationMs);
    const notYet = () => enabled.filter((f) => faults[f] === 0);
    const injecting = () => {
      const elapsed = performance.now() - started;
      return elapsed < durationMs || (notYet().length > 0 && elapsed < overtimeEnd);
    };
    /** The fault to inject now: the round's next within the duration, past it one not injected yet; none when it is over. */
    const pick = (): FaultName | undefined => {
      const elapsed = performance.now() - started;
      if (enabled.length === 0) return undefined;
      if (elapsed < durationMs) return next();
      return elapsed < overtimeEnd ? notYet()[0] : undefined;
    };
    while (injecting() && !sendFailure) {
      await sleep(faultEveryMs * (0.5 + rand()));
      const fault = pick();
      if (fault) await injectOne(fault);
      await progress('running');
    }
    await sending;
    if (sendFailure) throw sendFailure.error;
    await Promise.all(freezes);

    // Every job final (bounded): payments, their receipts or refunds, the chord and its callback.
    const drainDeadline = performance.now() + Math.max(60_000, 20 * leaseMs);
    let finished: number | null = null;
    while (performance.now() < drainDeadline) {
      await progress('draining');
      if (await allFinal(scenario.store, sent.length, chordResult.id)) {
        finished = performance.now();
        break;
      }
      await sleep(250);
    }
    await workers.stopAll();
    const facts = await gather(scenario.store, ledger, sent, chordResult.id, parts, leaseMs);
    const recoverMs = finished === null ? null : lastHealed === null ? 0 : Math.max(0, finished - lastHealed);
    const { rows, ok } = verdict({ ...facts, faults, skipped, recoverMs, unexpectedExits: workers.unexpectedExits });
    return { store: target.description, seed, ok, rows, faults, skipped, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    over = true;
    workers.killAll();
    ledger.close();
    await scenario.close();
    // A run that failed says why (a store it could not reach); removing its namespace then fails too, and is not the news.
    await target.remove().catch((err: unknown) => {
      if (!failed) throw err;
    });
  }
}

/** A send may meet a store being restarted: try again while it is unreachable (the id makes a resend harmless). */
async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) || attempt >= 5) throw err;
      await sleep(500);
    }
  }
}

/** A victim for a fault: a worker running jobs when there is one, else any. */
async function pickVictim(store: Store, candidates: ChaosWorker[], rand: () => number): Promise<ChaosWorker | undefined> {
  if (candidates.length === 0) return undefined;
  const registered = await store.workersList().catch(() => []);
  const busy = candidates.filter((w) => registered.some((r) => r.pid === w.pid && r.active.length > 0));
  const pool = busy.length > 0 ? busy : candidates;
  return pool[Math.floor(rand() * pool.length)];
}

async function finalPays(store: Store, ids: readonly string[]): Promise<number> {
  const records = await store.jobsList({ states: ['SUCCESS', 'FAILURE', 'REVOKED'], task: 'chaos.pay', limit: 1_000_000 });
  const sent = new Set(ids);
  return records.filter((r) => sent.has(r.id)).length;
}

/** No job waits or runs, every payment fired its receipt or refund, and the chord's callback is final. */
async function allFinal(store: Store, pays: number, chordId: string): Promise<boolean> {
  try {
    const open = await store.jobsList({ states: ['PENDING', 'STARTED', 'RETRY'], limit: 1 });
    if (open.length > 0) return false;
    const notices = await store.jobsList({ task: 'chaos.receipt', limit: 1_000_000 });
    const refunds = await store.jobsList({ task: 'chaos.refund', limit: 1_000_000 });
    const callback = await store.jobGet(chordId);
    return notices.length + refunds.length >= pays && callback !== null && isFinal(callback.state);
  } catch (err) {
    if (err instanceof StoreUnavailableError) return false;
    throw err;
  }
}

/**
 * The pool's items once every lease a killed or frozen holder left has lapsed and been reclaimed
 * (as any worker's recovery loop would): with no job left, nobody may hold one. Bounded by two TTLs.
 */
async function itemsOnceLapsedReturn(store: Store, leaseMs: number) {
  const deadline = performance.now() + 2 * executorTtlMs(leaseMs);
  for (;;) {
    await store.poolsReclaimExpired();
    const items = await store.poolItems(EXECUTORS);
    if (items.every((i) => i.holder === null) || performance.now() > deadline) return items;
    await sleep(100);
  }
}

/** What the store and the ledger hold, for the checker. */
async function gather(store: Store, ledger: Ledger, sent: { id: string; amount: number }[], chordId: string, parts: number, leaseMs: number):
  Promise<Omit<ChaosFacts, 'faults' | 'skipped' | 'recoverMs' | 'unexpectedExits'>> {
  const all = await store.jobsList({ limit: 1_000_000 });
  const byId = new Map(all.map((j) => [j.id, j]));
  const callback = byId.get(chordId);
  const facts = ledger.facts();
  // The delivery that recorded each effect's step: a later one must have replayed it, not run it.
  const stepTokens = new Map<string, number>();
  for (const { kind, job } of facts.requests) {
    if (stepTokens.has(job)) continue;
    const step = (await store.jobSteps(job)).find((s) => s.name === EFFECT_STEPS[kind]);
    if (step) stepTokens.set(job, step.token);
  }
  return {
    pays: sent.map(({ id, amount }) => {
      const j = byId.get(id);
      return { id, amount, declined: declined(amount), state: (j?.state ?? null) as JobState | null, error: j?.error ?? null };
    }),
    expectedJobs: 2 * sent.length + parts + 1,
    jobs: all.length,
    notFinal: all.filter((j) => !isFinal(j.state)).map((j) => ({ id: j.id, task: j.task, state: j.state })),
    notices: all.filter((j) => j.task === 'chaos.receipt' || j.task === 'chaos.refund').map((j) => ({ task: j.task, parent: j.parent?.id ?? null })),
    chord: {
      callback: callback ? { state: callback.state, result: callback.resultJson === null ? null : JSON.parse(callback.resultJson) } : null,
      expected: (parts * (parts - 1)) / 2,
    },
    stepTokens,
    ledger: facts,
    poolItems: await itemsOnceLapsedReturn(store, leaseMs),
    counters: await store.countersGet(),
  };
}
