/**
 * Conformance: pools — `poolAdd`, `poolRemove`, `poolAcquire`, `poolRenew`, `poolRelease`,
 * `poolItems`, `poolsReclaimExpired` — and `countersGet`.
 *
 * Terminology: a *pool* is a named set of items (API keys, browser sessions) a holder leases one
 * at a time, fenced by a token that grows with every acquire of the pool.
 */
import assert from 'node:assert/strict';
import { COUNTERS, type PoolItem, type PoolLease, type Store } from '../../src/store/store.js';
import type { Harness } from './harness.js';
import { SECOND, counters, type TestFn } from './harness.js';

const TTL = 10 * SECOND;

/** Acquire from `pool` as `holder` with {@link TTL}. */
const acquire = (h: Harness, pool: string, holder: string, store: Store = h.store): Promise<PoolLease | null> =>
  store.poolAcquire({ pool, holder, ttlMs: TTL });

/** Acquire, failing the test when nothing is free. */
async function acquireOne(h: Harness, pool: string, holder: string): Promise<PoolLease> {
  const lease = await acquire(h, pool, holder);
  if (!lease) throw new Error(`nothing free in pool ${pool}`);
  return lease;
}

const releaseLease = (h: Harness, lease: PoolLease) => h.store.poolRelease({ pool: lease.pool, item: lease.item, token: lease.token });
const free = (item: string): PoolItem => ({ item, holder: null, token: null, expiresAt: null });
const held = (lease: PoolLease, holder: string): PoolItem => ({ item: lease.item, holder, token: lease.token, expiresAt: lease.expiresAt });
/** A pool's items by name (the order of `poolItems` is not pinned). */
const itemsOf = async (h: Harness, pool: string): Promise<PoolItem[]> => (await h.store.poolItems(pool)).sort((a, b) => a.item.localeCompare(b.item));

function membershipTests(test: TestFn): void {
  test('pools: poolAdd answers how many items were new; repeats are ignored', async (h) => {
    assert.equal(await h.store.poolAdd({ pool: 'keys', items: ['a', 'b', 'a'] }), 2);
    assert.equal(await h.store.poolAdd({ pool: 'keys', items: ['b', 'c'] }), 1);
    assert.equal(await h.store.poolAdd({ pool: 'keys', items: [] }), 0);
    assert.deepEqual(await itemsOf(h, 'keys'), [free('a'), free('b'), free('c')]);
    assert.deepEqual(await h.store.poolItems('no-such-pool'), []);
  });

  test('pools: poolAdd of an item already held leaves its lease alone', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const lease = await acquireOne(h, 'p', 'h1');
    assert.equal(await h.store.poolAdd({ pool: 'p', items: ['a'] }), 0);
    assert.deepEqual(await itemsOf(h, 'p'), [held(lease, 'h1')]);
    assert.equal(await acquire(h, 'p', 'h2'), null);
  });

  test('pools: poolRemove of a free item removes it at once and answers how many were in the pool', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a', 'b'] });
    assert.equal(await h.store.poolRemove({ pool: 'p', items: ['a', 'zz'] }), 1);
    assert.deepEqual(await itemsOf(h, 'p'), [free('b')]);
    assert.equal((await acquireOne(h, 'p', 'h1')).item, 'b');
    assert.equal(await acquire(h, 'p', 'h2'), null);
    assert.equal(await h.store.poolRemove({ pool: 'nowhere', items: ['a'] }), 0);
  });

  test('pools: poolRemove of a held item: still held, and it leaves the pool when released', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const lease = await acquireOne(h, 'p', 'h1');
    assert.equal(await h.store.poolRemove({ pool: 'p', items: ['a'] }), 1);
    assert.deepEqual(await itemsOf(h, 'p'), [held(lease, 'h1')], 'listed until it leaves');
    assert.equal(await acquire(h, 'p', 'h2'), null);
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: lease.token, ttlMs: TTL }), h.now + TTL, 'its holder still holds it');
    assert.equal(await releaseLease(h, lease), 'released');
    assert.deepEqual(await h.store.poolItems('p'), []);
    assert.equal(await acquire(h, 'p', 'h2'), null);
    assert.deepEqual(await h.counters(), counters());
    assert.equal(await h.store.poolAdd({ pool: 'p', items: ['a'] }), 1, 'added back, it is new again');
  });

  test('pools: pools are independent by name', async (h) => {
    await h.store.poolAdd({ pool: 'p1', items: ['a', 'b'] });
    await h.store.poolAdd({ pool: 'p2', items: ['a'] });
    const [x, y] = [await acquireOne(h, 'p1', 'h1'), await acquireOne(h, 'p1', 'h1')];
    assert.deepEqual([x.pool, y.pool], ['p1', 'p1']);
    assert.equal(await acquire(h, 'p1', 'h1'), null);
    assert.deepEqual(await itemsOf(h, 'p2'), [free('a')]);
    assert.equal(await h.store.poolRemove({ pool: 'p2', items: ['b'] }), 0);
    assert.equal(await h.store.poolRemove({ pool: 'p2', items: ['a'] }), 1);
    const byItem = [x, y].sort((l, r) => l.item.localeCompare(r.item));
    assert.deepEqual(await itemsOf(h, 'p1'), byItem.map((l) => held(l, 'h1')));
  });
}

