/**
 * Schedules: periodic tasks that beat (see beat.ts) sends on their ticks, Celery beat's
 * `beat_schedule` entries.
 *
 * Terminology:
 * - tick     an instant a schedule fires at: a cron match (whole seconds, in the schedule's
 *            timezone), or for `every` a multiple of the period since the Unix epoch, so every
 *            beat process agrees on the instants whatever time it started.
 * - missed   ticks that passed while no beat ran (downtime): `skip` drops them, `catch-up`
 *            sends each one late.
 * - key      each tick's job is sent with the idempotency key `beat:<name>:<tick ISO>`, so two
 *            beat processes (or a beat that crashed between sending and recording) make one job.
 */
import { createRequire } from 'node:module';
import type { Cron } from 'croner';
import { toMs, type Duration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import type { ApplyOptions } from '../canvas.js';
import { toJson } from '../message.js';
import { checkName } from '../store/checks.js';
import type { Task } from '../task.js';

/** What beat does with ticks that passed while no beat ran. */
export type MissedTicks = 'skip' | 'catch-up';

/** Options of `app.schedule`: exactly one of `cron` and `every`. */
export interface ScheduleOptions<A extends unknown[]> {
  /**
   * A cron expression: 5 fields (minute precision) or 6 (with seconds first), as croner reads them.
   * @example '0 9 * * 1-5' (09:00 on weekdays)
   */
  cron?: string;
  /**
   * A fixed period, at least 1s; ticks are multiples of it since the Unix epoch (UTC), so
   * `every: '1h'` fires on the hour.
   * @example '30s'
   */
  every?: Duration;
  /** The task to send on each tick. */
  task: Task<A, unknown>;
  /** Its args (JSON, checked at registration). @default [] */
  args?: A;
  /** IANA timezone the cron expression is read in (cron only). @default 'UTC' */
  timezone?: string;
  /**
   * Ticks that passed while no beat ran: 'skip' sends none of them, only the ticks still to
   * come; 'catch-up' sends each (at most 1000 of the latest, per beat run).
   * @default 'skip'
   */
  missed?: MissedTicks;
  /** Send to this queue instead of the task's. */
  queue?: string;
  /** Priority of the jobs sent. @default the task's */
  priority?: number;
  /** Revoke a tick's job instead of starting it when it waits longer than this. @default never */
  expires?: Duration;
}

/** The shortest `every`. */
const MIN_EVERY_MS = 1000;
/** Keys of ticks are held at least this long after their job ends. */
const MIN_KEY_TTL_MS = 3_600_000;

/** A registered schedule; beat computes its ticks. */
export class Schedule {
  readonly task: Task<unknown[], unknown>;
  readonly args: unknown[];
  readonly missed: MissedTicks;
  readonly cron: string | undefined;
  readonly everyMs: number | undefined;
  readonly timezone: string | undefined;
  /** What each tick's job is sent with, besides its key. */
  readonly sendOptions: Pick<ApplyOptions, 'queue' | 'priority' | 'expires'>;
  readonly #cron: Cron | undefined;

  /** @internal Register with `app.schedule`. */
  constructor(readonly name: string, options: ScheduleOptions<unknown[]>) {
    checkName(name, 'schedule name');
    const field = `schedule "${name}"`;
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${field}: options must be an object with task and cron or every`);
    if ((options.cron === undefined) === (options.every === undefined)) {
      throw new InvalidArgumentError(`${field}: give exactly one of cron and every, got ${options.cron === undefined ? 'neither' : 'both'}`);
    }
    if (typeof options.task?.applyAsync !== 'function') throw new InvalidArgumentError(`${field}: task must be a task registered with app.task()`);
    this.task = options.task as unknown as Task<unknown[], unknown>;
    this.args = options.args ?? [];
    if (!Array.isArray(this.args)) throw new InvalidArgumentError(`${field}: args must be an array`);
    toJson(this.args, `${field}: args`);
    this.missed = options.missed ?? 'skip';
    if (this.missed !== 'skip' && this.missed !== 'catch-up') throw new InvalidArgumentError(`${field}: missed must be 'skip' or 'catch-up', got ${JSON.stringify(options.missed)}`);
    this.sendOptions = {
      ...(options.queue === undefined ? {} : { queue: options.queue }),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.expires === undefined ? {} : { expires: toMs(options.expires, `${field}: expires`) }),
    };
    if (options.every !== undefined) {
      if (options.timezone !== undefined) throw new InvalidArgumentError(`${field}: timezone applies to cron schedules only; every ticks at multiples of its period since the epoch`);
      this.everyMs = toMs(options.every, `${field}: every`);
      if (this.everyMs < MIN_EVERY_MS || !Number.isInteger(this.everyMs)) throw new InvalidArgumentError(`${field}: every must be a whole number of ms, at least 1s, got ${this.everyMs} ms`);
    } else {
      this.cron = options.cron;
      this.timezone = options.timezone;
      this.#cron = parseCron(field, options.cron!, options.timezone);
    }
  }

  /** The first tick strictly after `after` (epoch ms), or null when the schedule never fires again. */
  nextTick(after: number): number | null {
    if (this.everyMs !== undefined) return (Math.floor(after / this.everyMs) + 1) * this.everyMs;
    return this.#cron!.nextRun(new Date(after))?.getTime() ?? null;
  }

  /** Up to `n` ticks at or before `atOrBefore`, latest first. */
  latestTicks(atOrBefore: number, n: number): number[] {
    if (this.everyMs !== undefined) {
      const last = Math.floor(atOrBefore / this.everyMs) * this.everyMs;
      return Array.from({ length: n }, (_, i) => last - i * this.everyMs!);
    }
    // croner includes runs earlier in the reference's own second: +1 ms makes a tick at `atOrBefore` count.
    return this.#cron!.previousRuns(n, new Date(atOrBefore + 1)).map((d) => d.getTime());
  }

  /**
   * How long a tick's key stays held after its job ends: long enough that a beat that read the
   * schedule before another recorded the tick cannot send it again (2 periods, at least 1 h).
   */
  keyTtlMs(tick: number): number {
    const period = this.everyMs ?? (this.nextTick(tick) ?? tick) - tick;
    return Math.max(2 * period, MIN_KEY_TTL_MS);
  }

  /** The idempotency key of a tick's job. */
  keyOf(tick: number): string {
    return `beat:${this.name}:${new Date(tick).toISOString()}`;
  }

  /** `cron '<expr>' (<tz>)` or `every <n> ms`, for logs and the CLI. */
  describe(): string {
    return this.everyMs !== undefined ? `every ${this.everyMs / 1000}s` : `cron '${this.cron}'${this.timezone ? ` (${this.timezone})` : ''}`;
  }
}

/** Parse a cron expression now, so a bad one is refused at registration and not at its first tick. */
/**
 * croner, loaded on the first cron schedule rather than with the app: loading it (and prom-client,
 * see worker/metrics.ts) with the package made every worker process spend about 3x as long in
 * garbage collection (`node dist/bench/sqlite.js --only process.c10.p1 --jobs 40000
 * --cpu-prof-dir <dir>`: 95-120 ms of GC vs 25-40 ms), and most apps have no cron schedule.
 */
let cronClass: typeof Cron | undefined;
function loadCron(): typeof Cron {
  cronClass ??= (createRequire(import.meta.url)('croner') as { Cron: typeof Cron }).Cron;
  return cronClass;
}

function parseCron(field: string, expression: string, timezone: string | undefined): Cron {
  if (typeof expression !== 'string') throw new InvalidArgumentError(`${field}: cron must be a string, got ${JSON.stringify(expression)}`);
  let cron: Cron;
  try {
    // croner checks a timezone only when it converts a date: find a run now to check it too.
    cron = new (loadCron())(expression, { timezone: timezone ?? 'UTC', paused: true });
    if (timezone !== undefined) new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    cron.nextRun(new Date(0));
  } catch (err) {
    const what = timezone === undefined ? `cron '${expression}'` : `cron '${expression}' with timezone '${timezone}'`;
    throw new InvalidArgumentError(`${field}: invalid ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (cron.nextRun(new Date(0)) === null) throw new InvalidArgumentError(`${field}: cron '${expression}' matches no time: it would never fire`);
  return cron;
}
