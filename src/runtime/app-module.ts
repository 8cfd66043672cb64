/**
 * Loading the module that exports the app: by the CLI, and by each child of a thread or process
 * pool, which loads the app itself (its handlers are functions: they cannot be sent over).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Conveyor } from '../app.js';
import { InvalidArgumentError } from '../errors.js';

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
