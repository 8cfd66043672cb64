/**
 * The worker processes of a chaos run: `conveyor worker` on the scenario app, started, killed,
 * frozen, thawed and replaced by the fault injector. A process that ends without having been
 * told to, or ends a graceful stop with an exit code other than 0, is recorded with the end of
 * its output as an unexpected exit. None outlives the run's process (processes.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { kill, track } from './processes.js';

/** This module as built (.js) or run from source through tsx (.ts): the sibling files have the same extension. */
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const CLI = fileURLToPath(new URL(`../cli/main${EXT}`, import.meta.url));
const SCENARIO = fileURLToPath(new URL(`./scenario-app${EXT}`, import.meta.url));
const SKEWED_CLOCK = fileURLToPath(new URL(`./skewed-clock${EXT}`, import.meta.url));

/** How long a worker may take to print its banner. */
const START_TIMEOUT_MS = 30_000;

/** One worker process. */
export interface ChaosWorker {
  child: ChildProcess;
  pid: number;
  /** Frozen by SIGSTOP, not yet thawed. */
  stopped: boolean;
  /** We ended it (or are ending it): its exit is expected. */
  ending: boolean;
  output(): string;
  exited: Promise<number | string>;
}

export interface WorkerSetOptions {
  storeUrl: string;
  ledgerPath: string;
  concurrency: number;
  leaseMs: number;
}

export class WorkerSet {
  readonly #options: WorkerSetOptions;
  readonly live = new Set<ChaosWorker>();
  readonly unexpectedExits: string[] = [];

  constructor(options: WorkerSetOptions) {
    this.#options = options;
  }

  /** Start a worker (on a skewed clock when `skewMs` is not 0) and wait for its banner. */
  async start(skewMs = 0): Promise<ChaosWorker> {
    const o = this.#options;
    const node = [...(EXT === '.ts' ? ['--import', 'tsx'] : []), ...(skewMs !== 0 ? ['--import', SKEWED_CLOCK] : [])];
    const child = spawn(process.execPath, [
      ...node, CLI, 'worker', '--app', SCENARIO, '--store', o.storeUrl, '--concurrency', String(o.concurrency),
      '--lease', `${o.leaseMs}ms`, '--shutdown-grace', '1s', '--loglevel', 'warn', '--log-format', 'json',
    ], { env: { ...process.env, CONVEYOR_CHAOS_LEDGER: o.ledgerPath, CONVEYOR_CHAOS_LEASE_MS: String(o.leaseMs), CONVEYOR_SKEW_MS: String(skewMs) }, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    const worker: ChaosWorker = { child, pid: child.pid!, stopped: false, ending: false, output: () => out, exited };
    this.live.add(worker);
    void exited.then((how) => {
      this.live.delete(worker);
      if (!worker.ending) this.unexpectedExits.push(`worker pid ${worker.pid} exited (${how}) on its own: ${out.slice(-600)}`);
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!out.includes('[tasks]')) {
      if (!this.live.has(worker)) throw new Error(`a chaos worker exited before it was up:\n${out.slice(-2_000)}`);
      if (Date.now() > deadline) throw new Error(`a chaos worker did not start within ${START_TIMEOUT_MS / 1000} s:\n${out.slice(-2_000)}`);
      await sleep(20);
    }
    return worker;
  }

  /** kill -9 a worker; answers once it is gone. */
  async kill9(worker: ChaosWorker): Promise<void> {
    worker.ending = true;
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  /** Freeze a worker (SIGSTOP) for `ms`, then thaw it (SIGCONT), as a long GC pause or a suspended VM would. */
  async freeze(worker: ChaosWorker, ms: number): Promise<void> {
    worker.stopped = true;
    worker.child.kill('SIGSTOP');
    await sleep(ms);
    this.thaw(worker);
  }

  thaw(worker: ChaosWorker): void {
    if (!worker.stopped) return;
    worker.stopped = false;
    if (this.live.has(worker)) worker.child.kill('SIGCONT');
  }

  /**
   * Stop a worker gracefully (SIGTERM: running jobs finish within 1 s, or are released; killed if
   * it has not exited within a bound). An exit code other than 0 is recorded as unexpected.
   */
  async stop(worker: ChaosWorker): Promise<void> {
    worker.ending = true;
    this.thaw(worker);
    await kill(worker.child, 'SIGTERM');
    const how = await worker.exited;
    if (how !== 0) this.unexpectedExits.push(`worker pid ${worker.pid} ended its graceful shutdown with ${how}: ${worker.output().slice(-600)}`);
  }

  /** Stop every worker gracefully (see {@link stop}). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live].map((w) => this.stop(w)));
  }

  /** SIGKILL whatever is left (after a failure of the run itself). */
  killAll(): void {
    for (const w of this.live) {
      w.ending = true;
      w.child.kill('SIGKILL');
    }
  }
}
