/**
 * One child of a pool, a worker thread or a child process, behind one small interface: post a
 * message, hear its messages and its exit, kill it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import type { Worker as Thread } from 'node:worker_threads';
import type { ChildInit, FromChild, ToChild } from './child-protocol.js';
import { sibling, spawnThread } from './spawn-thread.js';

export interface ChildHandle {
  /** Process id, or thread id. */
  readonly pid: number;
  post(message: ToChild): void;
  onMessage(fn: (message: FromChild) => void): void;
  /** Called once, when it has ended: an exit code, or the signal that killed it. */
  onExit(fn: (how: { code: number | null; signal: string | null; error?: Error }) => void): void;
  /** Stop it now: Worker.terminate() for a thread, SIGKILL for a process. */
  kill(): void;
}

const ENTRY = sibling(import.meta.url, 'child-main');

export function spawnChild(kind: 'threads' | 'processes', init: ChildInit): ChildHandle {
  return kind === 'threads' ? threadChild(init) : processChild(init);
}

function threadChild(init: ChildInit): ChildHandle {
  // A thread's heap may grow as far as this process's (--max-old-space-size applies to each
  // child, as it does to each process of a process pool); past it the thread alone dies.
  const maxOldGenerationSizeMb = Math.floor(getHeapStatistics().heap_size_limit / 1048576);
  const thread: Thread = spawnThread(ENTRY, { workerData: init, resourceLimits: { maxOldGenerationSizeMb } });
  let error: Error | undefined;
  thread.on('error', (err) => (error = err));
  return {
    pid: thread.threadId,
    post: (m) => thread.postMessage(m),
    onMessage: (fn) => void thread.on('message', fn),
    onExit: (fn) => void thread.once('exit', (code) => fn({ code, signal: null, error })),
    kill: () => void thread.terminate(),
  };
}

function processChild(init: ChildInit): ChildHandle {
  const entry = fileURLToPath(ENTRY);
  // The parent's node flags (a clock shim, a loader), without the test runner's own.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test'));
  if (entry.endsWith('.ts') && !execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', import.meta.resolve('tsx'));
  const child = fork(entry, [], {
    execArgv,
    serialization: 'advanced',
    env: { ...process.env, CONVEYOR_CHILD_INIT: JSON.stringify(init) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let error: Error | undefined;
  child.on('error', (err) => (error = err));
  return {
    pid: child.pid ?? -1,
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (fn) => void child.on('message', fn as (m: unknown) => void),
    onExit: (fn) => void child.once('exit', (code, signal) => fn({ code, signal, error })),
    kill: () => void child.kill('SIGKILL'),
  };
}
