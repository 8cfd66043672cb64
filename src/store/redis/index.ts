/** `conveyor/redis`: the Redis engine's class, for opening it with options a URL cannot carry. */
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export type { RedisTarget } from './target.js';
