/**
 * A private PostgreSQL server: `initdb` in a temp folder, the postmaster on a free loopback port
 * with its socket in that folder and fsync on, which its owner can crash (SIGKILL of the
 * postmaster: recovery from the WAL at the next start) and start again on the same port and
 * folder. `conveyor chaos --store postgres` starts one for its `store-restart` fault; the restart
 * test starts its own from here. The server runs as the `postgres` user when this process is
 * root (PostgreSQL refuses to run as root).
 *
 * Terminology, as in redis-server.ts:
 * - down / up   stop the postmaster but keep the data folder / start it again on the same port
 *               and folder. `restart()` is both.
 * - stop        end it for good (a fast shutdown) and remove its folder.
 *
 * Every server started here is killed, and its folder removed, when this process exits or is
 * interrupted (processes.ts). Every wait is bounded.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';
import { forgetFolder, kill, removeAtExit, track } from './processes.js';

const run = promisify(execFile);

/** Where `initdb` and `postgres` are: Debian's PostgreSQL 15 unless `PG_BIN` says. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** How long a start may take, crash recovery and waiting for a crashed server's backends to leave included. */
const START_TIMEOUT_MS = 30_000;

/**
 * How a server is stopped: SIGKILL is a crash (recovered from the WAL at the next start),
 * SIGTERM a smart shutdown (waits for sessions to end), SIGINT a fast one (ends them).
 */
export type PostgresStopSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT';

/** A private PostgreSQL server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (no query: append one). */
  url: string;
  port: number;
  /** Its folder: the data directory (`data/`) and the socket. */
  dir: string;
  /** Stop the postmaster, keeping its folder. */
  down(signal: PostgresStopSignal): Promise<void>;
  /** Start it again on the same port and folder; resolves once it answers a query. */
  up(): Promise<void>;
  /** `down(signal)` then `up()`. */
  restart(signal: PostgresStopSignal): Promise<void>;
  /** Its log so far. */
  output(): string;
  /** Stop it (a fast shutdown) and remove its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** The uid and gid to run the server as: `postgres`'s when this process is root, else our own. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Start a private PostgreSQL on a free loopback port in a fresh temp folder (trust auth, user
 * `postgres`).
 * @example
 * const server = await startPostgres();
 * after(() => server.stop());
 * await server.restart('SIGKILL'); // crash recovery replays the WAL
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-pg-'));
  removeAtExit(dir);
  const data = join(dir, 'data');
  const user = await serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  // --no-sync only skips flushing initdb's own files; the server runs with fsync on.
  await run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], user ?? {});
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let log = '';
  let child: ChildProcess | undefined;

  const up = async () => {
    if (child && child.exitCode === null && child.signalCode === null) throw new Error(`PostgreSQL on port ${port} is already running`);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const server = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'], {
        stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}),
      });
      track(server);
      const keep = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
      server.stdout!.on('data', keep);
      server.stderr!.on('data', keep);
      // Not unref'd (unlike redis-server.ts): a wait for its exit (down, stop) must keep this process alive until it came.
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      if (await ready(url, exited, deadline)) {
        child = server;
        return;
      }
      await kill(server, 'SIGKILL');
      if (Date.now() > deadline) throw new Error(`PostgreSQL on port ${port} did not start within ${START_TIMEOUT_MS / 1000} s:\n${log}`);
      // After a crash the old server's backends may take a moment to notice and leave its shared memory.
      await sleep(200);
    }
  };
  const down = async (signal: PostgresStopSignal) => {
    if (child) await kill(child, signal);
    child = undefined;
  };
  let stopped = false;
  await up();
  return {
    url, port, dir, up, down,
    async restart(signal) {
      await down(signal);
      await up();
    },
    output: () => log,
    async stop() {
      if (stopped) return;
      stopped = true;
      await down('SIGINT');
      rmSync(dir, { recursive: true, force: true });
      forgetFolder(dir);
    },
  };
}

/** Whether the server at `url` answers a query before it exits or the deadline passes. */
async function ready(url: string, exited: Promise<void>, deadline: number): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  while (!gone && Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      await sleep(100);
    } finally {
      await client.end().catch(() => {});
    }
  }
  return false;
}
