/**
 * The lease keeper's discovery, with the broken state built by hand: a job the store reserved for
 * a worker whose event loop is blocked (so the worker never held it) is found and renewed; once
 * the loop runs again, a discovered lease the worker does not hold itself is renewed no more.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LeaseKeeper, type LeaseEvents } from '../src/worker/lease-keeper.js';
import { describeEngines } from './exactly-once/engines.js';

const LIMIT = { timeout: 20_000 };
const MINUTE = 60_000;

describeEngines('lease keeper', (world) => {
  it('while the loop is blocked, renews the jobs the store lists under the worker id; afterwards only those the worker holds', LIMIT, async () => {
    const w = world();
    const mine = await w.app.send('t', [1]);
    const unclaimed = await w.app.send('t', [2]);
    const other = await w.app.send('t', [3]);
    const reserve = (workerId: string) => w.store.jobsReserve({ queues: ['default'], workerId, limit: 1, leaseMs: MINUTE });
    const [a] = await reserve('w-a');
    const [b] = await reserve('w-a');
    const [c] = await reserve('w-b');
    assert.deepEqual([a!.id, b!.id, c!.id], [mine.id, unclaimed.id, other.id]);
    const lost: string[] = [];
    const events: LeaseEvents = { lost: (lease) => void lost.push(lease.id), warn: () => {}, error: () => {} };
    let blocked = true;
    const keeper = new LeaseKeeper(w.store, { leaseMs: 10 * MINUTE, heartbeatMs: 1000, registryTtlMs: 3000, discover: { workerId: 'w-a', queues: ['default'], when: () => blocked } }, events);
    const expiry = async (id: string) => (await w.store.jobGet(id))!.leaseExpiresAt;

    w.clock.now += 1000;
    await keeper.beat();
    assert.deepEqual([await expiry(mine.id), await expiry(unclaimed.id), await expiry(other.id)], [w.clock.now + 10 * MINUTE, w.clock.now + 10 * MINUTE, c!.leaseExpiresAt], 'both of w-a\'s jobs are renewed, not w-b\'s');

    // The loop runs again and holds the job it had reserved; the other was never its delivery.
    blocked = false;
    keeper.hold([{ id: a!.id, token: a!.token }]);
    const renewedAt = w.clock.now;
    w.clock.now += 1000;
    await keeper.beat();
    assert.equal(await expiry(mine.id), w.clock.now + 10 * MINUTE);
    assert.equal(await expiry(unclaimed.id), renewedAt + 10 * MINUTE, 'a discovered lease nobody claimed is not renewed again');
    assert.deepEqual(lost, []);
  });
});
