/**
 * The Lua script loader. Each script in `lua/` is registered on the client under its name with
 * ioredis' defineCommand, which calls EVALSHA and falls back to EVAL when Redis answers
 * NOSCRIPT (after a restart or a SCRIPT FLUSH) — so scripts survive a server that forgot them.
 */
import type { Cluster, Redis } from 'ioredis';
import { luaPolicy } from '../policy.js';
import { scripts } from './lua/scripts.gen.js';

/** The scripts callable on a client, each with one key (a queue's, a pool's, the workers' or beat's base) and string args. */
export const SCRIPT_NAMES = [
  'enqueue', 'reserve', 'settle', 'renew', 'revoke', 'retry_final', 'recover', 'delete_expired', 'purge', 'peek', 'relay',
  'step_get', 'step_put', 'pool_add', 'pool_remove', 'pool_acquire', 'pool_renew', 'pool_release', 'pool_items', 'pool_reclaim',
  'progress', 'worker_heartbeat', 'workers_list', 'worker_remove', 'tick_advance', 'tick_get', 'id_claim', 'id_release', 'follow',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** Script names are prefixed so they cannot clash with Redis commands or a user's own. */
const commandName = (name: ScriptName) => `conveyor_${name}`;

/** Each script's source: the policy prelude (core's tables and templates, see policy.ts), then the script. */
let sources: Record<ScriptName, string> | undefined;

export function defineScripts(client: Redis | Cluster): void {
  if (!sources) {
    const prelude = luaPolicy();
    sources = Object.fromEntries(SCRIPT_NAMES.map((name) => [name, prelude + scripts[name]])) as Record<ScriptName, string>;
  }
  for (const name of SCRIPT_NAMES) client.defineCommand(commandName(name), { numberOfKeys: 1, lua: sources[name] });
}

/** Run a script (defined by {@link defineScripts}) on the keys of one queue or pool. */
export function runScript(client: Redis | Cluster, name: ScriptName, base: string, args: (string | number)[]): Promise<unknown> {
  const command = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[commandName(name)]!;
  return command.call(client, base, ...args);
}
