/**
 * The Lua scripts called directly (not through RedisStore): their KEYS/ARGV contracts, their
 * named codes, and the loader's NOSCRIPT fallback after Redis forgets them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { defineScripts, runScript } from '../../src/store/redis/scripts.js';
import { encodeCallbacks, encodeChord } from '../../src/store/redis/wire.js';
import { ALL_TEST_KEYS, assertRedisReachable, deleteKeys, SHARED_REDIS_URL, uniquePrefix } from './servers.js';

/**
 * A client with the scripts defined, a key prefix of its own and (a single Redis) its id
 * registry's key, for one describe block: its hooks connect before and clean up after.
 */
function scriptsOn(): { client: Redis; prefix: string; ids: string } {
  const client = new Redis(SHARED_REDIS_URL);
  const prefix = uniquePrefix();
  before(async () => {
    await assertRedisReachable();
    defineScripts(client);
  });
  after(async () => {
    await deleteKeys(SHARED_REDIS_URL, ALL_TEST_KEYS);
    await client.quit();
  });
  return { client, prefix, ids: `${prefix}:ids` };
}

describe('Redis Lua scripts, called directly', () => {
  const { client, prefix, ids } = scriptsOn();
  const base = `${prefix}:{emails}:`;
  /** enqueue.lua's eleven arguments of a job with no key, callbacks or chord. */
  const job = (id: string, args = '[]', priority = 0, runAt = now) => [id, 'send', args, priority, runAt, 5, ''];
  const now = 1_700_000_000_000;

  it('enqueue answers CREATED per new job and EXISTS for an id already stored; reserve leases by priority', async () => {
    const created = await runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...job('a', '["x"]'), ...job('b', '["y"]', 7), ...job('a')]);
    assert.deepEqual(created, [['CREATED', 'CREATED', 'EXISTS'], [], 0]);
    assert.equal(await client.hget(`${base}counts`, 'PENDING'), '2');
    assert.equal(await client.hget(`${base}counters`, 'duplicates_suppressed_total'), '1');
    const [taken, outboxed] = (await runScript(client, 'reserve', base, [now, 'w1', 10, 30_000, 86_400_000, prefix, ids])) as [unknown[][], number];
    assert.deepEqual(taken.map((j) => j.slice(0, 6)), [['b', 'send', '["y"]', '1', 1, 1], ['a', 'send', '["x"]', '1', 1, 1]]);
    assert.equal(taken[0]![7], null, 'no parent');
    assert.equal(outboxed, 0);
    assert.equal(await client.zscore(`${base}leased`, 'a'), String(now + 30_000));
  });

  it('settle answers a named code per settlement, fenced by token, and reserves in the same call', async () => {
    await runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...job('c')]);
    const [codes, jobs, outboxed] = (await runScript(client, 'settle', base, [
      now, 'settled', 'wake', 86_400_000, 5, 'w1', 30_000, prefix, ids,
      'complete', 'a', '1', '{"ok":true}', 3_600_000,
      'fail', 'b', '99', '{"type":"Error","message":"x"}', '',
      'complete', 'nope', '1', 'null', 3_600_000,
    ])) as [string[], unknown[][], number];
    assert.deepEqual(codes, ['OK', 'STALE', 'MISSING']);
    assert.deepEqual(jobs.map((j) => j[0]), ['c']);
    assert.equal(outboxed, 0);
    assert.equal(await client.hget(`${base}counters`, 'stale_writes_refused_total'), '1');
    assert.equal(await client.hget(`${base}job:a`, 's'), 'SUCCESS');
    assert.equal(await client.hget(`${base}job:a`, 'res'), '{"ok":true}');
    const again = (await runScript(client, 'settle', base, [now, 'settled', 'wake', 86_400_000, 0, '', 0, prefix, ids, 'complete', 'a', '1', '1', 1])) as [string[]];
    assert.deepEqual(again[0], ['FINAL']);
  });

  it('revoke answers REVOKED then FINAL, and a revoked holder gets REVOKED_TERMINATE', async () => {
    const error = '{"type":"RevokedError","message":"by test"}';
    assert.equal(await runScript(client, 'revoke', base, [now, 'b', 1, error, 86_400_000, 'settled', prefix, ids]), 'REVOKED');
    assert.equal(await runScript(client, 'revoke', base, [now, 'b', 1, error, 86_400_000, 'settled', prefix, ids]), 'FINAL');
    assert.equal(await runScript(client, 'revoke', base, [now, 'ghost', 0, error, 86_400_000, 'settled', prefix, ids]), 'MISSING');
    assert.deepEqual(await runScript(client, 'renew', base, [now, 60_000, 'b', '1', 'c', '1']), ['REVOKED_TERMINATE', 'OK']);
    assert.equal(await client.hget(`${base}job:c`, 'l'), String(now + 60_000), 'renewed to now + the lease');
  });

  it('recover returns lapsed leases to the queue, and retry_final revives a dead letter', async () => {
    const [requeued, failed, outboxed] = (await runScript(client, 'recover', base, [now + 120_000, 'wake', prefix, ids])) as [string[], string[], number];
    assert.deepEqual([requeued, failed, outboxed], [['c'], [], 0]);
    assert.equal(await client.hget(`${base}job:c`, 's'), 'PENDING');
    assert.equal(await runScript(client, 'retry_final', base, [now, 'b', 'wake']), 'RETRIED');
    assert.equal(await runScript(client, 'retry_final', base, [now, 'b', 'wake']), 'NOT_FINAL');
    assert.deepEqual(await runScript(client, 'purge', base, [prefix, ids]), [2, 0]);
    assert.deepEqual(await runScript(client, 'delete_expired', base, [now + 7_200_000, prefix, ids]), [1, 0], 'the SUCCESS job a, past its TTL');
  });

  it('scripts still run after Redis forgets them (SCRIPT FLUSH): EVALSHA falls back to EVAL', async () => {
    await client.script('FLUSH');
    assert.deepEqual(await runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...job('d')]), [['CREATED'], [], 0]);
    assert.deepEqual(await runScript(client, 'purge', base, [prefix, ids]), [1, 0]);
  });
});

