/**
 * The approach Conveyor replaces: a web server that sends emails "in the background" from an
 * in-memory queue in its own process. Run by the demo, which kill -9s it mid-send.
 */
import { smtpSend } from './smtp.js';

const emails = JSON.parse(process.argv[2] ?? '[]') as { to: string; name: string }[];
const backlog = [...emails];
for (;;) {
  const next = backlog.shift();
  if (!next) break;
  process.stdout.write(`sending ${next.to}\n`);
  await smtpSend(next.to, `Welcome, ${next.name}!`);
}
