// tasks.ts — shared by the web server and the worker (two processes, one codebase).
import { Conveyor } from 'conveyor';
import { smtpSend } from './smtp.js';

export const app = new Conveyor({ store: process.env.CONVEYOR_STORE ?? 'sqlite:./conveyor.db' });

export const sendWelcome = app.task(
  { name: 'email.send_welcome', queue: 'emails', retry: { max: 5, backoff: { base: '2s', max: '10m', jitter: true } } },
  async (ctx, to: string, username: string) => {
    await smtpSend(to, `Welcome, ${username}!`, ctx.signal);
    return { status: 'sent', to };
  },
);
