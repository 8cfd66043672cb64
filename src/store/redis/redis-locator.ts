/**
 * Where a job lives. Every key of a queue is under its own hash tag, so a write about a job must
 * first know the job's queue: a handle remembers the queue of the jobs it sent or reserved, asks
 * the id registry for the others (callbacks, jobs of other processes), and looks in every queue
 * of `<prefix>:queues` for a job stored before the registry existed.
 */
import type { WriteOutcome } from '../store.js';
import { call, type Client } from './connection.js';
import type { IdRegistry } from './redis-ids.js';

/** Most ids remembered with their queue, so writes about a job need not search for it. */
const QUEUE_CACHE_SIZE = 100_000;

/** Items of one queue, each with its index in the caller's batch. */
export type QueueGroups<T> = Map<string, { item: T; index: number }[]>;

export class JobLocator {
  readonly #client: Client;
  readonly #description: string;
  readonly #prefix: string;
  /** id → queue, for the jobs this handle sent or reserved. */
  readonly #queueOf = new Map<string, string>();
  readonly #knownQueues = new Set<string>();
  readonly #ids: IdRegistry;

  constructor(client: Client, description: string, prefix: string, ids: IdRegistry) {
    this.#client = client;
    this.#description = description;
    this.#prefix = prefix;
    this.#ids = ids;
  }

  /** The base of a queue's keys: its hash tag. */
  base(queue: string): string {
    return `${this.#prefix}:{${queue}}:`;
  }

  /** Every queue that ever had a job. */
  queues(): Promise<string[]> {
    return call(this.#description, () => this.#client.smembers(`${this.#prefix}:queues`));
  }

  /** List a queue in `<prefix>:queues` (once per handle). */
  async addQueue(queue: string): Promise<void> {
    if (this.#knownQueues.has(queue)) return;
    await call(this.#description, () => this.#client.sadd(`${this.#prefix}:queues`, queue));
    this.#knownQueues.add(queue);
  }

  remember(id: string, queue: string): void {
    if (this.#queueOf.size >= QUEUE_CACHE_SIZE) this.#queueOf.delete(this.#queueOf.keys().next().value!);
    this.#queueOf.set(id, queue);
  }

  forget(id: string): void {
    this.#queueOf.delete(id);
  }

  /** The queue holding job `id`: remembered, else the registry's, else found by looking in every queue. */
  async locate(id: string): Promise<string | undefined> {
    const known = this.#queueOf.get(id) ?? (await this.#ids.queueOf(id));
    if (known !== undefined) {
      this.remember(id, known);
      return known;
    }
    const queues = await this.queues();
    const found = await call(this.#description, () => Promise.all(queues.map((q) => this.#client.exists(`${this.base(q)}job:${id}`))));
    const queue = queues[found.findIndex((n) => n === 1)];
    if (queue !== undefined) this.remember(id, queue);
    return queue;
  }

  /** Group items by their job's queue; items whose job is unknown answer `missing` in `outcomes`. */
  async byQueue<T extends { id: string }>(items: readonly T[], outcomes: WriteOutcome[]): Promise<QueueGroups<T>> {
    const queues = await Promise.all(items.map((item) => this.#queueOf.get(item.id) ?? this.locate(item.id)));
    const groups: QueueGroups<T> = new Map();
    items.forEach((item, index) => {
      const queue = queues[index];
      if (queue === undefined) {
        outcomes[index] = { id: item.id, ok: false, reason: 'missing', terminate: false };
        return;
      }
      let group = groups.get(queue);
      if (!group) groups.set(queue, (group = []));
      group.push({ item, index });
    });
    return groups;
  }
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let group = groups.get(k);
    if (!group) groups.set(k, (group = []));
    group.push(item);
  }
  return groups;
}