describe('Redis Lua scripts of exactly-once effects, called directly', () => {
  const { client, prefix, ids } = scriptsOn();
  const orders = `${prefix}:{orders}:`;
  const receipts = `${prefix}:{receipts}:`;
  const printers = `${prefix}:{pool:printers}:`;
  const now = 1_700_000_000_000;
  const day = 86_400_000;
  /** enqueue.lua's eleven arguments of a job. */
  const job = (id: string, more: { key?: string; keyTtl?: number; callbacks?: string; chord?: string } = {}) => {
    const extras = { ik: more.key, it: more.keyTtl === undefined ? undefined : String(more.keyTtl), cb: more.callbacks, ch: more.chord };
    return [id, 'send', '[1]', 0, now, 5, Object.values(extras).some((v) => v !== undefined) ? JSON.stringify(extras) : ''];
  };
  const counter = async (base: string, name: string) => Number((await client.hget(`${base}counters`, name)) ?? 0);
  const reserve = async (base: string, limit = 10) =>
    ((await runScript(client, 'reserve', base, [now, 'w1', limit, 30_000, day, prefix, ids])) as [unknown[][], number])[0];
  const settle = (base: string, ...settlement: (string | number)[]) =>
    runScript(client, 'settle', base, [now, 'settled', 'wake', day, 0, '', 0, prefix, ids, ...settlement]) as Promise<[string[], unknown[], number]>;

  it('enqueue answers HELD with the holder id while the key is held, and counts it', async () => {
    const answers = await runScript(client, 'enqueue', orders, [now, 'wake', prefix, ids, ...job('k1', { key: 'order-1' }), ...job('k2', { key: 'order-1' })]);
    assert.deepEqual(answers, [['CREATED', 'HELD'], ['k1'], 0]);
    assert.equal(await client.hget(`${orders}idem`, 'order-1'), 'k1');
    assert.equal(await counter(orders, 'duplicates_suppressed_total'), 1);
    assert.deepEqual(await runScript(client, 'purge', orders, [prefix, ids]), [1, 0]);
    assert.equal(await client.hget(`${orders}idem`, 'order-1'), null, 'a purged holder frees its key');
  });

  it('settle fires a callback bound for another queue into the outbox, and relay applies it once', async () => {
    const callbacks = encodeCallbacks([{ on: 'success', passResult: true, job: { id: 'cb1', task: 'mail', queue: 'receipts', argsJson: '[ 1.50 ]', priority: 0, maxDeliveries: 3 } }]);
    await runScript(client, 'enqueue', orders, [now, 'wake', prefix, ids, ...job('p1', { callbacks })]);
    await reserve(orders);
    const [codes, , outboxed] = await settle(orders, 'complete', 'p1', '1', '{"n":1.0}', 3_600_000);
    assert.deepEqual([codes, outboxed], [['OK'], 1]);
    const [delivery] = await client.lrange(`${orders}outbox`, 0, -1);
    assert.equal(await runScript(client, 'relay', receipts, [now, prefix, ids, delivery!]), 0);
    assert.equal(await client.hget(`${receipts}job:cb1`, 'a'), '[{"n":1.0},1.50 ]', 'the result spliced in as text');
    const parent = JSON.parse((await client.hget(`${receipts}job:cb1`, 'par'))!);
    assert.deepEqual(parent, { id: 'p1', task: 'send', state: 'SUCCESS', resultJson: '{"n":1.0}', error: null });
    // A second relay of the same delivery (two relayers racing) creates and counts nothing.
    assert.equal(await runScript(client, 'relay', receipts, [now, prefix, ids, delivery!]), 0);
    assert.equal(await counter(receipts, 'callbacks_deduplicated_total'), 0);
    assert.equal(await client.hget(`${receipts}counts`, 'PENDING'), '1');
  });

  it('relay records chord marks once and fails the callback with a ChordError when a member failed', async () => {
    const chord = JSON.parse(encodeChord({ index: 0, size: 2, callback: { id: 'ch1', task: 'sum', queue: 'receipts', argsJson: '[]', priority: 0, maxDeliveries: 3 } }));
    const mark = (i: number, v: string) => JSON.stringify({ k: 'mark', j: chord.j, i, n: 2, v });
    assert.equal(await runScript(client, 'relay', receipts, [now, prefix, ids, mark(0, 'S[1]'), mark(0, 'S[1]')]), 0);
    assert.equal(await client.exists(`${receipts}job:ch1`), 0, 'one of two members');
    assert.equal(await counter(receipts, 'callbacks_deduplicated_total'), 0, 'the same mark twice is one mark');
    const failed = `F${JSON.stringify({ m: 'm2', e: 'chord member m2 (index 1) ended FAILURE: Error: boom' })}`;
    await runScript(client, 'relay', receipts, [now, prefix, ids, mark(1, failed)]);
    assert.equal(await client.hget(`${receipts}job:ch1`, 's'), 'FAILURE');
    assert.deepEqual(JSON.parse((await client.hget(`${receipts}job:ch1`, 'err'))!), {
      type: 'ChordError', code: 'CHORD_FAILED', message: 'chord member m2 (index 1) ended FAILURE: Error: boom',
    });
    assert.deepEqual(await client.hgetall(`${receipts}chord:ch1`), { 0: 'S[1]', 1: failed }, 'the marks, kept for a retry of the callback');
    assert.equal(await client.hget(`${receipts}job:ch1`, 'st'), null, 'failed at birth: never started');
    assert.equal(await client.zscore(`${receipts}failed`, 'ch1') !== null, true);
  });

  it('relay reads a failed member\'s mark written before marks were JSON as its message', async () => {
    const chord = JSON.parse(encodeChord({ index: 0, size: 1, callback: { id: 'ch2', task: 'sum', queue: 'receipts', argsJson: '[]', priority: 0, maxDeliveries: 3 } }));
    const old = JSON.stringify({ k: 'mark', j: chord.j, i: 0, n: 1, v: 'Fchord member m9 (index 0) ended FAILURE: Error: old' });
    await runScript(client, 'relay', receipts, [now, prefix, ids, old]);
    assert.deepEqual(JSON.parse((await client.hget(`${receipts}job:ch2`, 'err'))!), {
      type: 'ChordError', code: 'CHORD_FAILED', message: 'chord member m9 (index 0) ended FAILURE: Error: old',
    });
  });

  it('step_put records the first result, step_get replays it, both fenced by token', async () => {
    await runScript(client, 'enqueue', orders, [now, 'wake', prefix, ids, ...job('s1')]);
    await reserve(orders, 1);
    assert.deepEqual(await runScript(client, 'step_get', orders, ['s1', '1', 'charge']), ['OK']);
    assert.deepEqual(await runScript(client, 'step_put', orders, [now, 's1', '1', 'charge', '{"id":"ch_1"}']), ['OK', '{"id":"ch_1"}']);
    assert.deepEqual(await runScript(client, 'step_put', orders, [now + 5, 's1', '1', 'charge', '"other"']), ['OK', '{"id":"ch_1"}']);
    assert.deepEqual(await runScript(client, 'step_get', orders, ['s1', '1', 'charge']), ['OK', '{"id":"ch_1"}']);
    assert.equal(await client.hget(`${orders}steps:s1`, 'charge'), `1:1:${now}:{"id":"ch_1"}`);
    assert.deepEqual(await runScript(client, 'step_put', orders, [now, 's1', '9', 'other', '1']), ['STALE']);
    assert.deepEqual(await runScript(client, 'step_get', orders, ['ghost', '1', 'charge']), ['MISSING']);
    assert.equal(await counter(orders, 'steps_replayed_total'), 1);
    assert.equal(await counter(orders, 'stale_writes_refused_total'), 1);
  });

  it('pool scripts: add, acquire the free longest, renew and release fenced, remove, list, reclaim', async () => {
    assert.equal(await runScript(client, 'pool_add', printers, ['settled', 'p-b', 'p-a', 'p-b']), 2);
    assert.deepEqual(await runScript(client, 'pool_acquire', printers, [now, 'w1', 1_000]), ['p-b', 1, now + 1_000]);
    assert.deepEqual(await runScript(client, 'pool_renew', printers, [now, 'p-b', '1', 5_000]), ['OK', now + 5_000]);
    assert.deepEqual(await runScript(client, 'pool_renew', printers, [now, 'p-b', '7', 5_000]), ['NOT_HELD']);
    assert.equal(await runScript(client, 'pool_release', printers, ['settled', 'p-b', '1']), 'RELEASED');
    assert.equal(await runScript(client, 'pool_release', printers, ['settled', 'p-b', '1']), 'NOT_HELD');
    assert.equal(await counter(printers, 'double_release_total'), 1);
    assert.deepEqual(await runScript(client, 'pool_acquire', printers, [now, 'w2', 1_000]), ['p-a', 2, now + 1_000]);
    assert.equal(await runScript(client, 'pool_remove', printers, ['p-b', 'p-a', 'ghost']), 2, 'p-b leaves now, p-a on release');
    assert.deepEqual(await runScript(client, 'pool_items', printers, []), [['p-a', 'w2', '2', String(now + 1_000)]]);
    assert.equal(await runScript(client, 'pool_reclaim', printers, [now + 1_001]), 1);
    assert.deepEqual(await runScript(client, 'pool_items', printers, []), [], 'the removed item left when reclaimed');
    assert.equal(await counter(printers, 'pool_items_reclaimed_total'), 1);
    assert.equal(await runScript(client, 'pool_acquire', printers, [now, 'w3', 1_000]), null);
  });
});

