/**
 * `conveyor beat`: send the app's schedules (`app.schedule`) on their ticks until a signal
 * stops it. Several may run on one store (one per machine, say): each tick is sent once.
 */
import { InvalidArgumentError } from '../errors.js';
import { Beat } from '../scheduler/beat.js';
import { resolveApp, type StoreFlags } from './load-app.js';
import { VERSION } from './version.js';
import { workerLogger } from './worker-command.js';

export interface BeatFlags extends StoreFlags {
  loglevel: string;
  logFormat?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export async function beatCommand(flags: BeatFlags): Promise<void> {
  if (!flags.app) throw new InvalidArgumentError('beat needs --app <module>: the module that exports your Conveyor app and its schedules');
  const level = flags.loglevel.toLowerCase();
  if (!LEVELS.includes(level)) throw new InvalidArgumentError(`--loglevel must be one of ${LEVELS.join(', ')}, got "${flags.loglevel}"`);
  const logger = workerLogger(level, flags.logFormat ?? (process.stderr.isTTY ? 'pretty' : 'json'));
  const app = await resolveApp(flags);
  if (app.schedules.size === 0) {
    await app.close();
    throw new InvalidArgumentError(`--app ${flags.app}: the app registers no schedules; add one with app.schedule(name, { every | cron, task })`);
  }
  const beat = new Beat(app, { logger });
  const lines = [
    '',
    ` conveyor@${VERSION} beat (pid ${process.pid})`,
    ` store: ${app.store.description}`,
    '',
    ' [schedules]',
    ...[...app.schedules.values()].map((s) => `   . ${s.name}: ${s.task.name} ${s.describe()}, missed: ${s.missed}`),
    '',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  // The beat's timer does not hold the process open by itself (as a worker's loops do not).
  const keepAlive = setInterval(() => {}, 1 << 30);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`${signal}: stopping beat\n`);
    clearInterval(keepAlive);
    void beat.stop().then(() => app.close()).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  beat.start();
}
