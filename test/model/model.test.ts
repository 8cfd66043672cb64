/**
 * The model-based test of the Store contract: fast-check generates random sequences of
 * operations — sends with and without ids, keys, delays, expiries and priorities; reserves;
 * renewals; settlements (complete, fail, retry, release) by current and stale leases; revokes;
 * clock jumps past leases and TTLs; lease recovery; dead-letter retries; deletions; steps — and
 * runs each against every engine and against the reference model (model.ts). After every
 * operation the answer, every job's record, the counters and the per-queue counts must be the
 * model's. A difference fails with the shrunk sequence that shows it.
 *
 * Bounded for CI (CONVEYOR_MODEL_RUNS sequences per engine, default 100 (25 on the cluster), of up to 40 operations);
 * `CONVEYOR_MODEL_RUNS=2000 node --import tsx --test test/model/model.test.ts` runs longer, and
 * CONVEYOR_MODEL_SEED replays one run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { adminSql, assertPostgresReachable, dropSchema, SHARED_POSTGRES_URL, uniqueSchema } from '../postgres/servers.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { JobRecord, LeaseRef, NewJob, Settlement, Store } from '../../src/store/store.js';
import { ALL_TEST_KEYS, assertRedisReachable, deleteKeys, SHARED_REDIS_URL, startCluster, uniquePrefix, type RedisCluster } from '../redis/servers.js';
import { CHORDS, StoreModel, type ModelSend, type ModelSettlement } from './model.js';

const T0 = 1_700_000_000_000;
const LEASE_MS = 2_000;
const RUNS = Number(process.env.CONVEYOR_MODEL_RUNS ?? 100);
const SEED = process.env.CONVEYOR_MODEL_SEED === undefined ? undefined : Number(process.env.CONVEYOR_MODEL_SEED);
/** Few ids, so sends collide (the same id again, in the same queue or another). */
const IDS = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7', 'j8'];
/** Each chord place is sent with one id (so a repeated send of it leaves the place to the stored job). */
const PLACES: Record<string, { chord: string; index: number }> = { j1: { chord: 'c1', index: 0 }, j2: { chord: 'c1', index: 1 }, j3: { chord: 'c2', index: 0 }, j4: { chord: 'c2', index: 1 } };
/** Every id a job may have: the sends', and the chords' callbacks. */
const ALL_IDS = [...IDS, ...Object.keys(CHORDS)];
const QUEUES = ['a', 'b'];

type Op =
  | { op: 'enqueue'; sends: ModelSend[] }
  | { op: 'reserve'; queue: string; limit: number }
  | { op: 'settle'; lease: number; settlement: ModelSettlement }
  | { op: 'renew'; lease: number }
  | { op: 'revoke'; id: string; terminate: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'recover' }
  | { op: 'retry'; id: string }
  | { op: 'deleteExpired' }
  | { op: 'stepPut'; lease: number; name: string; value: string }
  | { op: 'stepGet'; lease: number; name: string };

const send: fc.Arbitrary<ModelSend> = fc.record({
  id: fc.constantFrom(...IDS),
  queue: fc.constantFrom(...QUEUES),
  priority: fc.constantFrom(0, 1),
  delayMs: fc.constantFrom(0, 0, 1_500),
  maxDeliveries: fc.constantFrom(1, 2),
  key: fc.constantFrom(null, null, 'k1', 'k2'),
  keyTtl: fc.constantFrom(null, 3_000),
  expiresInMs: fc.constantFrom(null, null, 1_000),
  at: fc.constantFrom(null, null, null, T0 + 1_000, T0 + 6_000),
  inChord: fc.boolean(),
}).map(({ inChord, ...s }): ModelSend => {
  const chord = inChord ? (PLACES[s.id] ?? null) : null;
  // Keys are sent on one queue (their scope is per queue on Redis), and never on a chord member.
  return s.queue === 'a' && chord === null ? { ...s, chord } : { ...s, chord, key: null, keyTtl: null };
});

const settlement: fc.Arbitrary<ModelSettlement> = fc.oneof(
  fc.record({ kind: fc.constant('complete' as const), result: fc.constantFrom('1', '"two"', '{"n":3}'), ttlMs: fc.constantFrom(3_000) }),
  fc.constant({ kind: 'fail' as const }),
  fc.record({ kind: fc.constant('retry' as const), delayMs: fc.constantFrom(0, 1_000) }),
  fc.constant({ kind: 'release' as const }),
);