describe('Redis Lua scripts of operations (progress, history, workers, ticks), called directly', () => {
  const { client, prefix, ids } = scriptsOn();
  const base = `${prefix}:{reports}:`;
  const workers = `${prefix}:{workers}:`;
  const beat = `${prefix}:{beat}:`;
  const now = 1_700_000_000_000;
  const day = 86_400_000;
  const job = (id: string) => [id, 'build', '[]', 0, now, 5, ''];
  const reserve = async (at = now) => ((await runScript(client, 'reserve', base, [at, 'w1', 10, 30_000, day, prefix, ids])) as [unknown[][], number])[0];
  const settle = (...settlement: (string | number)[]) =>
    runScript(client, 'settle', base, [now, 'settled', 'wake', day, 0, '', 0, prefix, ids, ...settlement]) as Promise<[string[], unknown[], number]>;

  it('progress stores "<at>:<fraction>:<info>" fenced by token; reserve deletes it', async () => {
    await runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...job('p')]);
    await reserve();
    assert.equal(await runScript(client, 'progress', base, [now + 5, 'p', '1', '0.5', '{"step":"copy"}']), 'OK');
    assert.equal(await client.hget(`${base}job:p`, 'pg'), `${now + 5}:0.5:{"step":"copy"}`);
    assert.equal(await runScript(client, 'progress', base, [now + 6, 'p', '1', '1', '']), 'OK');
    assert.equal(await client.hget(`${base}job:p`, 'pg'), `${now + 6}:1:`, 'null info is empty');
    assert.equal(await runScript(client, 'progress', base, [now, 'p', '7', '0.1', '']), 'STALE');
    assert.equal(await runScript(client, 'progress', base, [now, 'ghost', '1', '0.1', '']), 'MISSING');
    assert.equal(await client.hget(`${base}counters`, 'stale_writes_refused_total'), '1');
    await runScript(client, 'recover', base, [now + 60_000, 'wake', prefix, ids]);
    assert.ok(await client.hget(`${base}job:p`, 'pg'), 'kept until the next delivery');
    await reserve(now + 60_000);
    assert.equal(await client.hget(`${base}job:p`, 'pg'), null);
  });

  it('settle (retry, release) and recover append history lines, the user error spliced in unchanged', async () => {
    const hi = async () => (await client.hget(`${base}job:p`, 'hi')) ?? '';
    const lostLine = `{"token":1,"attempt":1,"worker":"w1","startedAt":${now},"endedAt":${now + 60_000},"outcome":"lost","error":null}\n`;
    assert.equal(await hi(), lostLine, 'the lease lost in the test above');
    const error = '{"type":"E","message":"x","n":1.50}';
    assert.deepEqual((await settle('retry', 'p', '2', error, 0))[0], ['OK']);
    assert.equal(await hi(), `${lostLine}{"token":2,"attempt":1,"worker":"w1","startedAt":${now + 60_000},"endedAt":${now},"outcome":"retry","error":${error}}\n`);
    await reserve();
    assert.deepEqual((await settle('release', 'p', '3', '', ''))[0], ['OK']);
    assert.match(await hi(), /\{"token":3,"attempt":2,"worker":"w1","startedAt":\d+,"endedAt":\d+,"outcome":"released","error":null\}\n$/);
    assert.deepEqual((await settle('release', 'p', '3', '', ''))[0], ['STALE']);
    assert.equal((await hi()).split('\n').length - 1, 3, 'a refused settlement appends nothing');
    for (let token = 4; token <= 52; token++) {
      await reserve();
      await settle('release', 'p', String(token), '', '');
    }
    const lines = (await hi()).split('\n').slice(0, -1);
    assert.equal(lines.length, 50, 'the last 50');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { token: number }).token), Array.from({ length: 50 }, (_, i) => i + 3));
  });

  it('worker_heartbeat, workers_list and worker_remove keep the registry under {workers}', async () => {
    assert.equal(await runScript(client, 'worker_heartbeat', workers, [now, 'w-b', '{"id":"w-b"}', 10_000]), 'OK');
    assert.equal(await runScript(client, 'worker_heartbeat', workers, [now, 'w-a', '{"id":"w-a"}', 20_000]), 'OK');
    assert.equal(await client.zscore(`${workers}expiry`, 'w-b'), String(now + 10_000));
    const seen = (id: string, at = now) => `{"id":"${id}","lastSeenAt":${at}}`;
    assert.deepEqual(((await runScript(client, 'workers_list', workers, [now + 10_000])) as string[]).sort(), [seen('w-a'), seen('w-b')], 'the script set lastSeenAt');
    assert.deepEqual(await runScript(client, 'workers_list', workers, [now + 10_001]), [seen('w-a')]);
    await runScript(client, 'worker_heartbeat', workers, [now + 10_001, 'w-c', '{"id":"w-c"}', 1]);
    assert.equal(await client.hget(`${workers}info`, 'w-b'), null, 'expired entries deleted at a heartbeat');
    assert.equal(await runScript(client, 'worker_remove', workers, ['w-a']), 1);
    assert.equal(await runScript(client, 'worker_remove', workers, ['w-a']), 0);
    assert.deepEqual(await runScript(client, 'workers_list', workers, [now + 10_001]), [seen('w-c', now + 10_001)]);
  });

  it('tick_advance moves a schedule tick only forward (1 when it moved); tick_get reads it under {beat}', async () => {
    assert.equal(await runScript(client, 'tick_get', beat, ['nightly']), null);
    assert.equal(await runScript(client, 'tick_advance', beat, ['nightly', now]), 1);
    assert.equal(await runScript(client, 'tick_advance', beat, ['nightly', now]), 0);
    assert.equal(await runScript(client, 'tick_advance', beat, ['nightly', now - 1]), 0);
    assert.equal(await runScript(client, 'tick_advance', beat, ['nightly', now + 60_000]), 1);
    assert.equal(await runScript(client, 'tick_get', beat, ['nightly']), String(now + 60_000));
    assert.equal(await client.hget(`${beat}ticks`, 'nightly'), String(now + 60_000));
  });
});

