/**
 * The caller's own transaction (`{ tx }`, `app.withTransaction`), as the store speaks to it: a
 * node-postgres client inside BEGIN, a postgres.js transaction, or anything with
 * `query(text, values)` answering `{ rows }` (a Kysely or Drizzle adapter: see the README). The
 * store runs its statements there and leaves BEGIN, COMMIT and ROLLBACK to the caller: the job
 * exists if and only if the caller's transaction commits.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { Tx } from './tables.js';

type Rows = Record<string, unknown>[];

/** A postgres.js transaction: `unsafe(text, values)` answers the rows. */
interface PostgresJsLike {
  unsafe(text: string, values: unknown[]): Promise<Rows>;
}

/** node-postgres and most adapters: `query(text, values)` answers `{ rows }` (or the rows). */
interface QueryLike {
  query(text: string, values: unknown[]): Promise<{ rows: Rows } | Rows>;
}

const isFn = (v: unknown, name: string) => typeof (v as Record<string, unknown> | null)?.[name] === 'function';

/**
 * Wrap a caller's transaction for the store's statements.
 * @throws InvalidArgumentError naming what `tx` must be.
 */
export function callerTx(tx: unknown): Tx {
  if (isFn(tx, 'unsafe')) {
    const t = tx as PostgresJsLike;
    return { query: async ({ text, values }: { text: string; values: unknown[] }) => ({ rows: [...(await t.unsafe(text, values))] }) } as unknown as Tx;
  }
  if (isFn(tx, 'query')) {
    const t = tx as QueryLike;
    return {
      query: async ({ text, values }: { text: string; values: unknown[] }) => {
        const result = await t.query(text, values);
        return { rows: Array.isArray(result) ? result : result.rows };
      },
    } as unknown as Tx;
  }
  throw new InvalidArgumentError(
    'tx must be your open transaction: a node-postgres client after BEGIN, a postgres.js transaction (sql.begin(tx => ...)), or an object with query(text, values) answering { rows }',
  );
}
