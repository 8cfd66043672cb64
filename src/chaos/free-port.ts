/**
 * Free loopback ports for the private servers `conveyor chaos` and the tests start (redis-server,
 * PostgreSQL): one a server can get back after it was down a while.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Can we listen on 127.0.0.1:port right now? */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS hands out for `listen(0)`. */
function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The low end of the OS's range of ports for outgoing connections. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const taken = new Set<number>();

/**
 * A free loopback port. Preferably one below the OS's ephemeral range: a server that is down
 * for a while (a restart test) must get its port back, and an outgoing connection of some other
 * process could otherwise be given that very port in the meantime. Falls back to `listen(0)`.
 */
export async function freePort(): Promise<number> {
  const low = Math.max(ephemeralLow(), 12_000);
  for (let i = 0; i < 50; i++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (!taken.has(port) && (await canListen(port))) {
      taken.add(port);
      return port;
    }
  }
  const port = await ephemeralPort();
  taken.add(port);
  return port;
}
