/**
 * Idle workers on PostgreSQL wait on LISTEN: a reserve that finds nothing wakes nobody, so two
 * idle workers do not wake each other (and themselves) into a loop of empty reserves.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Conveyor, Worker } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { waitFor } from '../crash/processes.js';
import { removeSchema, SHARED_POSTGRES_URL, uniqueSchema } from './servers.js';

/** `store`, counting its reserve calls. */
function counted(store: Store): { store: Store; reserves: () => number } {
  let reserves = 0;
  const proxy = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'jobsReserve' || prop === 'jobsSettleAndReserve') {
        return (...args: unknown[]) => {
          reserves++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { store: proxy, reserves: () => reserves };
}

describe('idle workers (PostgreSQL)', () => {
  const schema = uniqueSchema();
  after(() => removeSchema(schema));

  it('two idle workers waiting 3 s for a scheduled job reserve a handful of times, not in a loop', async (t) => {
    const open = () => PostgresStore.open({ url: SHARED_POSTGRES_URL, schema, description: 'test' });
    const stores = [counted(await open()), counted(await open())];
    const apps = stores.map(({ store }) => new Conveyor({ store }));
    for (const app of apps) app.task({ name: 'later' }, async () => 'ran');
    const workers = apps.map((app) => new Worker(app, { concurrency: 2, logger: pino({ level: 'silent' }) }));
    const total = () => stores.reduce((n, s) => n + s.reserves(), 0);
    try {
      for (const w of workers) w.start();
      await waitFor('each worker to find nothing to do', () => stores.every((s) => s.reserves() >= 1), 20_000);
      const before = total();
      // Due in 3 s on the database's clock: until then only the send, the safety poll (1 s) and
      // the job's due time wake a worker, and each wake costs it two reserves (one per exchange
      // in flight): about 20 in all. A reserve that woke the others made about 400 here.
      const job = await apps[0]!.send('later', [], { countdown: '3s' });
      assert.equal(await job.get({ timeout: 30_000 }), 'ran');
      const reserves = total() - before;
      t.diagnostic(`${reserves} reserves`);
      assert.ok(reserves <= 60, `two idle workers reserved ${reserves} times while waiting 3 s (a wake-up loop)`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(apps.map((a) => a.close())); // and the stores given to them
    }
  });
});
