import { randomBytes } from 'node:crypto';
import type { RedisEndpoint } from '@corral/contracts';
import { freePort, randomPrefix, waitFor } from './net';
import { startRedisCluster, startSentinelSet } from './redis-ha';
import { startRedisServer } from './redis-server';
import { runToEnd, startService, type Output, type ServiceProcess } from './services';

export interface StackOptions {
  /** Router port; 0 picks a free one. */
  port?: number;
  slots?: number;
  /**
   * Use this Redis; otherwise a private redis-server is started and stopped with the stack,
   * with a random password (requirepass) that only the trusted services receive.
   */
  redisUrl?: string;
  /** Use the Redis these variables point at (REDIS_SENTINELS…, REDIS_CLUSTER_NODES…), as `redisUrl` does. */
  redisEnv?: Record<string, string>;
  /**
   * Which private Redis to start when none is given: one server (the default), a master with a
   * replica and three Sentinels, or a three-master Cluster. CORRAL_TEST_REDIS sets the default,
   * so that a suite runs unchanged on each.
   */
  privateRedis?: PrivateRedisKind;
  /**
   * Where the private redis-server keeps its append-only file, so that what was accepted (a
   * background execution answered 202, a webhook still to deliver) survives a restart of the
   * stack; unset: it keeps nothing (tests).
   */
  redisDataDir?: string;
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
  /** Turns API keys on with this one key (CORRAL_API_KEYS=devkit:<key>, 16 characters at least); the stack's own look at the pool sends it. */
  apiKey?: string;
}

export const PRIVATE_REDIS_KINDS = ['standalone', 'sentinel', 'cluster'] as const;
export type PrivateRedisKind = (typeof PRIVATE_REDIS_KINDS)[number];

/** A Redis the stack started and stops: its environment, and a restart that loses its data. */
export interface PrivateRedis {
  env: Record<string, string>;
  endpoint: RedisEndpoint;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface Stack {
  url: string;
  /** REDIS_URL, when Redis is one server; '' for Sentinel or Cluster (see `redisEnv`). */
  redisUrl: string;
  /** The variables that point the services at Redis. */
  redisEnv: Record<string, string>;
  /** The private Redis, when the stack started one. */
  redis: PrivateRedis | undefined;
  prefix: string;
  hostId: string;
  env: NodeJS.ProcessEnv;
  services: ReadonlyMap<string, ServiceProcess>;
  stop(): Promise<void>;
}

/** How many lines of a quiet service's output a stack keeps, for the error when it dies at start. */
const TAIL_LINES = 30;

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
  let redis: PrivateRedis | undefined;
  const external = options.redisEnv ?? (options.redisUrl ? { REDIS_URL: options.redisUrl } : undefined);
  const services = new Map<string, ServiceProcess>();
  let stopping = false;
  // A quiet stack still keeps each service's last lines, so that a service dying at start says why.
  const tails = new Map<string, string[]>();
  const outputOf = (name: string): Output => {
    const output = options.output ?? 'inherit';
    if (output !== 'ignore') return output;
    return (line) => {
      const tail = tails.get(name) ?? [];
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      tails.set(name, tail);
    };
  };
  const lastLines = (name: string): string => (tails.get(name)?.length ? `; its last lines:\n${tails.get(name)!.join('\n')}` : '');

  const stop = async (): Promise<void> => {
    stopping = true;
    // The router first (no new work), then the worker (finishes what runs), then the rest.
    for (const name of ['router', 'worker', 'watchdog']) await services.get(name)?.stop();
    if (!redis && external) await runToEnd('netprov', ['down'], env).catch(() => undefined);
    await redis?.stop();
  };

  const redisEnv = external ?? (redis = await startPrivateRedis(options.privateRedis ?? privateRedisFromEnv(), options.redisDataDir)).env;
  const redisUrl = redisEnv['REDIS_URL'] ?? '';
  const env: NodeJS.ProcessEnv = {
    ...withoutRedis(process.env),
    ...redisEnv,
    CORRAL_REDIS_PREFIX: prefix,
    CORRAL_HOST_ID: hostId,
    CORRAL_BACKEND: 'loopback',
    CORRAL_LOOPBACK_BASE: loopbackBase,
    CORRAL_WORKER_PORT: String(workerPort),
    PORT: String(port),
    ...(options.apiKey ? { CORRAL_API_KEYS: `devkit:${options.apiKey}` } : {}),
    ...options.env,
  };
  try {
    await runToEnd('netprov', ['up', '--count', String(slots)], env);
    for (const name of ['worker', 'watchdog', 'router'] as const) {
      const service = startService(name, [], env, outputOf(name));
      services.set(name, service);
      void service.exited.then((code) => {
        if (!stopping) options.onUnexpectedExit?.(name, code);
      });
    }
    const url = `http://127.0.0.1:${port}`;
    // With API keys on, the pool answers only a key: the stack's own, else the first of CORRAL_API_KEYS (`name:key,…`).
    const poolKey = options.apiKey ?? /^[^:,]+:([^,]+)/.exec(String(env['CORRAL_API_KEYS'] ?? ''))?.[1];
    const poolHeaders: Record<string, string> = poolKey ? { authorization: `Bearer ${poolKey}` } : {};
    // A service that dies before the pool is ready ends the wait at once, with its last lines.
    let died: Error | undefined;
    const ready = waitFor(
      `${slots} idle slots at ${url}`,
      async () => {
        for (const [name, service] of services) {
          if (service.child.exitCode !== null) {
            died ??= new Error(`${name} exited with code ${service.child.exitCode} before the pool was ready${lastLines(name)}`);
            return true;
          }
        }
        const res = await fetch(`${url}/v1/pool`, { headers: poolHeaders });
        const pool = (await res.json()) as { idle: number };
        return pool.idle >= slots;
      },
      { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 50 },
    );
    await ready;
    if (died) throw died;
    return { url, redisUrl, redisEnv, redis, prefix, hostId, env, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The variables that say where Redis is: the stack's own replace any the caller's environment has. */
const REDIS_VARIABLES = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD', 'REDIS_CLUSTER_NODES', 'REDIS_PASSWORD'];

function withoutRedis(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  for (const name of REDIS_VARIABLES) delete rest[name];
  return rest;
}

/** CORRAL_TEST_REDIS: which private Redis the test tooling starts (standalone when unset). */
export function privateRedisFromEnv(env: NodeJS.ProcessEnv = process.env): PrivateRedisKind {
  const kind = env['CORRAL_TEST_REDIS'] || 'standalone';
  if (!(PRIVATE_REDIS_KINDS as readonly string[]).includes(kind)) throw new Error(`CORRAL_TEST_REDIS=${kind} must be one of ${PRIVATE_REDIS_KINDS.join(', ')}`);
  return kind as PrivateRedisKind;
}

/** Starts a private Redis of `kind`, each with random passwords that only the trusted services receive. */
export function startPrivateRedis(kind: PrivateRedisKind, dataDir?: string): Promise<PrivateRedis> {
  switch (kind) {
    case 'standalone':
      return startRedisServer({ password: randomBytes(18).toString('base64url'), ...(dataDir ? { dataDir } : {}) });
    case 'sentinel':
      return startSentinelSet();
    case 'cluster':
      return startRedisCluster();
  }
}
