// Run: RECONCILE_EVERY=2s node dist/examples/reconcile-dns/main.js — the table changes; the next
// reconcile pass brings the zone in line, sending each missing record once.
import { pino } from 'pino';
import { Worker } from 'conveyor';
import { app, db, zone } from './tasks.js';

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the zone did not converge in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function main(): Promise<Record<string, string>> {
  db.prepare('INSERT OR REPLACE INTO records (name, ip) VALUES (?, ?)').run('api.example.com', '10.0.0.1');
  db.prepare('INSERT OR REPLACE INTO records (name, ip) VALUES (?, ?)').run('www.example.com', '10.0.0.2');
  const worker = new Worker(app, { logger: pino({ level: 'warn' }) });
  worker.start(); // a reconcile pass at start, then one every RECONCILE_EVERY across all workers
  await until(() => zone.size === 2);
  // The web app changes a row and sends nothing: the next pass finds the difference.
  db.prepare('UPDATE records SET ip = ? WHERE name = ?').run('10.0.0.9', 'api.example.com');
  await until(() => zone.get('api.example.com') === '10.0.0.9');
  await worker.stop();
  return Object.fromEntries(zone);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('zone:', await main());
  console.log('counters:', await app.counters());
  await app.close();
}
