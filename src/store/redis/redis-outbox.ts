/**
 * The outbox relay: how a callback or chord mark crosses queues on Redis Cluster.
 *
 * A script that makes a job final may only touch its own queue's slot, so a delivery (a callback
 * to enqueue, a chord member's outcome) bound for another queue is written to the `outbox` LIST
 * of the job's own slot, in the same transition. The relay then applies it with `relay.lua` on
 * the target queue — idempotent by job id and chord index, so applying it twice creates and
 * counts nothing twice — and only then removes it from the outbox with LREM by value (two
 * relayers may race on the same entries; removing by position or count could drop one unapplied).
 * A crash between the two leaves the entry for the next relay: RedisStore relays right after each
 * transition and every outbox in `jobsRecoverExpired`.
 *
 * Under Cluster the outbox also carries what the id registry needs (redis-ids.ts): a callback is
 * created only once its id is claimed for its queue (a callback whose id another queue holds is
 * dropped and counted, as one whose id its own queue holds), and a deleted job's `unclaim`
 * releases its id.
 */
import { StoreUnavailableError } from '../../errors.js';
import { call, type Client } from './connection.js';
import type { IdRegistry } from './redis-ids.js';
import type { ScriptName } from './scripts.js';
import { parseDelivery, type Delivery } from './wire.js';

/** Entries read from an outbox per round trip. */
const BATCH = 100;

/** What the relay needs from its store. */
export interface OutboxScope {
  client: Client;
  description: string;
  prefix: string;
  /** The scripts' `now` argument ('' for Redis' TIME). */
  nowArg(): string;
  base(queue: string): string;
  /** Make sure a queue is listed in `<prefix>:queues` (a callback may create a queue). */
  addQueue(queue: string): Promise<void>;
  run(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown>;
  ids: IdRegistry;
}

export class OutboxRelay {
  readonly #scope: OutboxScope;

  constructor(scope: OutboxScope) {
    this.#scope = scope;
  }

  /**
   * Relay the outboxes of `queues`, and of every queue a relay leaves deliveries in (a chord's
   * callback recorded as FAILURE fires its own callbacks). When Redis is unreachable the entries
   * stay for the next `jobsRecoverExpired`: the transition that wrote them did happen.
   */
  async relay(queues: Iterable<string>): Promise<void> {
    try {
      await this.#relayAll(new Set(queues));
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
    }
  }

  async #relayAll(pending: Set<string>): Promise<void> {
    const s = this.#scope;
    while (pending.size > 0) {
      const queue: string = pending.values().next().value!;
      pending.delete(queue);
      const outbox = `${s.base(queue)}outbox`;
      const entries = await call(s.description, () => s.client.lrange(outbox, 0, BATCH - 1));
      if (entries.length === BATCH) pending.add(queue);
      const done = (applied: readonly string[]) => call(s.description, () => Promise.all(applied.map((d) => s.client.lrem(outbox, 1, d))));
      const deliveries = entries.map((text) => ({ text, d: parseDelivery(text) }));
      const unclaims = deliveries.filter((e): e is { text: string; d: Extract<Delivery, { k: 'unclaim' }> } => e.d.k === 'unclaim');
      const others = await this.#claimed(deliveries.filter((e) => e.d.k !== 'unclaim'), done);
      if (unclaims.length > 0) {
        await s.ids.release(unclaims.map((e) => e.d));
        await done(unclaims.map((e) => e.text));
      }
      const byTarget = new Map<string, string[]>();
      for (const { text, d } of others) {
        const target = (d as Exclude<Delivery, { k: 'unclaim' }>).j.q;
        byTarget.set(target, [...(byTarget.get(target) ?? []), text]);
      }
      await Promise.all([...byTarget].map(async ([target, texts]) => {
        await s.addQueue(target);
        const left = (await s.run('relay', s.base(target), [s.nowArg(), s.prefix, s.ids.scriptArg, ...texts])) as number;
        await done(texts);
        if (left > 0) pending.add(target);
      }));
    }
  }

  /**
   * The deliveries to apply: under Cluster a callback's id is claimed for its queue first, and a
   * callback whose id another queue holds is dropped (counted by the claim) and removed.
   */
  async #claimed(deliveries: { text: string; d: Delivery }[], done: (texts: readonly string[]) => Promise<unknown>): Promise<{ text: string; d: Delivery }[]> {
    const ids = this.#scope.ids;
    const callbacks = deliveries.filter((e): e is { text: string; d: Extract<Delivery, { k: 'cb' }> } => e.d.k === 'cb');
    if (!ids.claimsFirst || callbacks.length === 0) return deliveries;
    const codes = await ids.claim(callbacks.map(({ d }) => ({ id: d.j.id, queue: d.j.q })), 'callbacks_deduplicated_total');
    const taken = new Set(callbacks.filter((_, i) => codes[i]!.code === 'TAKEN').map((e) => e.text));
    if (taken.size > 0) await done([...taken]);
    return deliveries.filter((e) => !taken.has(e.text));
  }
}
