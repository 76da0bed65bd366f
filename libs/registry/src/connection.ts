import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { describeRedis, type RedisEndpoint } from '@corral/contracts';
import { createClient } from './client';
import { RegistryUnavailableError, toRegistryError } from './errors';

export interface RegistryOptions {
  /** Where Redis is: one server, a master through Sentinel, or a Cluster (the services pass their config's). */
  redis?: RedisEndpoint;
  /** Shorthand for `redis: { mode: 'standalone', url }` (tools and tests). */
  url?: string;
  prefix: string;
  /** Give up at the first connection failure (command-line tools) instead of retrying (services). */
  failFast?: boolean;
  /** How long `connect` waits for Redis before it fails. */
  connectTimeoutMs?: number;
  /** Connection errors after start-up (Redis restarts, failovers); services log them. */
  onError?: (err: Error) => void;
}

/** A Redis URL without its password, fit for a log line or an error message. */
export function redactUrl(url: string): string {
  return describeRedis({ mode: 'standalone', url });
}

function endpointOf(options: RegistryOptions): RedisEndpoint {
  if (options.redis) return options.redis;
  if (options.url) return { mode: 'standalone', url: options.url };
  throw new Error('RegistryOptions needs `redis` or `url`');
}

/**
 * The commands the facets use, which `Redis` and `Cluster` both implement (ioredis' Commander):
 * the facets are written once against one type.
 */
type Client = Redis | Cluster;

function asCommands(client: Client): Redis {
  return client as Redis;
}

/**
 * The registry's connections to Redis: one for commands and scripts, one more per subscribed
 * channel. Every command goes through `run`, the one place where the driver's connection
 * errors become RegistryUnavailableError.
 */
export class Connection {
  private readonly subscribers: Client[] = [];
  /** Where Redis is, as the options gave it. */
  readonly endpoint: RedisEndpoint;

  private constructor(
    private readonly redis: Client,
    readonly options: RegistryOptions,
  ) {
    this.endpoint = endpointOf(options);
  }

  /** Whether pub/sub is sharded (SPUBLISH/SSUBSCRIBE): on a Cluster, a message then stays on the shard that owns its channel. */
  get shardedPubSub(): boolean {
    return this.endpoint.mode === 'cluster';
  }

  /** Connects and waits until Redis answers. @throws RegistryUnavailableError naming the (redacted) URL and the cause */
  static async open(options: RegistryOptions): Promise<Connection> {
    const endpoint = endpointOf(options);
    const redis = createClient(endpoint, options.failFast ?? false);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    let lastError: Error | undefined;
    const onError = (err: Error): void => {
      lastError = err;
    };
    redis.on('error', onError);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        redis.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
        redis.once('end', () => {
          clearTimeout(timer);
          reject(lastError ?? new Error('connection closed'));
        });
        redis.connect().catch((err: Error) => {
          lastError ??= err; // the 'error' event's cause (ECONNREFUSED…) says more than "Connection is closed"
          if (options.failFast) {
            clearTimeout(timer);
            reject(err);
          }
        });
      });
    } catch (err) {
      redis.disconnect();
      const cause = lastError ?? (err as Error);
      throw new RegistryUnavailableError(`Cannot reach Redis at ${describeRedis(endpoint)}: ${cause.message}`, { cause });
    } finally {
      redis.off('error', onError);
    }
    redis.on('error', (err: Error) => options.onError?.(err));
    return new Connection(redis, options);
  }

  /** Runs one operation on the command connection. @throws RegistryUnavailableError when Redis cannot be reached */
  async run<T>(operation: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await operation(asCommands(this.redis));
    } catch (err) {
      throw toRegistryError(err);
    }
  }

  /** Registers a Lua script as a command on the command connection (see scripts.ts). */
  define(name: string, numberOfKeys: number, lua: string): void {
    this.redis.defineCommand(name, { numberOfKeys, lua });
  }

  /**
   * A connection of its own subscribed to one channel (ioredis subscribes again after a
   * reconnect); the returned function ends it.
   */
  async listen(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const sub = createClient(this.endpoint, this.options.failFast ?? false);
    sub.on('error', (err: Error) => this.options.onError?.(err));
    this.subscribers.push(sub);
    sub.on(this.shardedPubSub ? 'smessage' : 'message', (_channel: string, message: string) => onMessage(message));
    try {
      await sub.connect();
      if (this.shardedPubSub) await sub.ssubscribe(channel);
      else await sub.subscribe(channel);
    } catch (err) {
      this.subscribers.splice(this.subscribers.indexOf(sub), 1);
      sub.disconnect();
      throw toRegistryError(err);
    }
    return async () => {
      const at = this.subscribers.indexOf(sub);
      if (at >= 0) this.subscribers.splice(at, 1);
      await end(sub);
    };
  }

  /**
   * The servers that hold data: the one server (or the current master), or every master of a
   * Cluster. For test hooks that must visit each (SCAN).
   */
  masters(): Redis[] {
    const redis = this.redis;
    return 'nodes' in redis && typeof redis.nodes === 'function' ? redis.nodes('master') : [asCommands(redis)];
  }

  /** Runs `listener` each time the command connection is ready again after a loss. */
  onReconnect(listener: () => void): void {
    this.redis.on('ready', listener); // registered after open: every 'ready' from now on is a reconnect
  }

  async close(): Promise<void> {
    await Promise.all(this.subscribers.splice(0).map((s) => end(s)));
    await end(this.redis);
  }
}

/** Quits politely; when that fails, disconnects, which also stops a reconnection under way. */
async function end(redis: Client): Promise<void> {
  await redis.quit().catch(() => undefined);
  if (redis.status !== 'end') redis.disconnect();
}
