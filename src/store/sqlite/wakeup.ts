/**
 * Wake-ups for an SQLite store: SQLite has no notifications, but every commit writes the
 * database's WAL file, and the OS tells watchers of its folder (inotify, FSEvents). So an idle
 * worker sleeps until some process writes the database, a local write happens, a scheduled job
 * comes due, or its timeout passes — no busy polling.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Waiters } from '../waiters.js';

export class Wakeup {
  readonly #waiters = new Waiters();
  #watcher: FSWatcher | undefined;
  #file: string | undefined;

  /** @param file the database file, or undefined for an in-memory database (local wake-ups only). */
  constructor(file: string | undefined) {
    this.#file = file;
  }

  /** Whether writes by other processes wake waiters. */
  get crossProcess(): boolean {
    return this.#file !== undefined;
  }

  /** Wake every waiter now (a write through this process's own handle). */
  notify(): void {
    this.#waiters.notify();
  }

  /** Resolve at the next notify, a write to the database by any process, the timeout, or abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.#ensureWatching();
    return this.#waiters.wait(timeoutMs, signal);
  }

  #ensureWatching(): void {
    if (this.#watcher || !this.#file) return;
    const prefix = basename(this.#file);
    try {
      this.#watcher = watch(dirname(this.#file), { persistent: false }, (_event, name) => {
        if (name && String(name).startsWith(prefix)) this.notify();
      });
      this.#watcher.on('error', () => this.#stopWatching());
    } catch {
      // No watcher available (a folder we cannot watch): waits fall back to their timeouts.
      this.#file = undefined;
    }
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  close(): void {
    this.#stopWatching();
    this.notify();
  }
}
