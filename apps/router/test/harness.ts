import { createServer, type RequestListener, type Server } from 'node:http';
import { loadRouterConfig } from '@corral/config';
import { freePort, randomLoopbackBase, randomPrefix, startRedisServer, type RedisServer } from '@corral/devkit';
import { Registry } from '@corral/registry';
import { createLogger } from '@corral/service';
import { startRouter, type RouterHandle } from '../src/lib/router';

/**
 * What every router test file stands on: a private redis-server for the file, and for each test
 * a Redis prefix, a loopback base for its slots, a Registry and (unless the file starts its own)
 * a router, all torn down after the test with the stand-in workers it started.
 *
 * The exports below are live bindings: every test gets a new registry, router, prefix and worker
 * port, so read them inside tests and helpers, never copy them while the file loads.
 */
export let redis: RedisServer;
export let registry: Registry;
export let router: RouterHandle;
export let prefix: string;
/** The one port every stand-in worker listens on, each on its own slot address. */
export let workerPort: number;

let host: string;
let queueTimeoutMs: string;
let base: string;
/** The router this test started and has not closed yet: each router is closed once. */
let open: RouterHandle | undefined;
const servers: Server[] = [];

/**
 * Registers the file's hooks. `host` names the slots `slots` publishes; `prefixName` marks the
 * file's Redis keys; `startEachTest` false leaves each test to call `startWith` itself.
 */
export function routerHarness(options: { host: string; prefixName: string; queueTimeoutMs: number; startEachTest?: boolean }): void {
  host = options.host;
  queueTimeoutMs = String(options.queueTimeoutMs);
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    prefix = randomPrefix(options.prefixName);
    base = randomLoopbackBase();
    workerPort = await freePort(base);
    registry = await Registry.connect({ url: redis.url, prefix });
    if (options.startEachTest !== false) await startWith();
  });
  afterEach(async () => {
    await open?.close();
    open = undefined;
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    await registry.close();
  });
}

/** Closes the test's router, if it has one, and starts one on the test's Redis prefix with `env` over the file's defaults. */
export async function startWith(env: Record<string, string> = {}): Promise<void> {
  await open?.close();
  open = router = await startRouter(
    loadRouterConfig({ REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: prefix, PORT: '0', CORRAL_QUEUE_TIMEOUT_MS: queueTimeoutMs, ...env }),
    createLogger('router', 'silent'),
  );
}

/** Slot i's address: the test's loopback base plus i. */
export function ip(i: number): string {
  const parts = base.split('.');
  parts[3] = String(Number(parts[3]) + i);
  return parts.join('.');
}

/** A stand-in worker on slot i's address, answering with `onRequest`; closed after the test. */
export async function standIn(i: number, onRequest: RequestListener): Promise<Server> {
  const server = createServer(onRequest);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(workerPort, ip(i), resolve));
  return server;
}

/** Publishes `count` slots and makes them idle; slot i is served only if a stand-in listens there. */
export async function slots(count: number): Promise<void> {
  await registry.slots.publish(host, 'loopback', Array.from({ length: count }, (_, i) => ({ id: `${host}:${i}`, ip: ip(i) })));
  for (let i = 0; i < count; i += 1) await registry.slots.ready(host, `${host}:${i}`, '', 1, workerPort);
}
