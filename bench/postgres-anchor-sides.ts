/**
 * The anchors' sides of the PostgreSQL bench, each in its own schema with the settings of
 * `postgres-anchors.ts`, each worker a `pg-anchor-worker.ts` process:
 *
 * - bullmq    BullMQ's PostgreSQL backend (`createPostgresBackend`): a `Queue` with its defaults;
 *             times from its `job` table (`added_at_ms`, `processed_at_ms`). It cannot join a
 *             caller's transaction: its backend owns its connections and takes none.
 * - pgboss    pg-boss: `send`, `insert`, `send(…, { db })` on the caller's client; times from
 *             its `job` table (`created_on`, `started_on`; completed jobs stay there).
 * - graphile  graphile-worker: `addJob`, `addJobs`, `SELECT <schema>.add_job(…)` on the caller's
 *             client; it deletes a job when it completes, so its times (`created_at`,
 *             `locked_at`) come from its worker process (`--times`).
 *
 * `admin` is the driver's own pool, used to read the anchors' tables.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresBackend, Queue } from 'bullmq';
import { makeWorkerUtils } from 'graphile-worker';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { NOOP_TASK } from './app.js';
import { ANCHOR_QUEUE, bullmqConnection, pgbossOptions, type AnchorName } from './postgres-anchors.js';
import { BULK, type PgSide, type PgSpace, type StartTimes } from './postgres-side.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./pg-anchor-worker.js', import.meta.url));
const version = (name: string) => (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
const q = (ident: string) => `"${ident.replaceAll('"', '""')}"`;

/** `n` items in chunks of {@link BULK}, each made by `make(i)`, handed to `send` one chunk at a time. */
async function inChunks<T>(n: number, make: (i: number) => T, send: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += BULK) await send(Array.from({ length: Math.min(BULK, n - i) }, (_, j) => make(i + j)));
}

const workerCommand = (anchor: AnchorName, url: string, schema: string, extra: string[] = []) => (concurrency: number) => ({
  script: WORKER_SCRIPT,
  args: [anchor, url, schema, String(concurrency), ...extra],
});

export function bullmqPgSide(url: string, admin: pg.Pool): PgSide {
  return {
    name: 'bullmq',
    label: `BullMQ ${version('bullmq')} (PostgreSQL backend)`,
    async open(schema) {
      const queue = new Queue(ANCHOR_QUEUE, { connection: bullmqConnection(url, schema, true) }, createPostgresBackend);
      await queue.waitUntilReady(); // creates the schema and migrates
      await queue.getWaitingCount();
      const space: PgSpace = {
        schema,
        enqueueBulk: (n) => inChunks(n, (i) => ({ name: NOOP_TASK, data: [i] }), (jobs) => queue.addBulk(jobs)),
        send: (i) => queue.add(NOOP_TASK, [i]),
        waiting: () => queue.getWaitingCount(),
        workerCommand: workerCommand('bullmq', url, schema),
        async startTimes(): Promise<StartTimes[]> {
          const { rows } = await admin.query<{ a: string; p: string }>(`SELECT added_at_ms AS a, processed_at_ms AS p FROM ${q(schema)}.job WHERE queue = $1 AND state = 'completed'`, [ANCHOR_QUEUE]);
          return rows.map((r) => ({ enqueuedAt: Number(r.a), startedAt: Number(r.p) }));
        },
        close: () => queue.close(),
      };
      return space;
    },
  };
}

export function pgbossSide(url: string, admin: pg.Pool): PgSide {
  return {
    name: 'pgboss',
    label: `pg-boss ${version('pg-boss')}`,
    async open(schema) {
      const boss = new PgBoss(pgbossOptions(url, schema, true));
      boss.on('error', (err) => process.stderr.write(`pg-boss: ${String(err)}\n`));
      await boss.start(); // creates the schema
      await boss.createQueue(ANCHOR_QUEUE);
      const space: PgSpace = {
        schema,
        enqueueBulk: (n) => inChunks(n, (i) => ({ name: ANCHOR_QUEUE, data: { i } }), (jobs) => boss.insert(jobs)),
        send: (i) => boss.send(ANCHOR_QUEUE, { i }),
        sendInTx: (client, i) => boss.send(ANCHOR_QUEUE, { i }, { db: { executeSql: (text, values) => client.query(text, values) } }),
        waiting: () => boss.getQueueSize(ANCHOR_QUEUE),
        workerCommand: workerCommand('pgboss', url, schema),
        async startTimes(): Promise<StartTimes[]> {
          const { rows } = await admin.query<{ c: string; s: string }>(
            `SELECT (extract(epoch FROM created_on) * 1000)::bigint AS c, (extract(epoch FROM started_on) * 1000)::bigint AS s FROM ${q(schema)}.job WHERE name = $1 AND state = 'completed'`,
            [ANCHOR_QUEUE],
          );
          return rows.map((r) => ({ enqueuedAt: Number(r.c), startedAt: Number(r.s) }));
        },
        close: () => boss.stop({ graceful: false, wait: true }),
      };
      return space;
    },
  };
}

export function graphileSide(url: string, admin: pg.Pool): PgSide {
  return {
    name: 'graphile',
    label: `graphile-worker ${version('graphile-worker')}`,
    async open(schema) {
      const utils = await makeWorkerUtils({ connectionString: url, schema });
      await utils.migrate(); // creates the schema
      const timesFile = join(tmpdir(), `${schema}-times.json`);
      const space: PgSpace = {
        schema,
        enqueueBulk: (n) => inChunks(n, (i) => ({ identifier: NOOP_TASK, payload: { i } }), (specs) => utils.addJobs(specs)),
        send: (i) => utils.addJob(NOOP_TASK, { i }),
        sendInTx: (client, i) => client.query(`SELECT ${q(schema)}.add_job($1, $2::json)`, [NOOP_TASK, JSON.stringify({ i })]),
        async waiting() {
          const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(schema)}._private_jobs WHERE locked_at IS NULL`);
          return Number(rows[0]!.n);
        },
        workerCommand: workerCommand('graphile', url, schema, ['--times', timesFile]),
        async startTimes(): Promise<StartTimes[]> {
          const pairs = JSON.parse(readFileSync(timesFile, 'utf8')) as [number, number][];
          return pairs.map(([enqueuedAt, startedAt]) => ({ enqueuedAt, startedAt }));
        },
        async close() {
          rmSync(timesFile, { force: true });
          await utils.release();
        },
      };
      return space;
    },
  };
}
