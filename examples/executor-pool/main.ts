// Run: node dist/examples/executor-pool/main.js — three executors, twelve submissions, a worker
// running eight at once: never two on one executor, and all three free at the end.
import { pino } from 'pino';
import { Worker } from 'conveyor';
import { app, evaluate, executors } from './tasks.js';

export async function main(): Promise<{ results: { executor: string; value: number }[]; free: number; maxBusy: number }> {
  await executors.add('exec-1', 'exec-2', 'exec-3');
  const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => evaluate.delay({ id: `s${i}`, expression: `${i} * ${i} + 1` })));
  const worker = new Worker(app, { concurrency: 8, logger: pino({ level: 'warn' }) });
  let maxBusy = 0;
  const sampler = setInterval(() => {
    void executors.items().then((items) => (maxBusy = Math.max(maxBusy, items.filter((i) => i.holder).length)));
  }, 2);
  worker.start();
  const results = await Promise.all(sent.map((r) => r.get({ timeout: '30s' })));
  clearInterval(sampler);
  await worker.stop();
  const free = (await executors.items()).filter((i) => i.holder === null).length;
  return { results, free, maxBusy };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, free } = await main();
  for (const r of results) console.log(`${r.executor}: ${r.value}`);
  console.log(`${free} of 3 executors free; counters:`, await app.counters());
  await app.close();
}
