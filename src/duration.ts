import { InvalidArgumentError } from './errors.js';

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'30s'`, `'10m'`, `'1h'`, `'2d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Convert a {@link Duration} to milliseconds.
 * @param field names the option in the error message when the value is not a duration.
 */
export function toMs(value: Duration | string, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
    if (m) return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  }
  throw new InvalidArgumentError(`${field} must be a duration: milliseconds (a number >= 0) or a string like '500ms', '30s', '10m', '1h', '2d'; got ${JSON.stringify(value)}`);
}

/** {@link toMs} for an optional value. */
export function toMsOr(value: Duration | string | undefined, field: string, fallback: number): number {
  return value === undefined ? fallback : toMs(value, field);
}
