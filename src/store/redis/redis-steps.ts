/**
 * `ctx.step` records on Redis: a job's steps live in `<base>steps:<id>` beside the job (same
 * slot), read and written by scripts fenced by the job's current token, and deleted with it.
 */
import type { StepOutcome, StepRecord } from '../store.js';
import { stepOutcome } from './codes.js';
import { call, type Client } from './connection.js';
import type { JobLocator } from './redis-locator.js';
import { toSteps } from './records.js';
import type { ScriptName } from './scripts.js';

/** What steps need from their store. */
export interface StepScope {
  client: Client;
  description: string;
  /** The scripts' `now` argument ('' for Redis' TIME). */
  nowArg(): string;
  locator: JobLocator;
  run(name: ScriptName, base: string, args: (string | number)[]): Promise<unknown>;
}

const MISSING: StepOutcome = { ok: false, reason: 'missing', terminate: false };

export class RedisSteps {
  readonly #scope: StepScope;

  constructor(scope: StepScope) {
    this.#scope = scope;
  }

  /** Read a step; a recorded one counts `steps_replayed_total` (in the script). */
  async get(id: string, token: number, name: string): Promise<StepOutcome> {
    const queue = await this.#scope.locator.locate(id);
    if (queue === undefined) return MISSING;
    const [code, resultJson] = (await this.#scope.run('step_get', this.#scope.locator.base(queue), [id, token, name])) as [string, string?];
    return stepOutcome(code, resultJson);
  }

  /** Record a step unless recorded already; answers the recorded result. */
  async put(id: string, token: number, name: string, resultJson: string): Promise<StepOutcome> {
    const queue = await this.#scope.locator.locate(id);
    if (queue === undefined) return MISSING;
    const args = [this.#scope.nowArg(), id, token, name, resultJson];
    const [code, recorded] = (await this.#scope.run('step_put', this.#scope.locator.base(queue), args)) as [string, string?];
    return stepOutcome(code, recorded);
  }

  async list(id: string): Promise<StepRecord[]> {
    const { locator, client, description } = this.#scope;
    const queue = await locator.locate(id);
    if (queue === undefined) return [];
    return toSteps(await call(description, () => client.hgetall(`${locator.base(queue)}steps:${id}`)));
  }
}
