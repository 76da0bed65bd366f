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

/** Whether `port` can be bound on `host` now (and is released again at once). */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A TCP port that was free on `host` a moment ago, from FREE_PORT_RANGE (one from the kernel if 64 random picks were all taken). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 64; attempt += 1) {
    const port = randomInt(FREE_PORT_RANGE.min, FREE_PORT_RANGE.max + 1);
    if (await bindable(port, host)) return port;
  }
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
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
