/** Real worker processes for the crash tests: the `conveyor worker` command, on a test's own store. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Conveyor, type ConveyorOptions } from '../../src/index.js';
import { assertPostgresReachable, removeSchema, SHARED_POSTGRES_URL, uniqueSchema } from '../postgres/servers.js';
import { assertRedisReachable, deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../redis/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(root, 'dist/src/cli/main.js');
export const CRASH_APP = join(root, 'test/fixtures/crash-app.ts');
export const POOL_APP = join(root, 'test/fixtures/pool-app.ts');

/**
 * A store engine the crash tests run against: every crash test file runs its tests once per
 * entry, from the same code and with the same assertions.
 */
export interface StoreKind {
  name: 'sqlite' | 'redis' | 'postgres';
  /** Fail fast, saying what is missing, when the engine's server is not there. */
  ready(): Promise<void>;
  /** A fresh store for a test whose scratch folder is `dir`: its URL, and how to remove it. */
  fresh(dir: string): { url: string; remove(): Promise<void> };
}

export const STORES: readonly StoreKind[] = [
  {
    name: 'sqlite',
    ready: async () => {},
    // The file lives in the scratch folder, removed with it.
    fresh: (dir) => ({ url: `sqlite:${join(dir, 'conveyor.db')}`, remove: async () => {} }),
  },
  {
    name: 'redis',
    ready: () => assertRedisReachable(SHARED_REDIS_URL),
    // The shared Redis, under a key prefix of the test's own.
    fresh: () => {
      const prefix = uniquePrefix();
      return { url: `${SHARED_REDIS_URL}?prefix=${prefix}`, remove: async () => void (await deleteKeys(SHARED_REDIS_URL, `*${prefix}*`)) };
    },
  },
  {
    name: 'postgres',
    ready: () => assertPostgresReachable(),
    // The shared PostgreSQL, in a schema of the test's own (made by the first store to open it).
    fresh: () => {
      const schema = uniqueSchema();
      return { url: `${SHARED_POSTGRES_URL}?schema=${schema}`, remove: () => removeSchema(schema) };
    },
  },
];

/** A crash test's own store and folder. */
export interface Scratch {
  dir: string;
  storeUrl: string;
  /** Where the fixture handlers record their effects. */
  effectsFile: string;
  /**
   * An app on this store, closed by `remove()` too: a test that fails before its own
   * `app.close()` must not leave a Redis connection keeping the test file alive.
   */
  app(options?: Omit<ConveyorOptions, 'store'>): Conveyor;
  /** Close the apps, delete the store and the folder. */
  remove(): Promise<void>;
}

/** A fresh folder with a store (SQLite unless `store` says) and an effects file. */
export function scratch(store: StoreKind = STORES[0]): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-crash-'));
  const fresh = store.fresh(dir);
  const apps: Conveyor[] = [];
  return {
    dir,
    storeUrl: fresh.url,
    effectsFile: join(dir, 'effects.log'),
    app(options = {}) {
      const app = new Conveyor({ ...options, store: fresh.url });
      apps.push(app);
      return app;
    },
    async remove() {
      await killWorkers();
      await Promise.all(apps.map((app) => app.close()));
      await fresh.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

const live = new Set<ChildProcess>();

/**
 * SIGKILL every worker process still running: an `after` hook, so a test that failed half-way
 * leaves no worker behind (a live child would keep the test file from ever ending).
 */
export async function killWorkers(): Promise<void> {
  await Promise.all([...live].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
}

/** Node flags that put a process on a host whose clock is `skewMs` ahead (behind when negative): src/chaos/skewed-clock.ts, built. */
export const SKEWED_CLOCK = join(root, 'dist/src/chaos/skewed-clock.js');
export function skewedClock(skewMs: number): { nodeArgs: string[]; env: Record<string, string> } {
  return { nodeArgs: ['--import', SKEWED_CLOCK], env: { CONVEYOR_SKEW_MS: String(skewMs) } };
}

/** How a child process is started beyond its command: node flags and environment. */
export interface ProcessOptions {
  nodeArgs?: string[];
  /** The app module. @default the crash app */
  app?: string;
  env?: Record<string, string>;
}

/** Start `conveyor worker` and wait for its banner. */
export async function startWorker(storeUrl: string, effectsFile: string, args: string[] = [], options: ProcessOptions = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'worker', '--app', options.app ?? CRASH_APP, '--store', storeUrl, '--loglevel', 'warn', ...args], {
    env: { ...process.env, ...options.env, EFFECTS_FILE: effectsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w = track(child);
  await waitFor('worker banner', () => w.output().includes('[tasks]'), 20_000, w.output);
  return w;
}

/** Collect a child's output and exit, and keep it in `live` (for killWorkers) until it exits. */
function track(child: ChildProcess): WorkerProcess {
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  live.add(child);
  void exited.then(() => live.delete(child));
  return { child, output: () => out, exited };
}

/** Poll `check` until true; fail with `context()` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await sleep(20);
  }
}

/** Effects recorded by handlers, in order. */
export function effects(file: string): { kind: string; id: string; token: number; pid: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; id: string; token: number; pid: number });
}

/** An effect line with whatever else its handler recorded (a step key, a value). */
export type EffectRecord = { kind: string; id: string; token: number; pid: number } & Record<string, unknown>;

/** Effects recorded by handlers, in order, with every field they wrote. */
export function effectRecords(file: string): EffectRecord[] {
  return effects(file) as EffectRecord[];
}

/**
 * Run a TypeScript script in its own node process (`node --import tsx`), tracked like the
 * workers: `killWorkers()` (and so `Scratch.remove()`) kills it if it is still running.
 * Its stdin is a pipe, for tests that start several at once and then say "go".
 */
export function startScript(script: string, args: string[] = [], env: Record<string, string> = {}, nodeArgs: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, script, ...args], {
    cwd: root, // where `--import tsx` is resolved from
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return track(child);
}

/** The end of a process's output, for a failure message that stays readable. */
export function tail(text: string, chars = 4_000): string {
  return text.length <= chars ? text : `…${text.slice(-chars)}`;
}

/** Sends `slow` jobs one after another until stopped, keeping the ids whose send resolved. */
export function producer(app: Conveyor) {
  const acknowledged: string[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        acknowledged.push((await app.send('slow', [100])).id);
      } catch {
        // The store is down: not acknowledged, so nothing was promised.
      }
      await sleep(20);
    }
  })();
  return {
    acknowledged,
    async stop() {
      stopped = true;
      await done;
    },
  };
}
