/**
 * BullMQ's sandboxed processor for the pools bench (`new Worker(queue, <this file>, {
 * useWorkerThreads: true })`): the same no-op and synchronous CPU jobs as `pool-app.ts`.
 */
import { burn } from './pool-app.js';

export default async function processor(job: { name: string; data: number[] }): Promise<null> {
  if (job.name === 'bench.cpu') burn(job.data[0]!);
  return null;
}
