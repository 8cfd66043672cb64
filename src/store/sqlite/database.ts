/**
 * Opening the SQLite file: WAL journal, the chosen `synchronous` level, and a busy timeout for
 * every later transition.
 *
 * Switching a new file to WAL takes an exclusive lock that SQLite's busy handler does not wait
 * for: processes opening one new file at the same instant get SQLITE_BUSY from the pragma
 * itself (seen 1 time in 120 with six processes). So the switch is retried here, with jittered
 * pauses, for as long as the busy timeout allows.
 */
import Database from 'better-sqlite3';

/** How to open the file. */
export interface DatabaseOptions {
  synchronous: 'normal' | 'full';
  /** How long a statement waits for another process's lock (the WAL switch included). */
  busyTimeoutMs: number;
}

/** Pause the thread without spinning: the store is opened in a constructor, synchronously. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const isBusy = (err: unknown) => (err as { code?: string }).code === 'SQLITE_BUSY';

/** Open `path` (or `:memory:`) ready for the store's transitions. */
export function openDatabase(path: string, options: DatabaseOptions): Database.Database {
  const db = new Database(path, { timeout: options.busyTimeoutMs });
  try {
    if (path !== ':memory:' && path !== '') switchToWal(db, options.busyTimeoutMs);
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function switchToWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      pause(wait + Math.random() * wait);
    }
  }
}
