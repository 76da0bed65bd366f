import { randomBytes } from 'node:crypto';
import { freePort, randomPrefix, waitFor } from './net';
import { startRedisServer, type RedisServer } from './redis-server';
import { runToEnd, startService, type ServiceProcess } from './services';

export interface StackOptions {
  /** Router port; 0 picks a free one. */
  port?: number;
  slots?: number;
  /**
   * Use this Redis; otherwise a private redis-server is started and stopped with the stack,
   * with a random password (requirepass) that only the trusted services receive.
   */
  redisUrl?: string;
  prefix?: string;
  hostId?: string;
  loopbackBase?: string;
  /** Worker port on every slot address; 0 picks a free one. */
  workerPort?: number;
  /** More environment for every service (limits, timeouts, LOG_LEVEL…). */
  env?: Record<string, string>;
  /** Where the services' JSON logs go. */
  output?: 'inherit' | 'ignore' | ((line: string) => void);
  /** Called when a service ends while the stack is meant to be running. */
  onUnexpectedExit?: (service: string, code: number | string) => void;
  /** How long to wait for every slot to be idle. */
  readyTimeoutMs?: number;
}

export interface Stack {
  url: string;
  redisUrl: string;
  /** The private redis-server, when the stack started one. */
  redis: RedisServer | undefined;
  prefix: string;
  hostId: string;
  env: NodeJS.ProcessEnv;
  services: ReadonlyMap<string, ServiceProcess>;
  stop(): Promise<void>;
}

/** First address of the slot range; the loopback backend takes consecutive ones. */
const DEFAULT_LOOPBACK_BASE = '127.77.0.1';

/**
 * Starts the whole single-machine stack as separate processes: Redis (private unless given),
 * netprov (loopback slots), worker, watchdog, router; resolves once every slot is idle.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const slots = options.slots ?? 4;
  const prefix = options.prefix ?? randomPrefix('corral');
  // A host id of its own: stacks side by side (tests) must not share host-scoped state.
  const hostId = options.hostId ?? `local-${randomBytes(3).toString('hex')}`;
  const loopbackBase = options.loopbackBase ?? DEFAULT_LOOPBACK_BASE;
  const port = options.port || (await freePort());
  const workerPort = options.workerPort || (await freePort(loopbackBase));
  let redis: RedisServer | undefined;
  const services = new Map<string, ServiceProcess>();
  let stopping = false;

  const stop = async (): Promise<void> => {
    stopping = true;
    // The router first (no new work), then the worker (finishes what runs), then the rest.
    for (const name of ['router', 'worker', 'watchdog']) await services.get(name)?.stop();
    if (!redis && options.redisUrl) await runToEnd('netprov', ['down'], env).catch(() => undefined);
    await redis?.stop();
  };

  const redisUrl = options.redisUrl ?? (redis = await startRedisServer({ password: randomBytes(18).toString('base64url') })).url;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    CORRAL_REDIS_PREFIX: prefix,
    CORRAL_HOST_ID: hostId,
    CORRAL_BACKEND: 'loopback',
    CORRAL_LOOPBACK_BASE: loopbackBase,
    CORRAL_WORKER_PORT: String(workerPort),
    PORT: String(port),
    ...options.env,
  };
  try {
    await runToEnd('netprov', ['up', '--count', String(slots)], env);
    for (const name of ['worker', 'watchdog', 'router'] as const) {
      const service = startService(name, [], env, options.output ?? 'inherit');
      services.set(name, service);
      void service.exited.then((code) => {
        if (!stopping) options.onUnexpectedExit?.(name, code);
      });
    }
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      `${slots} idle slots at ${url}`,
      async () => {
        for (const [name, service] of services) {
          if (service.child.exitCode !== null) throw new Error(`${name} exited with code ${service.child.exitCode}`);
        }
        const res = await fetch(`${url}/v1/pool`);
        const pool = (await res.json()) as { idle: number };
        return pool.idle >= slots;
      },
      { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 50 },
    );
    return { url, redisUrl, redis, prefix, hostId, env, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
