// tasks.ts — shared by the web server and the worker (two processes, one codebase).
import { Conveyor, PermanentError } from 'conveyor';

export const app = new Conveyor({ store: process.env.CONVEYOR_STORE ?? 'sqlite:./conveyor.db' });

/** A failure worth retrying (a timeout, a 503). */
export class NetworkError extends Error {}

export const sendWelcome = app.task(
  {
    name: 'email.send_welcome',
    queue: 'emails',
    retry: { on: [NetworkError], max: 5, backoff: { base: '2s', max: '10m', jitter: true } },
    timeLimit: '30s',
  },
  async (ctx, to: string, username: string) => {
    if (!to.includes('@')) throw new PermanentError(`not an email address: ${to}`);
    // Your SMTP client here; pass ctx.signal so a time limit or revoke can stop it.
    return { status: 'sent', to, text: `Welcome, ${username}!` };
  },
);
