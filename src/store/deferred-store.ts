/**
 * A store whose engine is opened on first use: `openStore` answers at once (an app's `store` is
 * a plain property), while the engine's module and driver load only when something is asked of
 * the store. Its `description` and `capabilities` come from the engine's registry entry, so
 * they are known before it opens. A failure to open is the answer to that call, not a crash at
 * import, and the next call tries again (a server that was down when the worker started is
 * used once it is up); `close()` of a store never used opens nothing.
 */
import type { Store, StoreCapabilities } from './store.js';

export function deferredStore(known: { description: string; capabilities: StoreCapabilities }, open: () => Promise<Store>): Store {
  let opening: Promise<Store> | undefined;
  let engine: Store | undefined;
  const calls = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const own: Partial<Store> = {
    description: known.description,
    capabilities: known.capabilities,
    async close() {
      const opened = await opening?.catch(() => undefined);
      await opened?.close();
    },
  };
  const forward = (name: string) => (...args: unknown[]) => {
    if (engine) return (engine as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args);
    opening ??= open().then(
      (store) => (engine = store),
      (err: unknown) => {
        opening = undefined;
        throw err;
      },
    );
    return opening.then((store) => (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args));
  };
  return new Proxy(own as Store, {
    get(target, name) {
      if (name in target) return target[name as keyof Store];
      // Not a thenable (awaiting the store must not call it), and nothing but the contract's methods.
      if (typeof name !== 'string' || name === 'then') return undefined;
      let call = calls.get(name);
      if (!call) calls.set(name, (call = forward(name)));
      return call;
    },
  });
}
