/**
 * Many processes opening one new SQLite file at the same instant (workers started together on a
 * fresh machine): every open succeeds. The switch of a new file to WAL takes a lock SQLite's busy
 * timeout does not cover; before the store retried it, 6 processes failed 1 open in 120 with
 * SQLITE_BUSY ("database is locked").
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { killWorkers, startScript, tail, waitFor } from './processes.js';

const OPENER = fileURLToPath(new URL('../fixtures/store-opener.ts', import.meta.url));
const PROCESSES = 8;
const ROUNDS = 80;

describe('SQLite: processes opening one new file at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-open-'));
  after(async () => {
    await killWorkers();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${PROCESSES} processes, ${ROUNDS} new files: every open succeeds`, { timeout: 120_000 }, async () => {
    const openers = Array.from({ length: PROCESSES }, () => startScript(OPENER));
    const outputs = () => tail(openers.map((p, i) => `--- opener ${i}\n${p.output()}`).join('\n'));
    const answers = (p: (typeof openers)[number]) => p.output().split('\n').filter((l) => l === 'ok' || l.startsWith('error'));
    await waitFor('every opener to be ready', () => openers.every((p) => p.output().includes('ready\n')), 30_000, outputs);
    for (let round = 1; round <= ROUNDS; round++) {
      const file = join(dir, `round-${round}.db`);
      for (const p of openers) p.child.stdin!.write(`${file}\n`); // the same new file, to all at once
      await waitFor(`round ${round} to be answered`, () => openers.every((p) => answers(p).length === round), 30_000, outputs);
    }
    const errors = openers.flatMap(answers).filter((a) => a !== 'ok');
    assert.deepEqual(errors, [], `${errors.length} of ${PROCESSES * ROUNDS} opens failed`);
    for (const p of openers) p.child.stdin!.end();
    assert.deepEqual(await Promise.all(openers.map((p) => p.exited)), openers.map(() => 0), outputs());
  });
});
