import { after, before } from 'node:test';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import { startCluster, uniquePrefix, type RedisCluster } from '../redis/servers.js';
import { runStoreConformance } from './suite.js';

// One 3-master cluster for the file; stopping it removes every key the tests wrote.
let cluster: RedisCluster | undefined;
let prefix = '';
before(async () => {
  cluster = await startCluster(3);
});
after(() => cluster?.stop());
runStoreConformance({
  name: 'RedisStore on a 3-master Redis Cluster',
  // A fresh key prefix per test; `shared` opens a second handle on that prefix.
  open: ({ clock, shared }) => {
    if (!cluster) throw new Error('the cluster did not start: see the before hook');
    if (!shared) prefix = uniquePrefix();
    return new RedisStore({ nodes: cluster.nodes, prefix, clock });
  },
});
