/**
 * The worker registry on Redis, under its own hash tag `<prefix>:{workers}:` (it belongs to no
 * queue): `info` maps a worker id to its WorkerInfo JSON, `expiry` scores each id by its last
 * heartbeat + ttl, both on the store's clock (the script sets `lastSeenAt`). Listed while the
 * expiry is not past; expired entries are deleted at the next heartbeat. Key layout:
 * lua/include/lib.lua.
 */
import { workerRecord } from '../policy.js';
import type { WorkerInfo } from '../store.js';
import type { ScriptName } from './scripts.js';

/** What the registry needs from its store. */
export interface WorkersScope {
  prefix: string;
  /** The scripts' `now` argument ('' for Redis' TIME). */
  nowArg(): string;
  run(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown>;
}

export class RedisWorkers {
  readonly #scope: WorkersScope;
  readonly #base: string;

  constructor(scope: WorkersScope) {
    this.#scope = scope;
    this.#base = `${scope.prefix}:{workers}:`;
  }

  async heartbeat(worker: Omit<WorkerInfo, 'lastSeenAt'>, ttlMs: number): Promise<void> {
    // The script sets lastSeenAt on the store's clock.
    const { lastSeenAt: _, ...info } = workerRecord(worker, 0);
    await this.#scope.run('worker_heartbeat', this.#base, [this.#scope.nowArg(), worker.id, JSON.stringify(info), ttlMs]);
  }

  async list(): Promise<WorkerInfo[]> {
    const infos = (await this.#scope.run('workers_list', this.#base, [this.#scope.nowArg()])) as string[];
    return infos.map((text) => JSON.parse(text) as WorkerInfo).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async remove(id: string): Promise<void> {
    await this.#scope.run('worker_remove', this.#base, [id]);
  }
}
