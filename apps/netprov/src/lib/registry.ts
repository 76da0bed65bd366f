import type { NetprovConfig } from '@corral/config';
import type { Registry } from '@corral/registry';

/**
 * Connects to the inventory in Redis, failing fast: netprov is a command, not a service.
 * ioredis is loaded here, on first use, so kernel runs with `--no-redis` skip its start-up
 * (about 70 ms of a one-second `up`).
 */
export function connectRegistry(config: Pick<NetprovConfig, 'redis' | 'redisPrefix'>): Promise<Registry> {
  const registry = require('@corral/registry') as typeof import('@corral/registry');
  return registry.Registry.connect({ redis: config.redis, prefix: config.redisPrefix, failFast: true, connectTimeoutMs: 5000 });
}
