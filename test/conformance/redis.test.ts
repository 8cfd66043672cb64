import { after, before } from 'node:test';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { ALL_TEST_KEYS, assertRedisReachable, deleteKeys, SHARED_REDIS_URL, uniquePrefix } from '../redis/servers.js';
import { runStoreConformance } from './suite.js';

let prefix = '';
before(() => assertRedisReachable());
// Every store of this file lives under a prefix of this run: one SCAN removes them all.
after(() => deleteKeys(SHARED_REDIS_URL, ALL_TEST_KEYS));
runStoreConformance({
  name: 'RedisStore',
  // A fresh key prefix per test on the shared Redis; `shared` opens a second handle on that prefix.
  open: ({ clock, shared }) => {
    if (!shared) prefix = uniquePrefix();
    return new RedisStore({ url: SHARED_REDIS_URL, prefix, clock });
  },
});
