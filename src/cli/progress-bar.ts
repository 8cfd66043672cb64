/**
 * Progress bars of the CLI: drawn on stderr, and only when stderr is a terminal. Piped or logged
 * output gets no bar (nor carriage-return noise); stdout stays what scripts parse.
 */
import cliProgress from 'cli-progress';

/** A bar on the terminal; `payload` fills the format's other `{tokens}`. */
export type Bar = cliProgress.SingleBar;

/** Whether bars are drawn: stderr is a terminal. */
export function barsEnabled(): boolean {
  return process.stderr.isTTY === true;
}

/**
 * Start a bar at 0 of `total`, or null when stderr is not a terminal.
 * @example const bar = startBar('{bar} {value}/{total}', lines, {}); bar?.update(n); bar?.stop();
 */
export function startBar(format: string, total: number, payload: Record<string, unknown>): Bar | null {
  if (!barsEnabled()) return null;
  const bar = new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true, barsize: 30, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, payload);
  return bar;
}

/** A report's info on one line: a string as it is, anything else as JSON, cut to `max` characters. */
export function oneLine(info: unknown, max = 60): string {
  if (info === null || info === undefined) return '';
  const text = (typeof info === 'string' ? info : JSON.stringify(info)).replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
