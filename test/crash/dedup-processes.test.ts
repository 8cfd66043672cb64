/**
 * Enqueue dedup across processes: ten separate node processes send the same job under one
 * idempotency key at the same moment, with one worker running. One job is created and runs
 * once; every sender gets its id and its result; the nine others count as suppressed duplicates.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { effectRecords, scratch, startScript, startWorker, STORES, tail, waitFor, type WorkerProcess } from './processes.js';

const SENDER = fileURLToPath(new URL('../fixtures/dedup-sender.ts', import.meta.url));
const SENDERS = 10;

interface SenderAnswer { id: string; duplicate: boolean; result: { worker: number; sender: number; token: number }; sentAt: number }

for (const store of STORES) describe(`one idempotency key from ${SENDERS} processes (${store.name})`, () => {
  const s = scratch(store);
  before(() => store.ready());
  after(() => s.remove());

  it('creates one job that runs once; every process gets the same id and result', { timeout: 60_000 }, async (t) => {
    const app = s.app();
    const worker = await startWorker(s.storeUrl, s.effectsFile, ['--concurrency', '4']);
    const key = 'order-42';
    const senders: WorkerProcess[] = Array.from({ length: SENDERS }, () => startScript(SENDER, [s.storeUrl, key]));
    const outputs = () => tail(senders.map((p, i) => `--- sender ${i} (pid ${p.child.pid})\n${p.output()}`).join('\n'));
    await waitFor('every sender to be ready', () => senders.every((p) => p.output().includes('ready\n')), 30_000, outputs);
    // Go, all at once: the ten sends race in ten processes.
    for (const p of senders) p.child.stdin!.write('go\n');
    // Read the answers from the output first: a child's 'exit' can come before the last of its stdout.
    await waitFor('every sender to print its answer', () => senders.every((p) => /^\{.*\}$/m.test(p.output())), 30_000, outputs);
    const codes = await Promise.all(senders.map((p) => p.exited));
    assert.deepEqual(codes, senders.map(() => 0), outputs());

    const answers = senders.map((p) => JSON.parse(/^\{.*\}$/m.exec(p.output())![0]) as SenderAnswer);
    const [first] = answers;
    assert.ok(answers.every((a) => a.id === first!.id), `one id for all: ${answers.map((a) => a.id).join(', ')}`);
    assert.ok(answers.every((a) => JSON.stringify(a.result) === JSON.stringify(first!.result)), 'one result for all');
    assert.equal(answers.filter((a) => !a.duplicate).length, 1, 'exactly one send created the job');
    assert.equal(first!.result.worker, worker.child.pid);
    assert.equal(first!.result.token, 1, 'delivered once');
    const creator = senders[answers.findIndex((a) => !a.duplicate)]!;
    assert.equal(first!.result.sender, creator.child.pid, 'the job is the one its creator sent');

    const ran = effectRecords(s.effectsFile).filter((e) => e.kind === 'keyed');
    assert.equal(ran.length, 1, 'the task ran once');
    assert.equal(ran[0]!.id, first!.id);
    assert.equal((await app.store.jobsList({ task: 'keyed', limit: 100 })).length, 1, 'one job stored');
    const counters = await app.counters();
    assert.equal(counters.duplicates_suppressed_total, SENDERS - 1);
    const times = answers.map((a) => a.sentAt);
    t.diagnostic(`the ${SENDERS} sends started within ${Math.max(...times) - Math.min(...times)} ms; counters ${JSON.stringify(counters)}`);

    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, tail(worker.output()));
    await app.close();
  });
});
