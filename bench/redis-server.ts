/**
 * What the Redis bench reads from the server itself: `INFO commandstats` (calls per command,
 * commands run inside Lua scripts included), `INFO cpu`, `INFO memory`, and the deletion of a
 * run's keys by prefix. The Redis is shared: nothing here flushes or touches keys of others.
 */
import type { Redis } from 'ioredis';

/** Calls and server time of one command. */
export interface CommandStat {
  calls: number;
  usec: number;
}

/** A point-in-time reading of the counters a run is measured by. */
export interface ServerSnapshot {
  commands: Map<string, CommandStat>;
  /** used_cpu_user + used_cpu_sys, seconds. */
  cpuSeconds: number;
}

/** Commands the driver itself sends around a measurement; left out of the deltas. */
const DRIVER_COMMANDS = new Set(['info']);

function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export async function snapshot(admin: Redis): Promise<ServerSnapshot> {
  const [stats, cpu] = await Promise.all([admin.info('commandstats'), admin.info('cpu')]);
  const commands = new Map<string, CommandStat>();
  for (const [key, value] of infoFields(stats)) {
    // cmdstat_evalsha:calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,failed_calls=0
    const name = key.replace(/^cmdstat_/, '');
    const calls = Number(/(?:^|,)calls=(\d+)/.exec(value)?.[1] ?? 0);
    const usec = Number(/(?:^|,)usec=(\d+)/.exec(value)?.[1] ?? 0);
    commands.set(name, { calls, usec });
  }
  const fields = infoFields(cpu);
  return { commands, cpuSeconds: Number(fields.get('used_cpu_user')) + Number(fields.get('used_cpu_sys')) };
}

/** What happened on the server between two snapshots. */
export interface ServerDelta {
  /** Calls by command, most first; the driver's own INFO left out. */
  commands: [name: string, stat: CommandStat][];
  totalCalls: number;
  cpuSeconds: number;
}

export function delta(before: ServerSnapshot, after: ServerSnapshot): ServerDelta {
  const commands: [string, CommandStat][] = [];
  for (const [name, stat] of after.commands) {
    if (DRIVER_COMMANDS.has(name)) continue;
    const prev = before.commands.get(name) ?? { calls: 0, usec: 0 };
    const calls = stat.calls - prev.calls;
    if (calls > 0) commands.push([name, { calls, usec: stat.usec - prev.usec }]);
  }
  commands.sort((a, b) => b[1].calls - a[1].calls);
  return { commands, totalCalls: commands.reduce((sum, [, s]) => sum + s.calls, 0), cpuSeconds: after.cpuSeconds - before.cpuSeconds };
}

/** used_memory, bytes. */
export async function usedMemory(admin: Redis): Promise<number> {
  return Number(infoFields(await admin.info('memory')).get('used_memory'));
}

/** Facts about the server for the results: version, persistence, clients. */
export async function serverFacts(admin: Redis): Promise<{ version: string; persistence: string; clients: number; keys: number }> {
  const [server, persistence, clients, keys] = await Promise.all([admin.info('server'), admin.info('persistence'), admin.info('clients'), admin.dbsize()]);
  const p = infoFields(persistence);
  const aof = p.get('aof_enabled') === '1' ? 'AOF on' : 'AOF off';
  const [, save = ''] = (await admin.config('GET', 'save')) as string[];
  return {
    version: infoFields(server).get('redis_version') ?? 'unknown',
    persistence: `${aof}, RDB save "${save}"`,
    clients: Number(infoFields(clients).get('connected_clients')),
    keys,
  };
}

/** Delete every key whose name contains `token` (a run's unique prefix); answers how many. */
export async function deleteKeys(admin: Redis, token: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `*${token}*`, 'COUNT', 1000);
    cursor = next;
    // DEL, not UNLINK: memory is back before the next reading of used_memory.
    if (keys.length > 0) deleted += await admin.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Keys whose name contains `token`. */
export async function countKeys(admin: Redis, token: string): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `*${token}*`, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}