/**
 * Scripts fed what they cannot read (bypassing the adapter's checks, as a bug or another client
 * might): each refuses before its first write, or reads around it, and leaves no half-written
 * state — Redis would keep any write made before a script's error.
 */
describe('Redis Lua scripts fed input they cannot read, called directly', () => {
  const { client, prefix, ids } = scriptsOn();
  const base = `${prefix}:{orders}:`;
  const sums = `${prefix}:{sums}:`;
  const now = 1_700_000_000_000;
  const day = 86_400_000;
  /** cjson refuses this escape: a lone high surrogate. */
  const UNREADABLE = '{"ik":"cut \\ud83c"}';
  const plain = (id: string) => [id, 'send', '[]', 0, now, 5, ''];
  const keys = async () => (await client.keys(`${prefix}:*`)).sort();

  it('enqueue refuses a batch whose last job it cannot read, having written none of the batch', async () => {
    await assert.rejects(runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...plain('good-1'), ...plain('good-2'), 'bad', 'send', '[]', 0, now, 5, UNREADABLE]),
      /CONVEYOR_BAD_INPUT job bad: its extras are not readable JSON/);
    const callbacks = JSON.stringify({ cb: '[{"on":"success","pr":false,"j":{"id":"cut \\ud83c"}}]' });
    await assert.rejects(runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...plain('good-1'), 'bad', 'send', '[]', 0, now, 5, callbacks]),
      /CONVEYOR_BAD_INPUT job bad: its callbacks or chord are not readable JSON/);
    await assert.rejects(runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...plain('good-1'), 'bad', 'send', '[]', 'high', now, 5, '']),
      /CONVEYOR_BAD_INPUT job bad: priority, run_at and max_deliveries must be numbers/);
    assert.deepEqual(await keys(), [], 'not even the FIFO counter moved');
    assert.deepEqual(await runScript(client, 'enqueue', base, [now, 'wake', prefix, ids, ...plain('good-1'), ...plain('good-2')]), [['CREATED', 'CREATED'], [], 0]);
  });

  it('settle refuses a batch with a number it cannot read, having settled none of it', async () => {
    await runScript(client, 'reserve', base, [now, 'w1', 10, 30_000, day, prefix, ids]);
    const before = await client.hgetall(`${base}job:good-1`);
    await assert.rejects(runScript(client, 'settle', base, [now, 'settled', 'wake', day, 0, '', 0, prefix, ids,
      'complete', 'good-1', '1', '1', 3_600_000, 'complete', 'good-2', '1', '2', 'soon']), /CONVEYOR_BAD_INPUT settlement of job good-2: its token, TTL or delay is not a number/);
    assert.deepEqual(await client.hgetall(`${base}job:good-1`), before);
    assert.deepEqual(await client.zrange(`${base}leased`, '0', '-1'), ['good-1', 'good-2']);
  });

  it('settle finishes a chord member whose error cjson cannot read: the ChordError says so, and nothing is left half-done', async () => {
    const chord = encodeChord({ index: 0, size: 1, callback: { id: 'total', task: 'sum', queue: 'sums', argsJson: '[]', priority: 0, maxDeliveries: 3 } });
    await runScript(client, 'enqueue', sums, [now, 'wake', prefix, ids, 'm1', 'count', '[]', 0, now, 5, JSON.stringify({ ch: chord }), ...plain('other')]);
    await runScript(client, 'reserve', sums, [now, 'w1', 10, 30_000, day, prefix, ids]);
    const [codes] = (await runScript(client, 'settle', sums, [now, 'settled', 'wake', day, 0, '', 0, prefix, ids,
      'complete', 'other', '1', '1', 3_600_000, 'fail', 'm1', '1', '{"type":"Error","message":"cut \\ud83c"}', ''])) as [string[]];
    assert.deepEqual(codes, ['OK', 'OK']);
    assert.deepEqual(await client.zrange(`${sums}leased`, '0', '-1'), [], 'both left the leased set');
    assert.deepEqual([await client.hget(`${sums}job:other`, 's'), await client.hget(`${sums}job:m1`, 's'), await client.hget(`${sums}job:total`, 's')], ['SUCCESS', 'FAILURE', 'FAILURE']);
    assert.deepEqual(JSON.parse((await client.hget(`${sums}job:total`, 'err'))!), {
      type: 'ChordError', code: 'CHORD_FAILED', message: 'chord member m1 (index 0) ended FAILURE: Error: (an error cjson cannot read)',
    });
    assert.deepEqual(await client.hgetall(`${sums}counts`), { PENDING: '0', STARTED: '0', SUCCESS: '1', FAILURE: '2' });
  });

  it('relay refuses deliveries it cannot read before applying any of them', async () => {
    const delivery = JSON.stringify({ k: 'cb', j: { id: 'r1', t: 'mail', q: 'orders', a: '[]', p: '0', md: '3' }, a: '[]' });
    await assert.rejects(runScript(client, 'relay', base, [now, prefix, ids, delivery, '{"k":"cb","j":{"id":"cut \\ud83c"}}']), /invalid unicode escape/);
    assert.equal(await client.exists(`${base}job:r1`), 0);
    assert.equal(await runScript(client, 'relay', base, [now, prefix, ids, delivery]), 0);
    assert.equal(await client.hget(`${base}job:r1`, 's'), 'PENDING');
  });
});

