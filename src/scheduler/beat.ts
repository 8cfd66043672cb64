/**
 * Beat: sends the app's schedules (`app.schedule`) on their ticks. Run it as its own process
 * (`conveyor beat`) or inside a worker (`conveyor worker --beat`); running several is safe.
 *
 * How a tick is sent once, whatever runs: each run reads the schedule's last recorded tick from
 * the store, sends the ticks after it that are due with the key `beat:<name>:<tick ISO>` (held
 * for 2 periods, at least 1 h, after the job ends), then records the last one with
 * `scheduleTickAdvance`. Two beats that both see a tick due make one job (the key); a beat that
 * crashed after sending and before recording sends the tick again the same way, to no effect.
 *
 * A schedule beat has never recorded fires nothing for the past: the first run records now, and
 * ticks after it fire. Ticks that passed while no beat ran (more than `grace` late) are missed:
 * dropped with `missed: 'skip'`, sent late with `missed: 'catch-up'`.
 */
import type { Logger } from 'pino';
import type { Conveyor } from '../app.js';
import { toMs, type Duration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import type { Schedule } from './schedule.js';

/** Options of a {@link Beat}. */
export interface BeatOptions {
  /** @default the app's logger */
  logger?: Logger;
  /** A tick seen at most this late is on time, not missed (a busy event loop, a slow store). @default '5s' */
  grace?: Duration;
  /** Longest sleep between two runs, whatever the next tick; bounds the effect of a clock jump. @default '30s' */
  maxSleep?: Duration;
  /** Most missed ticks one run of a `catch-up` schedule sends (the latest ones); older are dropped and logged. @default 1000 */
  maxCatchUp?: number;
}

/** What one {@link Beat.runOnce} did. */
export interface BeatReport {
  /** Ticks whose job was created. */
  sent: number;
  /** Ticks whose job existed already (another beat sent it). */
  duplicates: number;
  /** Missed ticks dropped (`skip`, or past the catch-up bound). */
  skipped: number;
}

/** The beat loop of one process. */
export class Beat {
  readonly logger: Logger;
  readonly #app: Conveyor;
  readonly #graceMs: number;
  readonly #maxSleepMs: number;
  readonly #maxCatchUp: number;
  /** The last tick each schedule was known to have recorded: no store read until the next one is due. */
  readonly #known = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #started = false;

  constructor(app: Conveyor, options: BeatOptions = {}) {
    this.#app = app;
    this.logger = options.logger ?? app.logger;
    this.#graceMs = toMs(options.grace ?? '5s', 'grace');
    this.#maxSleepMs = Math.max(10, toMs(options.maxSleep ?? '30s', 'maxSleep'));
    this.#maxCatchUp = options.maxCatchUp ?? 1000;
    if (!Number.isInteger(this.#maxCatchUp) || this.#maxCatchUp < 1) throw new InvalidArgumentError(`maxCatchUp must be an integer >= 1, got ${String(options.maxCatchUp)}`);
  }

  /** The schedules this beat sends (the app's). */
  get schedules(): ReadonlyMap<string, Schedule> {
    return this.#app.schedules;
  }

  /** Run now, then at every tick, until `stop()`. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#tick();
  }

  /** Stop, and wait for a run under way. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Send every schedule's due ticks once (for tests, and each turn of the loop). */
  async runOnce(): Promise<BeatReport> {
    const report: BeatReport = { sent: 0, duplicates: 0, skipped: 0 };
    const now = this.#app.now();
    // One schedule's failure (a store error) must not hold back the others.
    await Promise.all([...this.schedules.values()].map(async (schedule) => {
      try {
        const r = await this.#runSchedule(schedule, now);
        report.sent += r.sent;
        report.duplicates += r.duplicates;
        report.skipped += r.skipped;
      } catch (err) {
        this.logger.error({ err, schedule: schedule.name }, `beat: schedule ${schedule.name} failed; its ticks are tried again next run`);
      }
    }));
    return report;
  }

  async #runSchedule(schedule: Schedule, now: number): Promise<BeatReport> {
    const none = { sent: 0, duplicates: 0, skipped: 0 };
    const known = this.#known.get(schedule.name);
    if (known !== undefined && (schedule.nextTick(known) ?? Infinity) > now) return none;
    const store = this.#app.store;
    const last = await store.scheduleTickGet(schedule.name);
    if (last === null) {
      // First sight of this schedule in this store: nothing before now is owed.
      await store.scheduleTickAdvance({ schedule: schedule.name, tick: now });
      this.#known.set(schedule.name, now);
      return none;
    }
    this.#known.set(schedule.name, last);
    const { due, dropped } = this.#dueTicks(schedule, last, now);
    if (due.length === 0) return none;
    const late = (tick: number) => tick < now - this.#graceMs;
    const send = schedule.missed === 'catch-up' ? due : due.filter((t) => !late(t));
    const skipped = dropped + due.length - send.length;
    if (skipped > 0) {
      const why = schedule.missed === 'skip' ? "missed: 'skip'" : `more than ${this.#maxCatchUp} to catch up`;
      this.logger.warn({ schedule: schedule.name, skipped, since: new Date(last).toISOString() }, `beat: ${schedule.name} missed ${skipped} tick(s) while no beat ran; not sent (${why})`);
    }
    // Sent in one turn: one atomic enqueue for the lot.
    const results = await Promise.all(send.map((tick) => schedule.task.applyAsync(schedule.args, {
      ...schedule.sendOptions, idempotencyKey: schedule.keyOf(tick), idempotencyTtl: schedule.keyTtlMs(tick),
    })));
    const latest = due[due.length - 1]!;
    await store.scheduleTickAdvance({ schedule: schedule.name, tick: latest });
    this.#known.set(schedule.name, latest);
    const duplicates = results.filter((r) => r.duplicate).length;
    results.forEach((r, i) => {
      if (!r.duplicate) this.logger.info({ schedule: schedule.name, job: r.id, tick: new Date(send[i]!).toISOString() }, `beat: sent ${schedule.task.name}[${r.id}] for ${schedule.name}`);
    });
    return { sent: results.length - duplicates, duplicates, skipped };
  }

  /** Ticks in (last, now], oldest first: at most `maxCatchUp`, the latest ones; `dropped` counts the rest. */
  #dueTicks(schedule: Schedule, last: number, now: number): { due: number[]; dropped: number } {
    const due: number[] = [];
    for (let t = schedule.nextTick(last); t !== null && t <= now; t = schedule.nextTick(t)) {
      if (due.length === this.#maxCatchUp) {
        // Too many: keep the latest ones, and count the older ones for the log.
        const latest = schedule.latestTicks(now, this.#maxCatchUp).filter((x) => x > last).reverse();
        return { due: latest, dropped: countTicks(schedule, last, latest[0]!) };
      }
      due.push(t);
    }
    return { due, dropped: 0 };
  }

  /** One run, then sleep until the next tick of any schedule (at most `maxSleep`). */
  #tick(): void {
    const run = this.runOnce().catch((err: unknown) => this.logger.error({ err }, 'beat run failed'));
    this.#running = run.finally(() => {
      this.#running = undefined;
      if (!this.#started) return;
      const now = this.#app.now();
      let next = now + this.#maxSleepMs;
      for (const schedule of this.schedules.values()) next = Math.min(next, schedule.nextTick(now) ?? next);
      // A few ms past the tick, so the clock reads at or after it when the run starts.
      this.#timer = setTimeout(() => this.#tick(), Math.max(0, next - now) + 5);
      this.#timer.unref();
    });
  }
}

/** Ticks in (after, before), for the log line of a capped catch-up: exact for `every`; for cron, at most 100,000 are counted. */
function countTicks(schedule: Schedule, after: number, before: number): number {
  if (schedule.everyMs !== undefined) return Math.max(0, (before - schedule.nextTick(after)!) / schedule.everyMs);
  let n = 0;
  for (let t = schedule.nextTick(after); t !== null && t < before && n < 100_000; t = schedule.nextTick(t)) n++;
  return n;
}
