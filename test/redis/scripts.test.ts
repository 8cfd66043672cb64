/**
 * The Lua scripts called directly (not through RedisStore): their KEYS/ARGV contracts, their
 * named codes, and the loader's NOSCRIPT fallback after Redis forgets them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { defineScripts, runScript } from '../../src/store/redis/scripts.js';
import { ALL_TEST_KEYS, assertRedisReachable, deleteKeys, SHARED_REDIS_URL, uniquePrefix } from './servers.js';

describe('Redis Lua scripts, called directly', () => {
  const client = new Redis(SHARED_REDIS_URL);
  const base = `${uniquePrefix()}:{emails}:`;
  const now = 1_700_000_000_000;
  before(async () => {
    await assertRedisReachable();
    defineScripts(client);
  });
  after(async () => {
    await deleteKeys(SHARED_REDIS_URL, ALL_TEST_KEYS);
    await client.quit();
  });

  it('enqueue answers 1 per new job and 0 for an id already stored; reserve leases by priority', async () => {
    const created = await runScript(client, 'enqueue', base, [now, 'wake', 'a', 'send', '["x"]', 0, now, '', 5, 'b', 'send', '["y"]', 7, now, '', 5, 'a', 'send', '[]', 0, now, '', 5]);
    assert.deepEqual(created, [1, 1, 0]);
    assert.equal(await client.hget(`${base}counts`, 'PENDING'), '2');
    const taken = (await runScript(client, 'reserve', base, [now, 'w1', 10, 30_000, 86_400_000])) as unknown[][];
    assert.deepEqual(taken.map((j) => j.slice(0, 6)), [['b', 'send', '["y"]', '1', 1, 1], ['a', 'send', '["x"]', '1', 1, 1]]);
    assert.equal(await client.zscore(`${base}leased`, 'a'), String(now + 30_000));
  });

  it('settle answers a named code per settlement, fenced by token, and reserves in the same call', async () => {
    await runScript(client, 'enqueue', base, [now, 'wake', 'c', 'send', '[]', 0, now, '', 5]);
    const [codes, jobs] = (await runScript(client, 'settle', base, [
      now, 'settled', 'wake', 86_400_000, 5, 'w1', 30_000,
      'complete', 'a', '1', '{"ok":true}', 3_600_000,
      'fail', 'b', '99', '{"type":"Error","message":"x"}', '',
      'complete', 'nope', '1', 'null', 3_600_000,
    ])) as [string[], unknown[][]];
    assert.deepEqual(codes, ['OK', 'STALE', 'MISSING']);
    assert.deepEqual(jobs.map((j) => j[0]), ['c']);
    assert.equal(await client.hget(`${base}job:a`, 's'), 'SUCCESS');
    assert.equal(await client.hget(`${base}job:a`, 'res'), '{"ok":true}');
    const again = (await runScript(client, 'settle', base, [now, 'settled', 'wake', 86_400_000, 0, '', 0, 'complete', 'a', '1', '1', 1]))as [string[]];
    assert.deepEqual(again[0], ['FINAL']);
  });

  it('revoke answers REVOKED then FINAL, and a revoked holder gets REVOKED_TERMINATE', async () => {
    const error = '{"type":"RevokedError","message":"by test"}';
    assert.equal(await runScript(client, 'revoke', base, [now, 'b', 1, error, 86_400_000, 'settled']), 'REVOKED');
    assert.equal(await runScript(client, 'revoke', base, [now, 'b', 1, error, 86_400_000, 'settled']), 'FINAL');
    assert.equal(await runScript(client, 'revoke', base, [now, 'ghost', 0, error, 86_400_000, 'settled']), 'MISSING');
    assert.deepEqual(await runScript(client, 'renew', base, [now + 60_000, 'b', '1', 'c', '1']), ['REVOKED_TERMINATE', 'OK']);
  });

  it('recover returns lapsed leases to the queue, and retry_final revives a dead letter', async () => {
    const [requeued, failed] = (await runScript(client, 'recover', base, [now + 120_000, 'wake'])) as [string[], string[]];
    assert.deepEqual([requeued, failed], [['c'], []]);
    assert.equal(await client.hget(`${base}job:c`, 's'), 'PENDING');
    assert.equal(await runScript(client, 'retry_final', base, [now, 'b', 'wake']), 'RETRIED');
    assert.equal(await runScript(client, 'retry_final', base, [now, 'b', 'wake']), 'NOT_FINAL');
    assert.equal(await runScript(client, 'purge', base, []), 2);
    assert.equal(await runScript(client, 'delete_expired', base, [now + 7_200_000]), 1, 'the SUCCESS job a, past its TTL');
  });

  it('scripts still run after Redis forgets them (SCRIPT FLUSH): EVALSHA falls back to EVAL', async () => {
    await client.script('FLUSH');
    assert.deepEqual(await runScript(client, 'enqueue', base, [now, 'wake', 'd', 'send', '[]', 0, now, '', 5]), [1]);
    assert.equal(await runScript(client, 'purge', base, []), 1);
  });
});
