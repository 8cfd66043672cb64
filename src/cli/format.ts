/** Output helpers of the CLI: tables for people, JSON for scripts. */
import Table from 'cli-table3';

/** A table with a header row, no colours (output is often piped or logged). */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

/** Print a value as JSON, one document per command. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A timestamp for tables: ISO without milliseconds, or '-'. */
export function when(value: Date | number | null): string {
  if (value === null) return '-';
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