function namingTests(test: TestFn): void {
  test('pools: pool and item names round-trip exactly (spaces, colons, braces, unicode)', async (h) => {
    const pool = 'api keys: {eu}';
    const items = ['k:1', 'ключ 🔑', '}{', 'item:k:1'];
    assert.equal(await h.store.poolAdd({ pool, items }), 4);
    assert.deepEqual(await itemsOf(h, pool), [...items].sort((a, b) => a.localeCompare(b)).map(free));
    assert.deepEqual(await h.store.poolItems('api keys: '), []);
    assert.deepEqual(await h.store.poolItems('eu'), []);
    const lease = await acquireOne(h, pool, 'holder: {1}');
    assert.equal(lease.item, 'k:1');
    assert.deepEqual((await itemsOf(h, pool)).find((i) => i.item === 'k:1'), held(lease, 'holder: {1}'));
    assert.equal(await releaseLease(h, lease), 'released');
  });
}

function leaseTests(test: TestFn): void {
  test('pools: acquire gives distinct items with growing tokens, then null', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a', 'b', 'c'] });
    const leases: PoolLease[] = [];
    for (const holder of ['h1', 'h2', 'h3']) {
      h.advance(1);
      const lease = await acquireOne(h, 'p', holder);
      assert.equal(lease.pool, 'p');
      assert.equal(lease.expiresAt, h.now + TTL);
      leases.push(lease);
    }
    assert.equal(new Set(leases.map((l) => l.item)).size, 3);
    assert.ok(leases[0].token < leases[1].token && leases[1].token < leases[2].token, `tokens ${leases.map((l) => l.token)} must grow`);
    assert.equal(await acquire(h, 'p', 'h4'), null);
    assert.equal(await acquire(h, 'no-such-pool', 'h4'), null);
    assert.deepEqual(await itemsOf(h, 'p'), leases.map((l, i) => held(l, `h${i + 1}`)).sort((a, b) => a.item.localeCompare(b.item)));
  });

  test('pools: acquire takes the item free longest', async (h) => {
    for (const item of ['c', 'a', 'b']) {
      await h.store.poolAdd({ pool: 'p', items: [item] });
      h.advance(1);
    }
    const [c, a, b] = [await acquireOne(h, 'p', 'h'), await acquireOne(h, 'p', 'h'), await acquireOne(h, 'p', 'h')];
    assert.deepEqual([c.item, a.item, b.item], ['c', 'a', 'b']);
    h.advance(1);
    await releaseLease(h, a);
    h.advance(1);
    await releaseLease(h, c);
    assert.deepEqual([(await acquireOne(h, 'p', 'h')).item, (await acquireOne(h, 'p', 'h')).item], ['a', 'c']);
  });

  test('pools: items added in one call come in the order given', async (h) => {
    // Free since the same moment: the tie is broken by their order in the call, as jobs in a batch.
    await h.store.poolAdd({ pool: 'p', items: ['z', 'x', 'y'] });
    const taken = [];
    for (let i = 0; i < 3; i++) taken.push((await acquireOne(h, 'p', 'h')).item);
    assert.deepEqual(taken, ['z', 'x', 'y']);
  });

  test('pools: release frees the item for the next acquire, with a bigger token', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const first = await acquireOne(h, 'p', 'h1');
    assert.equal(await releaseLease(h, first), 'released');
    assert.deepEqual(await itemsOf(h, 'p'), [free('a')]);
    const second = await acquireOne(h, 'p', 'h2');
    assert.equal(second.item, 'a');
    assert.ok(second.token > first.token);
    assert.deepEqual(await h.counters(), counters());
  });

  test('pools: a second release answers not-held, changes nothing and counts a double release', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const lease = await acquireOne(h, 'p', 'h1');
    assert.equal(await releaseLease(h, lease), 'released');
    assert.equal(await releaseLease(h, lease), 'not-held');
    assert.deepEqual(await itemsOf(h, 'p'), [free('a')]);
    assert.equal(await h.store.poolRelease({ pool: 'p', item: 'ghost', token: lease.token }), 'not-held');
    assert.deepEqual(await h.counters(), counters({ double_release_total: 2 }));
  });

  test('pools: a lapsed lease is reclaimed by the next acquire; its old holder can neither release nor renew', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const old = await acquireOne(h, 'p', 'old');
    h.advance(TTL - 1);
    assert.equal(await acquire(h, 'p', 'new'), null, 'not lapsed before its expiry');
    h.advance(2);
    assert.deepEqual(await itemsOf(h, 'p'), [held(old, 'old')], 'a lapsed lease is reported as stored');
    const taken = await acquireOne(h, 'p', 'new');
    assert.equal(taken.item, 'a');
    assert.ok(taken.token > old.token);
    assert.deepEqual(await h.counters(), counters({ pool_items_reclaimed_total: 1 }));
    assert.equal(await releaseLease(h, old), 'not-held');
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: old.token, ttlMs: TTL }), null);
    assert.deepEqual(await itemsOf(h, 'p'), [held(taken, 'new')], 'the new holder keeps it');
    assert.deepEqual(await h.counters(), counters({ pool_items_reclaimed_total: 1, double_release_total: 1 }));
    assert.equal(await releaseLease(h, taken), 'released');
  });

  test('pools: a lapsed lease not yet reclaimed is still held: its holder can renew and release it', async (h) => {
    // 'not-held' is for "released already, or lapsed and taken by someone else": this one is neither.
    // As with job leases, a lapsed lease stands until something reclaims it.
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const lease = await acquireOne(h, 'p', 'h1');
    h.advance(TTL + 1);
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: lease.token, ttlMs: TTL }), h.now + TTL, 'answers the new expiry');
    assert.deepEqual(await itemsOf(h, 'p'), [{ ...held(lease, 'h1'), expiresAt: h.now + TTL }]);
    assert.equal(await acquire(h, 'p', 'h2'), null, 'renewed, so not reclaimed');
    h.advance(TTL + 1);
    assert.equal(await releaseLease(h, lease), 'released');
    assert.deepEqual(await itemsOf(h, 'p'), [free('a')]);
    assert.equal(await h.store.poolsReclaimExpired(), 0);
    assert.deepEqual(await h.counters(), counters());
  });

  test('pools: a removed item whose lease lapses leaves the pool when reclaimed', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a', 'b'] });
    const lease = await acquireOne(h, 'p', 'h1');
    await h.store.poolRemove({ pool: 'p', items: [lease.item] });
    h.advance(TTL + 1);
    assert.equal(await h.store.poolsReclaimExpired(), 1);
    assert.deepEqual(await itemsOf(h, 'p'), [free(lease.item === 'a' ? 'b' : 'a')]);
    assert.equal(await releaseLease(h, lease), 'not-held');
    assert.deepEqual(await h.counters(), counters({ pool_items_reclaimed_total: 1, double_release_total: 1 }));
  });

  test('pools: an acquire returns every lapsed item of its pool, each counted once', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a', 'b', 'c'] });
    await acquireOne(h, 'p', 'h1');
    await acquireOne(h, 'p', 'h1');
    h.advance(TTL + 1);
    const live = await acquireOne(h, 'p', 'h2');
    assert.deepEqual(await h.counters(), counters({ pool_items_reclaimed_total: 2 }));
    assert.equal((await itemsOf(h, 'p')).filter((i) => i.holder !== null).length, 1, `only ${live.item} is held`);
    assert.equal(await h.store.poolsReclaimExpired(), 0);
  });

  test('pools: poolRenew extends a lease from now and answers its new expiry; an old or unknown lease is refused (null)', async (h) => {
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const lease = await acquireOne(h, 'p', 'h1');
    h.advance(TTL / 2);
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: lease.token, ttlMs: TTL }), h.now + TTL, 'answers the new expiry');
    assert.deepEqual(await itemsOf(h, 'p'), [{ ...held(lease, 'h1'), expiresAt: h.now + TTL }]);
    h.advance(TTL / 2 + 1); // past the first expiry
    assert.equal(await acquire(h, 'p', 'h2'), null);
    assert.equal(await h.store.poolsReclaimExpired(), 0);
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: lease.token + 1, ttlMs: TTL }), null);
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'ghost', token: lease.token, ttlMs: TTL }), null);
    h.advance(TTL / 2);
    const next = await acquireOne(h, 'p', 'h2');
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: lease.token, ttlMs: TTL }), null);
    assert.equal(await releaseLease(h, next), 'released');
    assert.equal(await h.store.poolRenew({ pool: 'p', item: 'a', token: next.token, ttlMs: TTL }), null, 'a free item');
    assert.deepEqual(await h.counters(), counters({ pool_items_reclaimed_total: 1 }));
  });

  test('pools: poolsReclaimExpired returns the lapsed items of every pool and answers how many', async (h) => {
    await h.store.poolAdd({ pool: 'p1', items: ['a', 'b'] });
    await h.store.poolAdd({ pool: 'p2', items: ['x', 'y'] });
    const a = await acquireOne(h, 'p1', 'h1');
    const x = await acquireOne(h, 'p2', 'h1');
    const y = await h.store.poolAcquire({ pool: 'p2', holder: 'h2', ttlMs: 3 * TTL });
    assert.ok(y);
    h.advance(TTL + 1);
    assert.equal(await h.store.poolsReclaimExpired(), 2);
    assert.deepEqual(await itemsOf(h, 'p1'), [free('a'), free('b')]);
    assert.deepEqual(await itemsOf(h, 'p2'), [free('x'), held(y, 'h2')]);
    assert.equal(await h.store.poolsReclaimExpired(), 0);
    assert.equal(await releaseLease(h, a), 'not-held');
    assert.equal(await releaseLease(h, x), 'not-held');
    assert.deepEqual(await h.counters(), counters({ pool_items_reclaimed_total: 2, double_release_total: 2 }));
  });

  test('pools: two handles racing to acquire a one-item pool: exactly one wins', async (h) => {
    const other = await h.openShared();
    await h.store.poolAdd({ pool: 'p', items: ['only'] });
    const leases = await Promise.all(Array.from({ length: 20 }, (_, i) => acquire(h, 'p', `h${i}`, i % 2 === 0 ? h.store : other)));
    const winners = leases.filter((l) => l !== null);
    assert.equal(winners.length, 1);
    assert.deepEqual(await other.poolItems('p'), [held(winners[0], `h${leases.indexOf(winners[0])}`)]);
  });
}

function counterTests(test: TestFn): void {
  test('countersGet answers every counter of COUNTERS, 0 on a fresh store', async (h) => {
    const all = await h.counters();
    assert.deepEqual(Object.keys(all).sort(), [...COUNTERS].sort());
    assert.deepEqual(all, counters());
  });

  test('counters are summed over every handle on one store', async (h) => {
    const other = await h.openShared();
    await h.store.poolAdd({ pool: 'p', items: ['a'] });
    const lease = await acquireOne(h, 'p', 'h1');
    await releaseLease(h, lease);
    await other.poolRelease({ pool: 'p', item: 'a', token: lease.token });
    await h.store.poolRelease({ pool: 'p', item: 'a', token: lease.token });
    assert.deepEqual(await other.countersGet(), counters({ double_release_total: 2 }));
    assert.deepEqual(await h.counters(), counters({ double_release_total: 2 }));
  });
}

export function poolTests(test: TestFn): void {
  membershipTests(test);
  namingTests(test);
  leaseTests(test);
  counterTests(test);
}