const operation: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('enqueue' as const), sends: fc.array(send, { minLength: 1, maxLength: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('reserve' as const), queue: fc.constantFrom(...QUEUES), limit: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('settle' as const), lease: fc.nat(), settlement }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('renew' as const), lease: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revoke' as const), id: fc.constantFrom(...ALL_IDS), terminate: fc.boolean() }) },
  // Clock jumps: within a lease, past a lease (2 s), past a key TTL and result TTL (3 s).
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 1_000, 2_001, 3_500) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'recover' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retry' as const), id: fc.constantFrom(...ALL_IDS) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'deleteExpired' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stepPut' as const), lease: fc.nat(), name: fc.constantFrom('s1', 's2'), value: fc.constantFrom('1', '2') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stepGet' as const), lease: fc.nat(), name: fc.constantFrom('s1', 's2') }) },
);

/** A job to send as the client builds it: a countdown and a relative expiry, measured by the store. */
function toNewJob(s: ModelSend): NewJob {
  return {
    id: s.id, task: 'model.task', queue: s.queue, argsJson: '[]', priority: s.priority, runAt: s.at, ...(s.at === null ? { delayMs: s.delayMs } : {}),
    expiresAt: null, ...(s.expiresInMs === null ? {} : { expiresInMs: s.expiresInMs }), maxDeliveries: s.maxDeliveries,
    idempotency: s.key === null ? null : { key: s.key, ttlMs: s.keyTtl },
    chord: s.chord && {
      index: s.chord.index, size: CHORDS[s.chord.chord]!,
      callback: { id: s.chord.chord, task: 'model.sum', queue: 'b', argsJson: '[]', priority: 0, maxDeliveries: 3 },
    },
  };
}

function toSettlement(lease: LeaseRef, s: ModelSettlement): Settlement {
  switch (s.kind) {
    case 'complete':
      return { kind: 'complete', ...lease, resultJson: s.result, resultTtlMs: s.ttlMs };
    case 'fail':
      return { kind: 'fail', ...lease, error: { type: 'Error', message: 'model failure' } };
    case 'retry':
      return { kind: 'retry', ...lease, error: { type: 'Error', message: 'model retry' }, delayMs: s.delayMs };
    case 'release':
      return { kind: 'release', ...lease };
  }
}

/** What the test compares of a job: everything the model keeps. */
function project(job: JobRecord | null) {
  if (!job) return null;
  return {
    queue: job.queue, state: job.state, priority: job.priority, runAt: job.runAt, attempt: job.attempt, deliveries: job.deliveries,
    maxDeliveries: job.maxDeliveries, token: job.token, leaseExpiresAt: job.leaseExpiresAt, expiresAt: job.expiresAt,
    resultJson: job.resultJson, error: job.error ? [job.error.type, job.error.code].filter(Boolean).join('/') : null,
    idempotencyKey: job.idempotencyKey, argsJson: job.argsJson,
  };
}

function modelProject(model: StoreModel, id: string) {
  const j = model.jobs.get(id);
  if (!j) return null;
  return {
    queue: j.queue, state: j.state, priority: j.priority, runAt: j.runAt, attempt: j.attempt, deliveries: j.deliveries,
    maxDeliveries: j.maxDeliveries, token: j.token, leaseExpiresAt: j.leaseUntil, expiresAt: j.expiresAt,
    resultJson: j.result, error: j.error, idempotencyKey: j.key, argsJson: j.argsJson,
  };
}

/** Counts per queue and state, nonzero only. */
async function storeCounts(store: Store): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const q of await store.queueStats()) {
    const nonzero = Object.entries(q.counts).filter(([, n]) => n > 0);
    if (nonzero.length) out[q.queue] = Object.fromEntries(nonzero);
  }
  return out;
}

function modelCounts(model: StoreModel): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const j of model.jobs.values()) ((out[j.queue] ??= {})[j.state] = (out[j.queue]![j.state] ?? 0) + 1);
  return out;
}

