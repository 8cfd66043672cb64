/** Store selection by URL: `sqlite:<path>` (the default), `redis://` / `rediss://`, `postgres://`. */
import { UnknownStoreError } from '../errors.js';
import { deferredStore } from './deferred-store.js';
import type { Engine } from './engine.js';
import { postgresEngine } from './postgres/engine.js';
import { redisEngine } from './redis/engine.js';
import { sqliteEngine } from './sqlite/engine.js';
import type { Store, StoreOptions } from './store.js';

/** The engines, one line each; an engine's module loads when a store of it is first used. */
const ENGINES = [sqliteEngine, redisEngine, postgresEngine] as const;

/** The store used when neither the app nor `CONVEYOR_STORE` names one. */
export const DEFAULT_STORE_URL = 'sqlite:./conveyor.db';

/** A parsed store URL: `engine` names the engine, the rest is the engine's own. */
export type StoreLocation = ReturnType<(typeof ENGINES)[number]['parseUrl']>;

function engineOf(url: string): Engine<StoreLocation> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const engine = ENGINES.find((e) => scheme !== undefined && e.schemes.includes(scheme));
  if (engine) return engine as Engine<StoreLocation>;
  const known = ENGINES.map((e) => e.example).join(' or ');
  throw new UnknownStoreError(`store URL "${url}" has ${scheme ? `an unknown scheme "${scheme}:"` : 'no scheme'}: use ${known}`);
}

/**
 * Parse a store URL without opening anything.
 * @throws UnknownStoreError naming the URL and what to write instead.
 */
export function parseStoreUrl(url: string): StoreLocation {
  return engineOf(url).parseUrl(url);
}

/**
 * Bring the schema of the store a URL names to this build's version, creating it if need be;
 * answers what was done, as one line. An engine with no schema (Redis) answers so.
 * @throws UnknownStoreError for a URL no engine reads.
 */
export async function migrateStore(url: string): Promise<string> {
  const engine = engineOf(url);
  const location = engine.parseUrl(url);
  if (!engine.migrate) return `${engine.describe(location)}: this engine keeps no schema; nothing to migrate`;
  return engine.migrate(location);
}

/**
 * Open the store a URL names. The engine loads, and the store connects or opens its file, on
 * the first call made to it; an error doing so is what that call answers, and the next call
 * tries again.
 * @throws UnknownStoreError at once, for a URL no engine reads.
 * @example openStore('sqlite:./conveyor.db') // a file in the working directory
 * @example openStore('sqlite:///var/lib/app/queue.db?synchronous=full')
 * @example openStore('redis://127.0.0.1:6379/0?prefix=myapp')
 * @example openStore('postgres://app@db.internal:5432/app?schema=conveyor')
 */
export function openStore(url: string, options: StoreOptions = {}): Store {
  const engine = engineOf(url);
  const location = engine.parseUrl(url);
  return deferredStore({ description: engine.describe(location), capabilities: engine.capabilities(location) }, () => engine.open(location, options));
}
