/**
 * Finding the app and the store for a CLI command. Store resolution is the same everywhere:
 * `--store`, else the app's own (which defaults to `CONVEYOR_STORE`, else `sqlite:./conveyor.db`).
 */
import { Conveyor } from '../app.js';
import { loadApp } from '../runtime/app-module.js';

/** Options every command that touches the store takes. */
export interface StoreFlags {
  app?: string;
  store?: string;
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
