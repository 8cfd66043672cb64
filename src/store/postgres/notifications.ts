/**
 * Wake-ups for the PostgreSQL store: one connection of its own LISTENs on the schema's channel
 * and wakes the store's waiters at every notification (sent by a transition at its commit). When
 * that connection drops (a server restart, a network cut) it reconnects on its own, with backoff,
 * and wakes the waiters once it listens again: a notification sent while it was away is lost, so
 * the waiters look for themselves.
 */
import pg from 'pg';
import type { Waiters } from '../waiters.js';

/** The longest wait between two reconnect attempts. */
const MAX_BACKOFF_MS = 2_000;

export class Notifications {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #waiters: Waiters;
  #client: pg.Client | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;

  private constructor(config: pg.ClientConfig, channel: string, waiters: Waiters) {
    this.#config = config;
    this.#channel = channel;
    this.#waiters = waiters;
  }

  /** Listen on `channel`; resolves once the first LISTEN is in place (rejects if it cannot connect). */
  static async start(config: pg.ClientConfig, channel: string, waiters: Waiters): Promise<Notifications> {
    const n = new Notifications(config, channel, waiters);
    await n.#connect();
    return n;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config);
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel) this.#waiters.notify(true);
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.#channel)}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#failures = 0;
    this.#waiters.notify(true);
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    const wait = Math.min(MAX_BACKOFF_MS, 50 * 2 ** this.#failures++);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect().catch(() => this.#retry());
    }, wait);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}
