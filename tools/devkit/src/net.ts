import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Ports below Linux's default ephemeral range (32768–60999): the kernel never hands these out as
 * the source port of an outgoing connection or to a bind to port 0, so a port found free here is
 * not taken meanwhile by the kernel (only by another caller that picks the same random port, one
 * chance in 12 768 per pair). A port from bind(0) can be: in a CI
 * run a router failed with EADDRINUSE because a connection took its port as a source port in the
 * second between the probe and the listen.
 */
export const FREE_PORT_RANGE = { min: 20_000, max: 32_767 } as const;

/** Binds `port` on `host` (0: any) and releases it again at once: the port it got, or null when it could not. */
function listenOnce(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : null));
    });
  });
}

/** The first port of this host's ephemeral range (Linux's default when it cannot be read). */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A TCP port that was free on `host` a moment ago, from FREE_PORT_RANGE below this host's
 * ephemeral range (one from the kernel if 64 random picks were all taken, or the host's
 * ephemeral range leaves none of FREE_PORT_RANGE).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const max = Math.min(FREE_PORT_RANGE.max, ephemeralStart() - 1);
  for (let attempt = 0; attempt < 64 && max >= FREE_PORT_RANGE.min; attempt += 1) {
    const port = await listenOnce(randomInt(FREE_PORT_RANGE.min, max + 1), host);
    if (port !== null) return port;
  }
  const port = await listenOnce(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/** A Redis key prefix of its own for one test. */
export function randomPrefix(name = 't'): string {
  return `${name}-${randomBytes(5).toString('hex')}`;
}

/**
 * A loopback base address of its own (127.<100-239>.<0-255>.1) for one test's slots, so that
 * tests running side by side never bind the same address. Every 127/8 address routes to lo.
 */
export function randomLoopbackBase(): string {
  return `127.${randomInt(100, 240)}.${randomInt(0, 256)}.1`;
}

/** Polls `check` until it returns a value other than undefined, null or false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 10_000, intervalMs = 25 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(intervalMs);
  }
}