/** Run one sequence against a fresh store and the model, comparing after every step. */
async function check(open: (clock: () => number) => Promise<Store> | Store, ops: Op[]): Promise<void> {
  const model = new StoreModel(T0);
  const store = await open(() => model.now);
  const leases: LeaseRef[] = [];
  const pick = (i: number) => leases[i % leases.length]!;
  try {
    for (const [step, o] of ops.entries()) {
      const at = `step ${step} ${JSON.stringify(o)}`;
      switch (o.op) {
        case 'enqueue':
          assert.deepEqual(await store.jobsEnqueue(o.sends.map(toNewJob)), model.enqueue(o.sends), at);
          break;
        case 'reserve': {
          const got = await store.jobsReserve({ queues: [o.queue], workerId: 'model', limit: o.limit, leaseMs: LEASE_MS });
          assert.deepEqual(got.map((j) => ({ id: j.id, token: j.token, attempt: j.attempt, deliveries: j.deliveries })), model.reserve(o.queue, o.limit, LEASE_MS), at);
          assert.ok(got.every((j) => j.leaseExpiresAt === model.now + LEASE_MS), `${at}: lease until now + lease`);
          leases.push(...got.map((j) => ({ id: j.id, token: j.token })));
          break;
        }
        case 'settle':
          if (leases.length === 0) continue;
          assert.deepEqual(await store.jobsSettle([toSettlement(pick(o.lease), o.settlement)]), [model.settle(pick(o.lease), o.settlement)], at);
          break;
        case 'renew':
          if (leases.length === 0) continue;
          assert.deepEqual(await store.jobsRenew({ leases: [pick(o.lease)], leaseMs: LEASE_MS }), model.renew([pick(o.lease)], LEASE_MS), at);
          break;
        case 'revoke':
          assert.equal(await store.jobRevoke({ id: o.id, terminate: o.terminate }), model.revoke(o.id, o.terminate), at);
          break;
        case 'advance':
          model.now += o.ms;
          break;
        case 'recover': {
          const got = await store.jobsRecoverExpired();
          assert.deepEqual({ requeued: [...got.requeued].sort(), failed: [...got.failed].sort() }, model.recoverExpired(), at);
          break;
        }
        case 'retry':
          assert.equal(await store.jobRetry(o.id), model.retry(o.id), at);
          break;
        case 'deleteExpired':
          assert.equal(await store.jobsDeleteExpired(), model.deleteExpired(), at);
          break;
        case 'stepPut':
          if (leases.length === 0) continue;
          assert.deepEqual(await store.jobStepPut({ ...pick(o.lease), name: o.name, resultJson: o.value }), model.stepPut(pick(o.lease), o.name, o.value), at);
          break;
        case 'stepGet':
          if (leases.length === 0) continue;
          assert.deepEqual(await store.jobStepGet({ ...pick(o.lease), name: o.name }), model.stepGet(pick(o.lease), o.name), at);
          break;
      }
      for (const id of ALL_IDS) assert.deepEqual(project(await store.jobGet(id)), modelProject(model, id), `${at}: job ${id}`);
      assert.deepEqual(await store.countersGet(), model.counters, `${at}: counters`);
      assert.deepEqual(await storeCounts(store), modelCounts(model), `${at}: counts per queue and state`);
    }
  } finally {
    await store.close();
  }
}

/** The engines, each opening a fresh, empty store on the model's clock. */
const engines: { name: string; ready(): Promise<void>; open(clock: () => number): Promise<Store> | Store; done(): Promise<void> }[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conveyor-model-'));
let files = 0;
engines.push({
  name: 'SqliteStore',
  ready: async () => {},
  open: (clock) => new SqliteStore(path.join(dir, `model-${++files}.db`), { clock }),
  done: async () => fs.rmSync(dir, { recursive: true, force: true }),
});
engines.push({
  name: 'RedisStore',
  ready: () => assertRedisReachable(),
  open: (clock) => new RedisStore({ url: SHARED_REDIS_URL, prefix: uniquePrefix(), clock }),
  done: async () => void (await deleteKeys(SHARED_REDIS_URL, ALL_TEST_KEYS)),
});
const pgSchemas: string[] = [];
const pgAdmin = adminSql();
engines.push({
  name: 'PostgresStore',
  ready: () => assertPostgresReachable(),
  open: (clock) => {
    pgSchemas.push(uniqueSchema());
    return PostgresStore.open({ url: SHARED_POSTGRES_URL, schema: pgSchemas.at(-1)!, clock, maxConnections: 2, description: 'model test' });
  },
  done: async () => {
    for (const schema of pgSchemas) await dropSchema(pgAdmin, schema);
    await pgAdmin.end();
  },
});
let cluster: RedisCluster | undefined;
engines.push({
  name: 'RedisStore on a 3-master Redis Cluster',
  ready: async () => {
    cluster = await startCluster(3);
  },
  open: (clock) => new RedisStore({ nodes: cluster!.nodes, prefix: uniquePrefix(), clock }),
  done: async () => cluster?.stop(),
});

for (const engine of engines) {
  describe(`the Store contract against its reference model: ${engine.name}`, () => {
    before(() => engine.ready());
    after(() => engine.done());
    const runs = engine.name.includes('Cluster') ? Math.max(1, Math.ceil(RUNS / 4)) : RUNS;
    it(`${runs} random sequences of 1 to 40 operations give the model's answers and states`, { timeout: Math.max(240_000, runs * 2_000) }, async (t) => {
      // size 'max': fast-check's default size makes arrays of at most 10, whatever maxLength says.
      const sequences = fc.array(operation, { minLength: 1, maxLength: 40, size: 'max' });
      const details = await fc.check(fc.asyncProperty(sequences, (ops) => check(engine.open, ops)), { numRuns: runs, seed: SEED });
      t.diagnostic(`seed ${details.seed} (CONVEYOR_MODEL_SEED=${details.seed} replays it)`);
      if (details.failed) {
        throw new Error(`the store differs from the model after ${details.numRuns} run(s); shrunk counterexample:\n${JSON.stringify(details.counterexample?.[0], null, 1)}\n${String(details.errorInstance)}`);
      }
    });
  });
}
