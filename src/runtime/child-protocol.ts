/**
 * Messages between a pool's supervisor and its children (threads: a MessagePort; processes: the
 * IPC channel, with structured-clone serialization). Results and errors cross as JSON inside
 * the settlement, as the store would keep them.
 *
 * supervisor -> child: run one job; abort its signal; the reply to a call; exit when idle.
 * child -> supervisor: ready (the app is loaded) or failed; a call (a step or progress write,
 * which the supervisor makes, fenced, with its own store); done (the settlement, or that the
 * handler's transaction committed it, and memory).
 */
import type { ErrorInfo } from '../errors.js';
import type { LossReason, ReservedJob } from '../store/store.js';
import type { Ending, JobIo } from './run-job.js';

/** What a child is started with. */
export interface ChildInit {
  /** The module that exports the app (`--app`), loaded by the child itself. */
  appModule: string;
  /** The store the worker uses, when it is not the app's own (`--store`): jobs a handler sends go there. */
  storeUrl?: string;
  logLevel: string;
  /** The supervisor's pid: a child process whose parent changes kills itself (no orphans). */
  parentPid: number;
}

export type AbortWhy = { kind: 'shutdown' } | { kind: 'lost'; reason: LossReason; terminate: boolean };

export type CallOp = keyof JobIo;

export type ToChild =
  | { t: 'run'; job: ReservedJob }
  | { t: 'abort'; id: string; token: number; why: AbortWhy }
  | { t: 'reply'; n: number; ok: true; value: unknown }
  | { t: 'reply'; n: number; ok: false; error: ErrorInfo }
  | { t: 'exit' };

export type FromChild =
  | { t: 'ready' }
  | { t: 'failed'; error: ErrorInfo }
  | { t: 'call'; n: number; op: CallOp; params: unknown }
  /** One pino record (a JSON line) for the supervisor's logger. */
  | { t: 'log'; line: string }
  | { t: 'done'; id: string; token: number; settlement: Ending; memoryMb: number };
