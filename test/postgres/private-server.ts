/**
 * A private PostgreSQL 15 for tests that stop or crash the server: `initdb` in a temp folder, the
 * server on a free loopback port, its socket in that folder. Run as the `postgres` user when this
 * process is root (PostgreSQL refuses to run as root). The server is killed, and its folder
 * removed, when the test process exits, whatever happens to the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { forgetFolder, kill, removeAtExit, track } from '../../src/chaos/processes.js';
import { freePort } from '../../src/chaos/redis-server.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 binaries (PG_BIN overrides). */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  port: number;
  /** Stop the server: SIGKILL is a crash (recovery from the WAL at the next start), SIGTERM a clean stop. */
  down(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Start it again on the same port and folder; resolves once it accepts connections. */
  up(): Promise<void>;
  /** Its log so far. */
  output(): string;
  /** Stop it and remove its folder. */
  stop(): Promise<void>;
}

/** The uid and gid to run the server as: `postgres`'s when this process is root, else our own. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-pg-'));
  removeAtExit(dir);
  const data = join(dir, 'data');
  const user = await serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  await run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], user ?? {});
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let log = '';
  let child: ChildProcess | undefined;

  const up = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      // After a crash the old server's backends may take a moment to notice and leave its shared memory.
      const server = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'], { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
      track(server);
      server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      if (await ready(url, exited, deadline)) {
        child = server;
        return;
      }
      await kill(server, 'SIGKILL');
      if (Date.now() > deadline) throw new Error(`PostgreSQL on port ${port} did not start within 30 s:\n${log}`);
      await sleep(200);
    }
  };
  await up();
  return {
    url, port, up,
    output: () => log,
    async down(signal) {
      if (child) await kill(child, signal);
      child = undefined;
    },
    async stop() {
      if (child) await kill(child, 'SIGTERM');
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
      forgetFolder(dir);
    },
  };
}

/** Whether the server at `url` accepts a query before it exits or the deadline passes. */
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
