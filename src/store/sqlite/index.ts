/** `conveyor/sqlite`: the SQLite engine's class, for opening it with options a URL cannot carry. */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
