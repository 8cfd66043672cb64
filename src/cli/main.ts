#!/usr/bin/env node
/** The `conveyor` command. Every subcommand resolves the store the same way (see load-app.ts). */
import { Command, CommanderError } from 'commander';
import { ConveyorError, InvalidArgumentError } from '../errors.js';
import { beatCommand } from './beat-command.js';
import { chaosCommand } from './chaos-command.js';
import { enqueueCommand } from './enqueue-command.js';
import { inspectCommand, INSPECT_VIEWS } from './inspect-command.js';
import { migrateCommand } from './migrate-command.js';
import { callCommand, purgeCommand, retryCommand, revokeCommand, statusCommand } from './job-commands.js';
import { serveCommand } from './serve-command.js';
import { VERSION } from './version.js';
import { FAULTS } from '../chaos/verdict.js';
import { workerCommand } from './worker-command.js';

const program = new Command('conveyor')
  .description('Conveyor: a task queue for TypeScript. At-least-once delivery, exactly-once effects, nothing lost.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/** Adds the store options every command shares. */
const withStore = (cmd: Command, appHelp = 'module exporting the app (default export or `app`); .js, .mjs or .ts') =>
  cmd.option('--app <module>', appHelp).option('--store <url>', 'store URL, e.g. sqlite:./conveyor.db (default: the app\'s, else $CONVEYOR_STORE, else sqlite:./conveyor.db)');

let exitCode = 0;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes untyped action args
const run = (fn: (...a: any[]) => Promise<number | void>) => async (...a: any[]) => {
  exitCode = (await fn(...a)) ?? 0;
};

withStore(program.command('worker').description('run a worker: reserve jobs from queues and run them'))
  .option('-Q, --queues <list>', 'comma-separated queues (default: the app\'s default queue and its tasks\' queues)')
  .option('-c, --concurrency <n>', 'jobs run at once (threads, processes: the number of children)', '10')
  .option('-P, --pool <kind>', 'where handlers run: inline (this event loop), threads or processes (one child per slot; CPU-bound tasks, hard time limits)', 'inline')
  .option('--max-tasks-per-child <n>', 'threads, processes: replace a child after it ran n jobs')
  .option('--max-memory-per-child <mb>', 'threads, processes: replace a child whose memory is above this many MB after a job')
  .option('--lease <duration>', 'lease per reservation; a dead worker\'s jobs return after it', '30s')
  .option('--shutdown-grace <duration>', 'on SIGTERM, how long running jobs may finish before they are released', '30s')
  .option('-l, --loglevel <level>', 'trace, debug, info, warn, error, fatal or silent', 'info')
  .option('--log-format <format>', 'pretty (default on a terminal) or json (default otherwise)')
  .option('-B, --beat', 'also run beat in this process: send the app\'s schedules on their ticks')
  .option('--metrics-port <n>', 'serve Prometheus metrics at http://0.0.0.0:<n>/metrics')
  .action(async (flags) => workerCommand(flags));

program.command('chaos').description('check a store under kill -9, SIGSTOP, clock skew and store restarts: run a scenario, then verify nothing was lost or done twice')
  .option('--store <store>', 'sqlite (a private file), sqlite:<path> (a new file beside it), redis (a private redis-server), a redis:// URL (under a key prefix of its own), postgres (a private PostgreSQL server) or a postgres:// URL (in a schema of its own, dropped at the end)', 'sqlite')
  .option('--jobs <n>', 'payments to send', '100')
  .option('--workers <n>', 'worker processes', '3')
  .option('--concurrency <n>', 'jobs each worker runs at once', '4')
  .option('--duration <duration>', 'how long faults are injected (longer, at most 30 s or the duration more, until each fault asked for was injected once)', '60s')
  .option('--lease <duration>', "the workers' lease (a frozen worker stays frozen 2.5 leases)", '2s')
  .option('--faults <list>', `comma-separated, of ${FAULTS.join(', ')} (default: every one that applies to the store)`)
  .option('--seed <n>', 'replay a run: the same amounts, work times, faults and victims')
  .option('--json', 'print the verdict as JSON')
  .action(run((flags) => chaosCommand(flags)));

withStore(program.command('beat').description('send the app\'s schedules (app.schedule) on their ticks; several may run, each tick is sent once'))
  .option('-l, --loglevel <level>', 'trace, debug, info, warn, error, fatal or silent', 'info')
  .option('--log-format <format>', 'pretty (default on a terminal) or json (default otherwise)')
  .action(async (flags) => beatCommand(flags));

withStore(program.command('serve').description('serve the HTTP API, the dashboard and Prometheus /metrics'), 'module exporting the app; without it, POST /api/tasks/:name sends any task name')
  .option('--host <host>', 'address to bind; a non-loopback one needs --token', '127.0.0.1')
  .option('-p, --port <n>', 'port (0 picks a free one)', '5555')
  .option('--token <token>', 'require this bearer token (default: $CONVEYOR_TOKEN)')
  .action(async (flags) => serveCommand(flags));

withStore(program.command('call').argument('<task>', 'task name').description('send a task and print its id'))
  .option('--args <json>', 'JSON array of arguments', '[]')
  .option('-Q, --queue <queue>', 'queue (default: the task\'s, else "default")')
  .option('--countdown <duration>', 'start no sooner than this from now, e.g. 30s')
  .option('--priority <n>', 'higher runs first')
  .option('--wait', 'wait for the result and print it')
  .option('--timeout <duration>', 'with --wait, give up after this long')
  .option('--json', 'print JSON')
  .action(run((task: string, flags) => callCommand(task, flags)));

withStore(program.command('enqueue').argument('<task>', 'task name').description('send one job per line of a JSON Lines file; every line is checked before any is sent'))
  .requiredOption('--from <file>', 'JSON Lines: each line an args array, or {"args": [...], "options": {...}}; blank lines skipped')
  .option('-Q, --queue <queue>', 'queue (default: the task\'s, else "default"; a line\'s options.queue wins)')
  .option('--batch <n>', 'jobs per store transition', '1000')
  .option('--json', 'print the summary as JSON')
  .action(run((task: string, flags) => enqueueCommand(task, flags)));

withStore(program.command('status').argument('<id>', 'task id').description('show a job\'s state, timings, result or error'))
  .option('--json', 'print JSON')
  .action(run((id: string, flags) => statusCommand(id, flags)));

withStore(program.command('inspect').argument('<view>', INSPECT_VIEWS.join('|')).description('list registered tasks, active, scheduled or failed jobs, queue stats, the exactly-once counters, or live workers'))
  .option('--json', 'print JSON')
  .option('-Q, --queue <queue>', 'only this queue')
  .option('--limit <n>', 'most jobs to list', '100')
  .action(run((view: string, flags) => inspectCommand(view, flags)));

withStore(program.command('retry').argument('<id>', 'task id').description('send a failed or revoked job again (the dead-letter retry)'))
  .action(run((id: string, flags) => retryCommand(id, flags)));

withStore(program.command('revoke').argument('<id>', 'task id').description('cancel a job; --terminate also aborts it if running'))
  .option('--terminate', 'abort the running handler\'s ctx.signal')
  .action(run((id: string, flags) => revokeCommand(id, flags)));

withStore(program.command('purge').argument('<queue>', 'queue name').description('delete the waiting jobs of a queue'))
  .action(run((queue: string, flags) => purgeCommand(queue, flags)));

withStore(program.command('migrate').description('bring the store\'s schema to this version of conveyor (PostgreSQL, SQLite), for stores opened with ?migrate=false'))
  .action(run((flags) => migrateCommand(flags)));

try {
  await program.parseAsync();
  process.exitCode = exitCode;
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the problem (or the help/version it was asked for).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof InvalidArgumentError) {
    process.stderr.write(`conveyor: error: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    const e = err as Error;
    process.stderr.write(`conveyor: error: ${e instanceof ConveyorError ? e.message : (e.stack ?? String(e))}\n`);
    process.exitCode = 1;
  }
}
