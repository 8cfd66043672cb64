/**
 * Start a worker thread on a module of this package, run from `dist/` (JavaScript) or from
 * source (TypeScript, under tsx). Node 20 does not pass a loader's hooks on to worker threads,
 * so a `.ts` entry is started by a two-line bootstrap that registers tsx in the thread first.
 */
import { Worker as Thread, type WorkerOptions as ThreadOptions } from 'node:worker_threads';

/**
 * The URL of module `name` beside `here` (an `import.meta.url`), with `here`'s extension: the
 * `.js` file in `dist/`, the `.ts` file when this package runs from source.
 */
export function sibling(here: string, name: string): URL {
  return new URL(`./${name}${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
}

/** A thread running `entry` (a URL from {@link sibling}). */
export function spawnThread(entry: URL, options: ThreadOptions): Thread {
  if (!entry.pathname.endsWith('.ts')) return new Thread(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry.href)});`;
  return new Thread(bootstrap, { ...options, eval: true });
}