/** Without a test clock (`now` ''), every script reads Redis' own clock: TIME, inside the script. */
describe("Redis Lua scripts on Redis' own clock (TIME), called directly", () => {
  const { client, prefix, ids } = scriptsOn();
  const base = `${prefix}:{clock}:`;
  const serverNow = async () => {
    const [s, us] = await client.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  it('enqueue resolves "+<ms>" times and reserve, renew and recover decide on TIME', async () => {
    const before = await serverNow();
    await runScript(client, 'enqueue', base, ['', 'wake', prefix, ids, 'now', 't', '[]', 0, '+0', 5, '', 'later', 't', '[]', 0, '+60000', 5, JSON.stringify({ x: '+120000' })]);
    const after = await serverNow();
    const [enqueuedAt, runAt] = (await client.hmget(`${base}job:now`, 'e', 'r')).map(Number);
    assert.ok(enqueuedAt! >= before && enqueuedAt! <= after && runAt === enqueuedAt, `enqueued at ${enqueuedAt}, between ${before} and ${after}`);
    const [laterRun, laterExpiry] = (await client.hmget(`${base}job:later`, 'r', 'x')).map(Number);
    assert.deepEqual([laterRun! - enqueuedAt!, laterExpiry! - enqueuedAt!], [60_000, 120_000], 'measured from the same instant');
    const [taken, , now] = (await runScript(client, 'reserve', base, ['', 'w1', 10, 30_000, 86_400_000, prefix, ids])) as [unknown[][], number, number];
    assert.deepEqual(taken.map((j) => j[0]), ['now'], 'the later job is not due');
    assert.ok(now >= enqueuedAt! && now <= (await serverNow()));
    assert.equal(Number(await client.zscore(`${base}leased`, 'now')), now + 30_000);
    assert.deepEqual(await runScript(client, 'renew', base, ['', 60_000, 'now', '1']), ['OK']);
    const renewedTo = Number(await client.hget(`${base}job:now`, 'l'));
    assert.ok(renewedTo >= now + 60_000 && renewedTo <= (await serverNow()) + 60_000, `renewed to ${renewedTo}: TIME at the renewal + 60 s`);
    assert.deepEqual((await runScript(client, 'recover', base, ['', 'wake', prefix, ids]) as unknown[]).slice(0, 2), [[], []], 'a renewed lease has not lapsed');
  });
});

/** The id registry's scripts (Redis Cluster's claims) and follow.lua, called directly. */
describe('Redis Lua scripts of the id registry and followers, called directly', () => {
  const { client, prefix, ids } = scriptsOn();
  const bucket = `${prefix}:{ids:3}:`;
  const orders = `${prefix}:{orders}:`;
  const now = 1_700_000_000_000;

  it('id_claim claims ids for queues, answers OURS for a repeat and TAKEN (counted) for another queue; id_release frees only its own', async () => {
    assert.deepEqual(await runScript(client, 'id_claim', bucket, ['duplicates_suppressed_total', 'a', 'mail', 'b', 'sms']), [['NEW', 'NEW'], ['', '']]);
    assert.deepEqual(await runScript(client, 'id_claim', bucket, ['duplicates_suppressed_total', 'a', 'mail', 'a', 'push']), [['OURS', 'TAKEN'], ['', 'mail']]);
    assert.equal(await client.hget(`${bucket}counters`, 'duplicates_suppressed_total'), '1');
    assert.equal(await runScript(client, 'id_release', bucket, ['a', 'push', 'b', 'sms']), 1, 'a is mail\'s: not released for push');
    assert.deepEqual(await client.hgetall(`${bucket}ids`), { a: 'mail' });
  });

  it('follow leaves a chord place to a job not final yet (fl), and fires it at once for a final one', async () => {
    const cb = { id: 'sum', task: 'sum', queue: 'orders', argsJson: '[]', priority: 0, maxDeliveries: 3 };
    // `ids`: a single Redis, where a callback is created in the same script.
    await runScript(client, 'enqueue', orders, [now, 'wake', prefix, ids, 'h1', 't', '[]', 0, now, 5, '', 'h2', 't', '[]', 0, now, 5, '']);
    assert.equal(await runScript(client, 'follow', orders, [now, prefix, ids, 'h1', '', encodeChord({ index: 0, size: 1, callback: cb })]), 0);
    assert.deepEqual(JSON.parse((await client.hget(`${orders}job:h1`, 'fl'))!).ch.map((p: { i: number }) => p.i), [0]);
    await client.hset(`${orders}job:h2`, 's', 'SUCCESS', 'res', '"two"');
    await runScript(client, 'follow', orders, [now, prefix, ids, 'h2', '', encodeChord({ index: 0, size: 1, callback: { ...cb, id: 'sum2' } })]);
    assert.equal(await client.hget(`${orders}job:sum2`, 'a'), '[["two"]]', 'the chord completed at once with the holder\'s result');
    // Under Cluster ('' for the registry) the callback leaves through the outbox, its id to be claimed first.
    await runScript(client, 'enqueue', orders, [now, 'wake', prefix, '', 'h3', 't', '[]', 0, now, 5, '']);
    await client.hset(`${orders}job:h3`, 's', 'SUCCESS', 'res', '3');
    assert.equal(await runScript(client, 'follow', orders, [now, prefix, '', 'h3', '', encodeChord({ index: 0, size: 1, callback: { ...cb, id: 'sum3' } })]), 1);
    assert.equal(JSON.parse((await client.lrange(`${orders}outbox`, 0, -1)).at(-1)!).j.id, 'sum3');
    assert.equal(await client.hget(`${orders}job:h2`, 'fl'), null);
  });
});
