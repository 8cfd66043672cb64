/**
 * The one shape of every background loop: `start()`, `stop()`, and `runOnce()` for tests.
 * Ticks never overlap: the next is scheduled when the previous one ends.
 */
/** What a loop logs with: its failed ticks. */
export interface LoopLogger {
  error(obj: object, msg: string): void;
}

export class IntervalLoop {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #started = false;

  /**
   * @param everyMs pause between the end of a tick and the start of the next.
   * @param jitter fraction of `everyMs` added at random, so processes started together drift apart.
   */
  constructor(
    readonly name: string,
    readonly everyMs: number,
    readonly tick: () => Promise<void>,
    readonly logger: LoopLogger,
    readonly jitter = 0,
  ) {}

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule();
  }

  /** Stop ticking and wait for a tick under way. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Run one tick now; errors are logged, not thrown (a loop must outlive a bad tick). */
  async runOnce(): Promise<void> {
    try {
      await this.tick();
    } catch (err) {
      this.logger.error({ err, loop: this.name }, `${this.name} loop tick failed`);
    }
  }

  #schedule(): void {
    const delay = this.everyMs * (1 + Math.random() * this.jitter);
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce().finally(() => {
        this.#running = undefined;
        if (this.#started) this.#schedule();
      });
    }, delay);
    this.#timer.unref();
  }
}
