/** `conveyor serve`: the HTTP API, the dashboard and /metrics, until a signal stops it. */
import { assertSafeBind, startServer } from '../http/server.js';
import { InvalidArgumentError } from '../errors.js';
import { resolveApp, type StoreFlags } from './load-app.js';

export interface ServeFlags extends StoreFlags {
  host: string;
  port: string;
  token?: string;
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError(`--port must be an integer from 0 to 65535, got "${flags.port}"`);
  // An empty CONVEYOR_TOKEN is no token: it must not open a public bind.
  const token = flags.token || process.env.CONVEYOR_TOKEN || undefined;
  assertSafeBind(flags.host, token); // before loading the app: fail fast, with nothing to close
  const app = await resolveApp(flags);
  const { server, url } = await startServer({
    app, host: flags.host, port, token, processMetrics: true,
    // Without --app the server knows no tasks: it sends any name, for workers elsewhere to run.
    unknownTasks: flags.app ? 'reject' : 'send',
  });
  const tasks = flags.app ? `${app.tasks.size} task(s) from ${flags.app}` : 'any task name (no --app)';
  process.stdout.write(`conveyor serve: listening on ${url}\n  store:  ${app.store.description}\n  tasks:  ${tasks}\n  auth:   ${token ? 'token required (Authorization: Bearer, or ?token= on GETs)' : 'none (loopback only)'}\n`);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`${signal}: closing the server\n`);
    void server.close().then(() => app.close()).then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`conveyor serve: error while closing: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
