/** Callers waiting for a store to change: woken together, each bounded by its own timeout. */
export class Waiters {
  #waiters = new Set<() => void>();
  /** A remote change arrived while nobody waited: the next wait returns at once. */
  #missed = false;

  /**
   * Wake every waiter now. With `remember`, a change that finds nobody waiting (the caller is
   * busy in a store call) is kept for the next wait, so it is not lost until the poll interval.
   */
  notify(remember = false): void {
    if (this.#waiters.size === 0) {
      if (remember) this.#missed = true;
      return;
    }
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolve at the next notify, the timeout, or abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted || timeoutMs <= 0) return Promise.resolve();
    if (this.#missed) {
      this.#missed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }
}
