/**
 * Private redis-server processes: a standalone server on a free loopback port in a temp folder,
 * optionally with an append-only file, that its owner can crash (SIGKILL) and start again on the
 * same port and folder. `conveyor chaos` starts one for its `store-restart` fault; the tests start
 * theirs (and a Cluster, test/redis/servers.ts) from here.
 *
 * Terminology:
 * - down / up   stop the process but keep its folder (so AOF reloads) / start it again on the
 *               same port and folder. `restart()` is both.
 * - stop        end the process for good and remove its folder.
 *
 * Every process started here is killed by `stop()`, and — should its owner forget or crash — by
 * an exit handler, so nothing leaves a redis-server behind. Every wait is bounded.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { forgetFolder, kill, removeAtExit, track } from './processes.js';

const run = promisify(execFile);

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
export const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';

/** How long a server may take to answer PING after its start (AOF reload included). */
const READY_TIMEOUT_MS = 10_000;

// ---- one redis-server process ----

/** `redis-cli -p port ...args`, answering its stdout ('' when it cannot connect). */
export async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5_000 });
    return stdout;
  } catch {
    return '';
  }
}

/** A redis-server process and its log. */
export interface ServerProcess {
  child: ChildProcess;
  output(): string;
}

/** Start redis-server in `dir` with `args`, as a child of this process. */
export function spawnServer(dir: string, args: string[]): ServerProcess {
  // `--daemonize no` keeps it our child; logs go to stdout, which we keep for error messages.
  const child = spawn(REDIS_SERVER, ['--bind', '127.0.0.1', '--daemonize', 'no', '--dir', dir, '--logfile', '', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('error', (err) => (out += `\nspawn ${REDIS_SERVER} failed: ${err.message}`));
  // A server must not keep this process alive by itself: a caller that forgot stop() still
  // ends, and the exit handler kills the server.
  child.unref();
  (child.stdout as unknown as { unref(): void }).unref();
  (child.stderr as unknown as { unref(): void }).unref();
  return { child, output: () => out };
}

/** Wait until the server on `port` answers PING (not LOADING), or fail with its log. */
export async function waitReady(port: number, server: ServerProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${server.child.exitCode ?? server.child.signalCode}) before it was ready:\n${server.output()}`);
    }
    if ((await cli(port, 'ping')).trim() === 'PONG') return;
    if (Date.now() > deadline) {
      server.child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${server.output()}`);
    }
    await sleep(25);
  }
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Keep an append-only file, reloaded when the server starts again. @default false */
  appendonly?: boolean;
  /** When the AOF is fsynced: after every write, once a second, or when the OS likes. @default 'everysec' */
  appendfsync?: 'always' | 'everysec' | 'no';
}

/** A private standalone redis-server. */
export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` (no db, no query: append them). */
  url: string;
  /** Its folder (AOF, logs). */
  dir: string;
  /** Stop the process (SIGTERM: a clean shutdown; SIGKILL: a crash), keeping its folder. */
  down(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Start it again on the same port and folder, and wait until it answers (the AOF reloaded). */
  up(): Promise<void>;
  /** `down(signal)` then `up()`. */
  restart(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** The server's log so far (this run of the process). */
  output(): string;
  /** Kill it and remove its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Start a private redis-server on a free loopback port in a fresh temp folder.
 * @example
 * const redis = await startRedis({ appendonly: true, appendfsync: 'always' });
 * after(() => redis.stop());
 * await redis.restart('SIGKILL'); // the AOF reloads
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-redis-'));
  removeAtExit(dir);
  const args = [
    '--port', String(port),
    '--save', '',
    '--appendonly', options.appendonly ? 'yes' : 'no',
    '--appendfsync', options.appendfsync ?? 'everysec',
  ];
  let server: ServerProcess | undefined;
  const down = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (server) await kill(server.child, signal);
  };
  const up = async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) throw new Error(`redis-server on port ${port} is already running`);
    server = spawnServer(dir, args);
    await waitReady(port, server);
  };
  let stopped = false;
  await up();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    down,
    up,
    async restart(signal = 'SIGTERM') {
      await down(signal);
      await up();
    },
    output: () => server?.output() ?? '',
    async stop() {
      if (stopped) return;
      stopped = true;
      await down('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      forgetFolder(dir);
    },
  };
}
