/**
 * Finding the app and the store for a CLI command. Store resolution is the same everywhere:
 * `--store`, else the app's own (which defaults to `CONVEYOR_STORE`, else `sqlite:./conveyor.db`).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Conveyor } from '../app.js';
import { InvalidArgumentError } from '../errors.js';

/** Options every command that touches the store takes. */
export interface StoreFlags {
  app?: string;
  store?: string;
}

/**
 * Import a module that exports the app (default export, or a named `app`). TypeScript modules
 * are compiled on the fly with tsx.
 */
export async function loadApp(modulePath: string): Promise<Conveyor> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new InvalidArgumentError(`--app ${modulePath}: no such file (${file})`);
  if (/\.[cm]?tsx?$/.test(file)) {
    const { register } = await import('tsx/esm/api');
    register();
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(`--app ${modulePath}: the module failed to load: ${(err as Error).message}`, { cause: err });
  }
  const app = [mod.default, mod.app].find(isApp);
  if (!app) throw new InvalidArgumentError(`--app ${modulePath}: the module exports no Conveyor app; export it as the default export or as \`app\``);
  return app;
}

/**
 * Duck-typed, so an app built against another copy of this package (a user's node_modules
 * beside a global install) is still recognized.
 */
function isApp(value: unknown): value is Conveyor {
  if (value instanceof Conveyor) return true;
  const v = value as Partial<Conveyor> | null;
  return typeof v === 'object' && v !== null && typeof v.task === 'function' && v.tasks instanceof Map && typeof v.useStore === 'function';
}

/** The app for a command: the `--app` module's, or a bare one; with `--store` applied. */
export async function resolveApp(flags: StoreFlags): Promise<Conveyor> {
  const app = flags.app ? await loadApp(flags.app) : new Conveyor();
  if (flags.store) app.useStore(flags.store);
  return app;
}

/** Run a one-shot command with the app, closing its store afterwards whatever happens. */
export async function withApp<T>(flags: StoreFlags, fn: (app: Conveyor) => Promise<T>): Promise<T> {
  const app = await resolveApp(flags);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
