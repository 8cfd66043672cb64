// The seed's pattern: a limited pool of executors (sandboxes, licensed tools, GPU boxes). Each
// job takes one, evaluates on it, and gives it back in `finally`. If the worker dies holding one,
// the executor returns to the pool when its lease lapses; a late release from that worker
// cannot free the executor someone else holds now.
import { Conveyor } from 'conveyor';

export const app = new Conveyor({ store: process.env.CONVEYOR_STORE ?? 'sqlite:./conveyor.db' });

export const executors = app.pool('executors');

/** Stands in for the remote executor: evaluates an arithmetic expression. */
async function runOn(executor: string, expression: string): Promise<number> {
  if (!/^[\d\s+*/().-]+$/.test(expression)) throw new Error(`executor ${executor} refuses ${JSON.stringify(expression)}`);
  await new Promise((r) => setTimeout(r, 5));
  return Function(`"use strict"; return (${expression});`)() as number;
}

export const evaluate = app.task({ name: 'submissions.evaluate', queue: 'evaluations' }, async (ctx, submission: { id: string; expression: string }) => {
  const executor = await executors.acquire({ ttl: '10m', wait: '1m', holder: ctx.id });
  try {
    const value = await runOn(executor.item, submission.expression);
    return { submission: submission.id, executor: executor.item, value };
  } finally {
    await executor.release();
  }
});
