/**
 * Idle waits on Redis without polling: scripts PUBLISH on a queue's wake channel when work
 * arrives (enqueue, retry, release, recovery) and on the settled channel when jobs finish; a
 * handle subscribes (on its own connection) to the channels its waiters care about.
 */
import type { Redis } from 'ioredis';
import { Waiters } from '../waiters.js';
import { call, type Client } from './connection.js';

export class RedisWakeups {
  readonly #waiters = new Waiters();
  readonly #client: Client;
  readonly #description: string;
  #subscriber: Client | undefined;
  readonly #subscribed = new Set<string>();

  constructor(client: Client, description: string) {
    this.#client = client;
    this.#description = description;
  }

  /** Wake this handle's waiters now (a write made through this handle). */
  notify(): void {
    this.#waiters.notify();
  }

  /**
   * Resolve on a message on one of `channels`, a local write, the timeout, abort, or when the
   * epoch ms `nextDue()` answers comes (a scheduled job coming due).
   */
  wait(timeoutMs: number, signal: AbortSignal | undefined, channels: string[], nextDue: () => Promise<number | undefined>): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    // Wait first, synchronously, so a write made right after this call is not missed while the
    // subscription is being set up; then cut the wait short when a scheduled job comes due.
    const cut = new AbortController();
    const onAbort = () => cut.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const waiting = this.#waiters.wait(timeoutMs, cut.signal);
    void (async () => {
      await this.#subscribe(channels);
      const due = await nextDue();
      if (due !== undefined && !cut.signal.aborted) timer = setTimeout(onAbort, Math.max(0, due - Date.now()));
    })().catch(() => {}); // unreachable Redis: the wait ends by its timeout
    return waiting.finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  async #subscribe(channels: string[]): Promise<void> {
    const missing = channels.filter((c) => !this.#subscribed.has(c));
    if (missing.length === 0) return;
    if (!this.#subscriber) {
      this.#subscriber = (this.#client as Redis).duplicate();
      this.#subscriber.on('error', () => {});
      // Remembered when nobody waits yet: a worker in the middle of a store call waits right after it.
      this.#subscriber.on('message', () => this.#waiters.notify(true));
    }
    for (const c of missing) this.#subscribed.add(c);
    await call(this.#description, () => this.#subscriber!.subscribe(...missing));
  }

  close(): void {
    this.#waiters.notify();
    this.#subscriber?.disconnect();
  }
}
