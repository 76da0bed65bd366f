import Redis from 'ioredis';
import { RegistryUnavailableError, toRegistryError } from './errors';

export interface RegistryOptions {
  url: string;
  prefix: string;
  /** Give up at the first connection failure (command-line tools) instead of retrying (services). */
  failFast?: boolean;
  /** How long `connect` waits for Redis before it fails. */
  connectTimeoutMs?: number;
  /** Connection errors after start-up (Redis restarts); services log them. */
  onError?: (err: Error) => void;
}

/** A Redis URL without its password, fit for a log line or an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

function client(options: RegistryOptions): Redis {
  return new Redis(options.url, {
    lazyConnect: true,
    connectionName: 'corral',
    // No auto-pipelining: nearly every call is alone in its tick, and the batching machinery
    // cost latency and CPU on each (a one-key script, one at a time, on the 2-core dev machine:
    // p50 0.37-0.43 ms and 0.5 ms CPU per call without it, 0.51-0.54 ms and 0.75 ms with it).
    enableAutoPipelining: false,
    ...(options.failFast
      ? { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 100 }
      : { maxRetriesPerRequest: 3, retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000) }),
  });
}

/**
 * The registry's connections to Redis: one for commands and scripts, one more per subscribed
 * channel. Every command goes through `run`, the one place where the driver's connection
 * errors become RegistryUnavailableError.
 */
export class Connection {
  private readonly subscribers: Redis[] = [];

  private constructor(
    private readonly redis: Redis,
    readonly options: RegistryOptions,
  ) {}

  /** Connects and waits until Redis answers. @throws RegistryUnavailableError naming the (redacted) URL and the cause */
  static async open(options: RegistryOptions): Promise<Connection> {
    const redis = client(options);
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
      throw new RegistryUnavailableError(`Cannot reach Redis at ${redactUrl(options.url)}: ${cause.message}`, { cause });
    } finally {
      redis.off('error', onError);
    }
    redis.on('error', (err: Error) => options.onError?.(err));
    return new Connection(redis, options);
  }

  /** Runs one operation on the command connection. @throws RegistryUnavailableError when Redis cannot be reached */
  async run<T>(operation: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await operation(this.redis);
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
    const sub = client(this.options);
    sub.on('error', (err: Error) => this.options.onError?.(err));
    this.subscribers.push(sub);
    sub.on('message', (_channel: string, message: string) => onMessage(message));
    try {
      await sub.connect();
      await sub.subscribe(channel);
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
async function end(redis: Redis): Promise<void> {
  await redis.quit().catch(() => undefined);
  if (redis.status !== 'end') redis.disconnect();
}
