/**
 * A worker's deliveries, each on its own: a slot belongs to one delivery (job id and token), so
 * a second delivery of a job to the same worker, while the first still runs, is renewed and
 * settled as itself; and a graceful shutdown never releases a delivery whose outcome is being
 * written.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Conveyor, Worker } from '../src/index.js';
import { describeEngines, recordingLogger } from './exactly-once/engines.js';
import { holdCalls } from './fixtures/held-store.js';
import { deferred, keepAlive, silent, T0, turns, within } from './helpers.js';

const LIMIT = { timeout: 20_000 };

/** Let the worker run until `check` holds; fail after 5 s instead of hanging. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turns(1);
  }
}

describeEngines('a worker delivered its own job again', (world) => {
  it("keeps renewing the new delivery after the old one's refused outcome", LIMIT, async () => {
    const w = world();
    const gates = new Map([[1, deferred()], [2, deferred()]]);
    const t = w.app.task({ name: 't' }, async (ctx) => {
      await gates.get(ctx.fencingToken)!.promise;
      return `delivery ${ctx.fencingToken}`;
    });
    const r = await t.delay();
    const worker = w.worker({ concurrency: 2, lease: 1000 });
    const first = worker.runOnce(); // token 1 starts, and waits for its gate
    await until('the first delivery', async () => (await r.info()).fencingToken === 1);

    w.clock.now = T0 + 1001; // its lease lapsed (the worker was frozen, or the store unreachable)
    const second = worker.runOnce(); // recovers the job and is delivered it again: token 2
    await until('the second delivery, in a slot of its own', async () => (await r.info()).fencingToken === 2 && worker.active === 2);

    gates.get(1)!.resolve(); // the old delivery ends; its outcome is refused
    await within(5000, first);
    assert.equal(worker.counts.lost, 1);
    assert.equal(worker.active, 1, 'the new delivery still holds its slot');

    w.clock.now = T0 + 1801;
    await worker.heartbeat();
    assert.equal((await w.store.jobGet(r.id))?.leaseExpiresAt, T0 + 2801, 'the new delivery was renewed');
    w.clock.now = T0 + 2500; // past the lease it was given at T0 + 1001
    assert.deepEqual(await w.store.jobsRecoverExpired(), { requeued: [], failed: [] });

    gates.get(2)!.resolve();
    await within(5000, second);
    const info = await r.info();
    assert.deepEqual([info.state, info.result, info.fencingToken, info.deliveries], ['SUCCESS', 'delivery 2', 2, 2]);
    assert.deepEqual(worker.counts, { succeeded: 1, failed: 0, retried: 0, released: 0, lost: 1 });
  });
});

describeEngines('graceful shutdown and an outcome being written', (world) => {
  it('a job that ended while stop() waited is settled, not released', LIMIT, async () => {
    const w = world();
    const keep = keepAlive();
    const held = holdCalls(w.store, 'jobsSettleAndReserve');
    const app = new Conveyor({ store: held.store, clock: () => w.clock.now, logger: silent });
    const log = recordingLogger();
    const gates = { a: deferred(), b: deferred() };
    let worker: Worker | undefined;
    try {
      const runs: string[] = [];
      const t = app.task({ name: 't' }, async (_ctx, name: 'a' | 'b') => {
        runs.push(name);
        await gates[name].promise;
        return name;
      });
      const [a, b] = [await t.delay('a'), await t.delay('b')];
      worker = new Worker(app, { concurrency: 2, logger: log.logger, workerId: 'w1' });
      worker.start();
      await until('both jobs to start', () => runs.length === 2);
      held.holding(true);
      gates.b.resolve(); // b's outcome goes out in an exchange, held on its way to the store
      await until("b's exchange", () => held.held.length === 1);

      const stopped = worker.stop({ grace: 0 }); // the grace is over at once: a is still running
      const logged = (pattern: RegExp) => () => log.lines.some((l) => pattern.test(l.msg));
      await until('the grace period to end', logged(/^shutdown grace period over/));
      gates.a.resolve(); // a ends while stop() waits for b's exchange
      // An engine that keeps two exchanges in flight sends a's outcome in a second one at once.
      if (w.store.capabilities.remoteCalls) await until("a's exchange", () => held.held.length === 2);
      held.holding(false);
      held.held[0]!.release(); // b's exchange lands; stop() goes on to release what still runs
      await until('stop() to release what it found running', logged(/^released \d+ unfinished/));
      while (held.held.length > 0) held.held[0]!.release(); // a's exchange, if it was held
      assert.equal(await within(10_000, stopped), undefined);

      for (const [r, name] of [[a, 'a'], [b, 'b']] as const) {
        const job = (await w.store.jobGet(r.id))!;
        assert.deepEqual([job.state, job.resultJson, job.token, job.history], ['SUCCESS', `"${name}"`, 1, []], `job ${name}`);
      }
      assert.deepEqual(worker.counts, { succeeded: 2, failed: 0, retried: 0, released: 0, lost: 0 });
    } finally {
      // Should an assertion fail halfway, let everything held go, so the worker stops.
      held.holding(false);
      while (held.held.length > 0) held.held[0]!.release();
      gates.a.resolve();
      gates.b.resolve();
      await worker?.stop({ grace: 0 });
      keep();
    }
  });
});
