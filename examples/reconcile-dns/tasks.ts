// Don't fire and forget: keep DNS records in sync with a table. The web app only writes the
// table; a reconcile loop in the workers finds every record whose DNS entry differs and sends
// one sync job per record, keyed by its name, so a record already waiting to sync is not sent
// twice, and a sync lost to a crash (or never sent) is found on the next pass.
import Database from 'better-sqlite3';
import { Conveyor, type Duration } from 'conveyor';

export const app = new Conveyor({ store: process.env.CONVEYOR_STORE ?? 'sqlite:./conveyor.db' });

/** The desired state: the application's own table. */
export const db: Database.Database = new Database(process.env.RECORDS_DB ?? ':memory:');
db.exec('CREATE TABLE IF NOT EXISTS records (name TEXT PRIMARY KEY, ip TEXT NOT NULL)');

/** Stands in for the DNS provider's API (a zone of name → ip). */
export const zone = new Map<string, string>();

export interface DnsRecord {
  name: string;
  ip: string;
}

export const syncRecord = app.task({ name: 'dns.sync', queue: 'dns' }, async (ctx, record: DnsRecord) => {
  // A provider call keyed by ctx.stepKey would make a repeat harmless; an upsert already is.
  zone.set(record.name, record.ip);
  return record;
});

export const dnsLoop = app.reconcile('dns', {
  every: (process.env.RECONCILE_EVERY ?? '1m') as Duration,
  task: syncRecord,
  key: (r: DnsRecord) => `dns:${r.name}:${r.ip}`,
  find: () => (db.prepare('SELECT name, ip FROM records').all() as DnsRecord[]).filter((r) => zone.get(r.name) !== r.ip),
});
