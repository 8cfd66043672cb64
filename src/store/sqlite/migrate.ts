/**
 * Schema migrations: the `migrate_NNN.sql` files, applied in order inside one write transaction.
 * `PRAGMA user_version` records the last one applied, so concurrent processes opening the same
 * file migrate it once.
 */
import type Database from 'better-sqlite3';
import { scripts } from './sql/scripts.gen.js';

const MIGRATIONS = Object.entries(scripts)
  .filter(([name]) => name.startsWith('migrate_'))
  .map(([name, sql]) => ({ version: Number(name.slice('migrate_'.length)), sql }))
  .sort((a, b) => a.version - b.version);

/** The schema version this build expects. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

export function migrate(db: Database.Database): void {
  if ((db.pragma('user_version', { simple: true }) as number) >= SCHEMA_VERSION) return;
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}
