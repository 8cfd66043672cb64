/**
 * A host whose clock is off, for `conveyor chaos` (and the clock-skew tests): preloaded with
 * `node --import <this module>`, it makes this process's wall clock (`Date.now()`, `new Date()`)
 * read `CONVEYOR_SKEW_MS` milliseconds ahead of the machine's (behind when negative), as on a
 * host NTP never corrected. Timers run on the monotonic clock, here as on such a host, so only
 * what reads the wall clock is off.
 */
const skew = Number(process.env.CONVEYOR_SKEW_MS ?? 0);
const RealDate = Date;
const realNow = RealDate.now;

class SkewedDate extends RealDate {
  constructor(...args: ConstructorParameters<DateConstructor> | []) {
    if (args.length === 0) super(realNow() + skew);
    else super(...(args as ConstructorParameters<DateConstructor>));
  }

  static override now(): number {
    return realNow() + skew;
  }
}

globalThis.Date = SkewedDate as DateConstructor;

export {};
