/**
 * `conveyor migrate`: bring the store's schema to this build's version and say what was done —
 * for a database whose app role may not create tables (its stores open with `?migrate=false`),
 * or to migrate before a deploy instead of at the first worker's start.
 */
import { InvalidArgumentError } from '../errors.js';
import { migrateStore } from '../store/open.js';
import { resolveApp, type StoreFlags } from './load-app.js';

export async function migrateCommand(flags: StoreFlags): Promise<number> {
  const app = await resolveApp(flags);
  const url = app.storeUrl;
  await app.close();
  if (url === undefined) throw new InvalidArgumentError('migrate needs a store URL: the app was given a Store object; pass --store <url>');
  process.stdout.write(`${await migrateStore(url)}\n`);
  return 0;
}
