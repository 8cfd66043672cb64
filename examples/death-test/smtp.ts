/**
 * A stand-in for an SMTP server: sending takes a while, and a sent email is a line appended to
 * the mailbox file named by $DEMO_MAILBOX — what the recipient would see. A process killed
 * mid-send sends nothing, like a TCP connection cut before the final `.`.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const SEND_MS = Number(process.env.DEMO_SEND_MS ?? 700);

export async function smtpSend(to: string, body: string, signal?: AbortSignal): Promise<void> {
  await sleep(SEND_MS, undefined, { signal });
  appendFileSync(process.env.DEMO_MAILBOX ?? 'mailbox.log', `${JSON.stringify({ to, body, pid: process.pid })}\n`);
}
