/**
 * What a storage engine registers so that `openStore` can reach it by URL scheme: how to read
 * its URLs, what it can do, and how to open it. `open` loads the engine's module (and its
 * driver) on first use, so an app on one engine never loads another's: a new engine is a folder
 * with an `engine.ts` and one line in open.ts.
 */
import type { Store, StoreCapabilities, StoreOptions } from './store.js';

/** An engine's entry in the registry; `L` is its parsed URL (`{ engine: <name>, ... }`). */
export interface Engine<L extends { engine: string }> {
  /** URL schemes it serves, lower case, without the colon (`redis`, `rediss`). */
  schemes: readonly string[];
  /** Its URL form, for the message that lists the engines (`redis://host:port`). */
  example: string;
  /**
   * Parse a URL of one of its schemes without opening anything.
   * @throws UnknownStoreError naming the URL and what to write instead.
   */
  parseUrl(url: string): L;
  /** A display form of where the store is, without credentials (Store.description). */
  describe(location: L): string;
  /** What the store opened at `location` can do (Store.capabilities), known before it opens. */
  capabilities(location: L): StoreCapabilities;
  /** Load the engine's module and open the store. */
  open(location: L, options: StoreOptions): Promise<Store>;
  /**
   * Bring the store's schema to this build's version (`conveyor migrate`); answers what it did,
   * as a line for the terminal. Absent for an engine with no schema (Redis).
   */
  migrate?(location: L): Promise<string>;
}
