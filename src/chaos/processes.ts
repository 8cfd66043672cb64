/**
 * Child processes that must not outlive the process that started them (worker processes of a
 * chaos run, private redis-servers): each is killed, and each folder given here removed, when
 * this process exits or is interrupted (SIGINT, SIGTERM) — a frozen (SIGSTOP) child too, as
 * SIGKILL ends a stopped process. Every wait for an exit is bounded.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/** How long SIGTERM may take before the process is killed outright. */
const EXIT_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
/** Folders not removed by their owners yet (a server's), removed at exit. */
const folders = new Set<string>();
let handlersInstalled = false;

function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Kill the children, then die of the same signal as we would have without this handler.
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Kill `child` when this process exits or is interrupted. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  installHandlers();
}

/** Remove `dir` at exit unless {@link forgetFolder} is called first. */
export function removeAtExit(dir: string): void {
  folders.add(dir);
  installHandlers();
}

/** `dir` was removed by its owner: nothing to do at exit. */
export function forgetFolder(dir: string): void {
  folders.delete(dir);
}

/** Resolve when `child` has exited; SIGKILL it when `signal` does not end it within the bound. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
