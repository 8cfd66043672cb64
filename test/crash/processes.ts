/** Real worker processes for the crash tests: the `conveyor worker` command, on a test's own store. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(root, 'dist/src/cli/main.js');
export const CRASH_APP = join(root, 'test/fixtures/crash-app.ts');

/** A fresh folder with a store URL and an effects file. */
export function scratch(): { dir: string; storeUrl: string; effectsFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-crash-'));
  return { dir, storeUrl: `sqlite:${join(dir, 'conveyor.db')}`, effectsFile: join(dir, 'effects.log') };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/** Start `conveyor worker` and wait for its banner. */
export async function startWorker(storeUrl: string, effectsFile: string, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--app', CRASH_APP, '--store', storeUrl, '--loglevel', 'warn', ...args], {
    env: { ...process.env, EFFECTS_FILE: effectsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const w = { child, output: () => out, exited };
  await waitFor('worker banner', () => out.includes('[tasks]'), 20_000, () => out);
  return w;
}

/** Poll `check` until true; fail with `context()` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await sleep(20);
  }
}

/** Effects recorded by handlers, in order. */
export function effects(file: string): { kind: string; id: string; token: number; pid: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; id: string; token: number; pid: number });
}
