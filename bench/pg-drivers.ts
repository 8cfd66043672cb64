/**
 * Which PostgreSQL driver the store uses: postgres (postgres.js) or pg (node-postgres), measured
 * on the shapes of work the store does, on the same server in the same run.
 *
 *   npm run build && node dist/bench/pg-drivers.js [--url postgres://postgres@127.0.0.1:5432/test] [--seconds 3]
 *
 * - roundtrip   one `SELECT $1::int` at a time (latency-bound work: a lone enqueue)
 * - tx          a transaction of an UPDATE ... RETURNING and a SELECT ... FOR UPDATE SKIP LOCKED
 *               on one connection at a time, as a settle-and-reserve is (4 statements with BEGIN/COMMIT)
 * - tx x8       the same on 8 connections at once (a busy worker fleet)
 * - tx pipelined  the transaction with its statements sent back to back (postgres.js only: pg has no pipelining)
 * - insert 1000 1,000 rows in one INSERT ... SELECT FROM unnest($1::text[], ...) (bulk enqueue)
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';

const { values: opts } = parseArgs({ options: { url: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' }, seconds: { type: 'string', default: '3' } } });
const seconds = Number(opts.seconds);
const schema = `bench_drivers_${process.pid}`;

interface Driver {
  name: string;
  roundtrip(): Promise<void>;
  tx(): Promise<void>;
  /** The same transaction with its statements pipelined (sent without waiting for each answer), where the driver can. */
  txPipelined?(): Promise<void>;
  insert(ids: string[]): Promise<void>;
  end(): Promise<void>;
}

function postgresJs(): Driver {
  const sql = postgres(opts.url!, { max: 8, onnotice: () => {} });
  return {
    name: 'postgres (postgres.js 3)',
    async roundtrip() { await sql`SELECT ${1}::int`; },
    async tx() {
      await sql.begin(async (t) => {
        await t`UPDATE ${t(schema)}.jobs SET n = n + 1 WHERE id = (SELECT id FROM ${t(schema)}.jobs ORDER BY random() LIMIT 1) RETURNING id`;
        await t`SELECT id FROM ${t(schema)}.jobs WHERE n >= 0 ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED`;
      });
    },
    async txPipelined() {
      await sql.begin((t) => [
        t`UPDATE ${t(schema)}.jobs SET n = n + 1 WHERE id = (SELECT id FROM ${t(schema)}.jobs ORDER BY random() LIMIT 1) RETURNING id`,
        t`SELECT id FROM ${t(schema)}.jobs WHERE n >= 0 ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED`,
      ]);
    },
    async insert(ids) { await sql`INSERT INTO ${sql(schema)}.bulk (id, args) SELECT * FROM unnest(${ids}::text[], ${ids}::text[])`; },
    end: () => sql.end(),
  };
}

function nodePg(): Driver {
  const pool = new pg.Pool({ connectionString: opts.url, max: 8 });
  return {
    name: 'pg (node-postgres 8)',
    async roundtrip() { await pool.query('SELECT $1::int', [1]); },
    async tx() {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`UPDATE ${schema}.jobs SET n = n + 1 WHERE id = (SELECT id FROM ${schema}.jobs ORDER BY random() LIMIT 1) RETURNING id`);
        await c.query(`SELECT id FROM ${schema}.jobs WHERE n >= 0 ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED`);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      } finally {
        c.release();
      }
    },
    async insert(ids) { await pool.query(`INSERT INTO ${schema}.bulk (id, args) SELECT * FROM unnest($1::text[], $2::text[])`, [ids, ids]); },
    end: () => pool.end(),
  };
}

/** Operations per second of `op` run by `concurrency` loops for `seconds`. */
async function rate(op: () => Promise<void>, concurrency: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < until) {
      await op();
      done++;
    }
  }));
  return done / seconds;
}

const admin = postgres(opts.url!, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.jobs (id int PRIMARY KEY, n int NOT NULL DEFAULT 0); INSERT INTO ${schema}.jobs (id) SELECT generate_series(1, 1000); CREATE TABLE ${schema}.bulk (id text, args text)`);
try {
  const rows: Record<string, Record<string, number>> = {};
  const ids = Array.from({ length: 1000 }, (_, i) => `job-${i}`);
  // Alternate the drivers, twice each, and keep each one's best: the machine is noisy.
  for (const round of [1, 2]) {
    for (const make of [postgresJs, nodePg]) {
      const d = make();
      const r = (rows[d.name] ??= {});
      const best = (k: string, v: number) => (r[k] = Math.max(r[k] ?? 0, v));
      best('roundtrip/s', await rate(() => d.roundtrip(), 1));
      best('tx/s', await rate(() => d.tx(), 1));
      best('tx x8/s', await rate(() => d.tx(), 8));
      best('tx pipelined/s', d.txPipelined ? await rate(() => d.txPipelined!(), 1) : Number.NaN);
      best('rows inserted/s', 1000 * (await rate(() => d.insert(ids), 1)));
      await d.end();
      process.stderr.write(`round ${round}: ${d.name} done\n`);
    }
  }
  const names = Object.keys(rows);
  const keys = Object.keys(rows[names[0]!]!);
  console.log(`| measure | ${names.join(' | ')} | postgres / pg |`);
  console.log(`|---|${names.map(() => '---:').join('|')}|---:|`);
  for (const k of keys) {
    const [a, b] = names.map((n) => rows[n]![k]!);
    console.log(`| ${k} | ${names.map((n) => Math.round(rows[n]![k]!)).join(' | ')} | ${(a! / b!).toFixed(2)}× |`);
  }
} finally {
  await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
}
