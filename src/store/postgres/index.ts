/** `conveyor/postgres`: the PostgreSQL engine's class, for opening it with options a URL cannot carry. */
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js';
