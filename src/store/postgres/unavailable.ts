/** What a lost or refused connection to PostgreSQL looks like to the store's callers. */
import { StoreUnavailableError } from '../../errors.js';

/** Errors that mean "the database did not answer", as opposed to a statement's own error. */
export function isUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)$/.test(code) || /^(08|57P0[1-3])/.test(code))) return true;
  return typeof message === 'string' && /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed/i.test(message);
}

/** The StoreUnavailableError that `err` means (naming `where` and what to check), or undefined when it is another error. */
export function unreachable(err: unknown, where: string): StoreUnavailableError | undefined {
  if (!isUnavailable(err)) return undefined;
  return new StoreUnavailableError(`PostgreSQL at ${where} is unreachable (${(err as Error).message}): check that the server is up and the URL is right`, { cause: err });
}
