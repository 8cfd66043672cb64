/**
 * Flush the OS's dirty pages before a clock starts. On ext4 (data=ordered) an fsync also waits for
 * other files' dirty data, so without this the previous scenario's writes, still in the page
 * cache, are charged to the next one's checkpoints.
 */
import { execFileSync } from 'node:child_process';

export function flushDirtyPages(): void {
  try {
    execFileSync('sync', { stdio: 'ignore' });
  } catch {
    // no `sync` command: measure without it
  }
}
