/** `conveyor call`, `status`, `retry`, `revoke`, `purge`: one job or queue at a time. */
import { setTimeout as sleep } from 'node:timers/promises';
import { toMs } from '../duration.js';
import { InvalidArgumentError, TaskFailedError, TaskRevokedError } from '../errors.js';
import type { ApplyOptions } from '../canvas.js';
import type { AsyncResult, TaskInfo } from '../result.js';
import { retryAnswerText } from '../retry.js';
import { printJson, when } from './format.js';
import { withApp, type StoreFlags } from './load-app.js';
import { barsEnabled, oneLine, startBar, type Bar } from './progress-bar.js';

export interface CallFlags extends StoreFlags {
  args: string;
  queue?: string;
  countdown?: string;
  priority?: string;
  wait?: boolean;
  timeout?: string;
  json?: boolean;
}

function parseArgs(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`--args is not valid JSON (${(err as Error).message}): pass a JSON array, for example --args '["ann@example.com", 42]'`);
  }
  if (!Array.isArray(value)) throw new InvalidArgumentError(`--args must be a JSON array of the task's arguments, for example --args '["ann@example.com", 42]'; got ${text}`);
  return value;
}

export async function callCommand(name: string, flags: CallFlags): Promise<number> {
  const args = parseArgs(flags.args);
  const options: ApplyOptions = {};
  if (flags.queue) options.queue = flags.queue;
  if (flags.countdown) options.countdown = toMs(flags.countdown, '--countdown');
  if (flags.priority !== undefined) {
    options.priority = Number(flags.priority);
    if (!Number.isSafeInteger(options.priority)) throw new InvalidArgumentError(`--priority must be an integer, got "${flags.priority}"`);
  }
  return withApp(flags, async (app) => {
    const result = await app.send(name, args, options);
    if (!flags.wait) {
      if (flags.json) printJson({ id: result.id });
      else process.stdout.write(`${result.id}\n`);
      return 0;
    }
    if (!flags.json) process.stdout.write(`${result.id}\n`);
    try {
      const got = result.get({ timeout: flags.timeout ? toMs(flags.timeout, '--timeout') : undefined });
      const value = flags.json || !barsEnabled() ? await got : await withProgressBar(result, got);
      if (flags.json) printJson({ id: result.id, state: 'SUCCESS', result: value });
      else process.stdout.write(`${JSON.stringify(value)}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof TaskFailedError || err instanceof TaskRevokedError)) throw err;
      const info = await result.info();
      if (flags.json) printJson({ id: result.id, state: info.state, error: info.error });
      else process.stderr.write(`${info.state}: ${info.error?.type ?? ''}: ${info.error?.message ?? ''}\n`);
      return 1;
    }
  });
}

/** How often `call --wait` reads the job's progress for its bar. */
const PROGRESS_POLL_MS = 200;
/** The bar counts thousandths, so it moves on small reports. */
const BAR_TOTAL = 1000;

/**
 * Await `got`, drawing a bar on the terminal while the job reports progress (a job that reports
 * none draws none). The bar goes to 100% when the job succeeds, and is left as it was otherwise.
 */
async function withProgressBar<R>(result: AsyncResult<R>, got: Promise<R>): Promise<R> {
  const stop = new AbortController();
  let bar: Bar | null = null;
  const watch = (async () => {
    while (!stop.signal.aborted) {
      // A failed read only costs the bar an update.
      const progress = await result.info().then((info) => info.progress, () => null);
      if (progress && !stop.signal.aborted) {
        const payload = { info: oneLine(progress.info) };
        bar ??= startBar('{bar} {percentage}% | {duration_formatted} | {info}', BAR_TOTAL, payload);
        bar?.update(Math.round(progress.fraction * BAR_TOTAL), payload);
      }
      await sleep(PROGRESS_POLL_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
  })();
  let succeeded = false;
  try {
    const value = await got;
    succeeded = true;
    return value;
  } finally {
    stop.abort();
    await watch;
    if (bar) {
      if (succeeded) (bar as Bar).update(BAR_TOTAL);
      (bar as Bar).stop();
    }
  }
}

/** `status` output for people. */
function describeInfo(info: TaskInfo): string {
  if (!info.known) return `${info.id}: PENDING (unknown id: never sent, or its result expired)\n`;
  const rows: [string, string][] = [
    ['id', info.id], ['task', info.task ?? '-'], ['queue', info.queue ?? '-'], ['state', info.state],
    ['args', JSON.stringify(info.args)], ['attempts', String(info.attempts)], ['deliveries', String(info.deliveries)],
    ['worker', info.worker ?? '-'], ['enqueued', when(info.enqueuedAt)], ['run at', when(info.runAt)],
    ['started', when(info.startedAt)], ['finished', when(info.finishedAt)],
    ['runtime', info.runtimeMs === null ? '-' : `${info.runtimeMs} ms`],
  ];
  if (info.progress) {
    const p = info.progress;
    rows.push(['progress', `${(p.fraction * 100).toFixed(1).replace(/\.0$/, '')}%${p.info === null ? '' : ` ${oneLine(p.info)}`} (${when(p.at)})`]);
  }
  if (info.state === 'SUCCESS') rows.push(['result', JSON.stringify(info.result)]);
  if (info.error) rows.push(['error', `${info.error.type}: ${info.error.message}`]);
  return `${rows.map(([k, v]) => `${k.padEnd(11)}${v}`).join('\n')}\n${info.error?.stack && info.state !== 'REVOKED' ? `\n${info.error.stack}\n` : ''}`;
}

export async function statusCommand(id: string, flags: StoreFlags & { json?: boolean }): Promise<number> {
  return withApp(flags, async (app) => {
    const info = await app.result(id).info();
    if (flags.json) printJson(info);
    else process.stdout.write(describeInfo(info));
    return 0;
  });
}

export async function retryCommand(id: string, flags: StoreFlags): Promise<number> {
  return withApp(flags, async (app) => {
    const outcome = await app.retry(id);
    (outcome === 'retried' ? process.stdout : process.stderr).write(`${retryAnswerText(id, outcome)}\n`);
    return outcome === 'retried' ? 0 : 1;
  });
}

export async function revokeCommand(id: string, flags: StoreFlags & { terminate?: boolean }): Promise<number> {
  return withApp(flags, async (app) => {
    const outcome = await app.revoke(id, { terminate: flags.terminate ?? false, reason: 'revoked from the command line' });
    const messages = { revoked: `${id}: revoked${flags.terminate ? ' (a running handler is aborted)' : ''}`, final: `${id}: not revoked: it had already finished`, missing: `${id}: no such job` };
    (outcome === 'revoked' ? process.stdout : process.stderr).write(`${messages[outcome]}\n`);
    return outcome === 'revoked' ? 0 : 1;
  });
}

export async function purgeCommand(queue: string, flags: StoreFlags): Promise<number> {
  return withApp(flags, async (app) => {
    const n = await app.purge(queue);
    process.stdout.write(`purged ${n} waiting job(s) from queue ${queue}\n`);
    return 0;
  });
}
