/**
 * The death test (`npm run demo`): send 5 welcome emails, kill -9 the process sending them in
 * the middle of one, and count what arrived — first with an in-process background queue, then
 * with Conveyor on the embedded SQLite store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Table from 'cli-table3';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../../src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'conveyor-demo-'));
const mailbox = join(dir, 'mailbox.log');
process.env.CONVEYOR_STORE = `sqlite:${join(dir, 'conveyor.db')}`;
process.env.DEMO_MAILBOX = mailbox;
process.env.DEMO_SEND_MS ??= '700';
const LEASE = '2s';

const users = ['ada', 'grace', 'linus', 'margaret', 'dennis'].map((name) => ({ to: `${name}@example.com`, name }));
const say = (line = '') => process.stdout.write(`${line}\n`);

/** Emails that reached the mailbox, by recipient. */
function delivered(): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(mailbox)) return counts;
  for (const line of readFileSync(mailbox, 'utf8').split('\n').filter(Boolean)) {
    const { to } = JSON.parse(line) as { to: string };
    counts.set(to, (counts.get(to) ?? 0) + 1);
  }
  return counts;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await sleep(25);
  }
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function inProcessRun(): Promise<number> {
  say('1. The usual way: the web server sends emails from an in-memory background queue.');
  const server = spawn(process.execPath, [join(here, 'in-process.js'), JSON.stringify(users)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let started = 0;
  server.stdout!.on('data', (chunk: Buffer) => (started += chunk.toString().split('\n').filter((l) => l.startsWith('sending')).length));
  await until('the second email to start sending', () => started >= 2);
  await sleep(Number(process.env.DEMO_SEND_MS) / 3);
  await killHard(server);
  const sent = [...delivered().values()].reduce((a, b) => a + b, 0);
  say(`   kill -9 while sending email 2 ... ${sent} of 5 sent, ${5 - sent} lost for good: nothing remembers them.`);
  rmSync(mailbox, { force: true });
  return sent;
}

/** Worker logs, shown only if the demo fails. */
let workerLogs = '';

function startWorker(label: string): ChildProcess {
  const worker = spawn(process.execPath, [cli, 'worker', '--app', join(here, 'tasks.js'), '--concurrency', '1', '--lease', LEASE, '--loglevel', 'warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  worker.stderr!.on('data', (chunk: Buffer) => (workerLogs += chunk.toString()));
  say(`   started ${label} (pid ${worker.pid})`);
  return worker;
}

async function conveyorRun(): Promise<boolean> {
  say('\n2. With Conveyor: the server sends tasks to the store; a worker process sends the emails.');
  const { app, sendWelcome } = await import('./tasks.js');
  const results: Awaited<ReturnType<typeof sendWelcome.delay>>[] = [];
  for (const u of users) results.push(await sendWelcome.delay(u.to, u.name));
  say(`   queued 5 emails in ${app.store.description}`);

  const first = startWorker('worker 1');
  await until('email 2 to start', async () => (await results[1]!.state()) === 'STARTED');
  await sleep(Number(process.env.DEMO_SEND_MS) / 3);
  await killHard(first);
  const held = await results[1]!.info();
  say(`   kill -9 worker 1 while sending email 2 (${held.args?.[0]}): it is ${held.state}, leased by a dead worker`);

  const second = startWorker('worker 2: it recovers the lapsed lease and carries on');
  await until('all 5 emails to finish', async () => (await Promise.all(results.map((r) => r.state()))).every((s) => s === 'SUCCESS'), 60_000);
  second.kill('SIGTERM');
  await new Promise((r) => second.once('exit', r));

  const counts = delivered();
  const table = new Table({ head: ['email', 'state', 'attempts', 'deliveries', 'sent', 'worker'], style: { head: [], border: [] } });
  for (const r of results) {
    const info = await r.info();
    const to = String(info.args?.[0]);
    table.push([to, info.state, info.attempts, info.fencingToken, counts.get(to) ?? 0, info.worker ?? '-']);
  }
  say(table.toString());
  const sent = users.filter((u) => (counts.get(u.to) ?? 0) >= 1).length;
  const twice = users.filter((u) => (counts.get(u.to) ?? 0) > 1).length;
  say(`   ${sent} of 5 sent, ${5 - sent} lost${twice ? `, ${twice} sent twice (killed after sending, before recording it)` : ''}.`);
  await app.close();
  return sent === 5;
}

try {
  const naive = await inProcessRun();
  const ok = await conveyorRun();
  say(`\nIn-process: ${naive} of 5. Conveyor: ${ok ? '5 of 5' : 'NOT 5 of 5'} after a kill -9. (files in ${dir})`);
  if (ok) rmSync(dir, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
} catch (err) {
  process.stderr.write(`${(err as Error).stack}\nworker logs:\n${workerLogs}(files kept in ${dir})\n`);
  process.exitCode = 1;
}
