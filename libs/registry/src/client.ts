import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisEndpoint } from '@corral/contracts';

/**
 * What every connection shares. No auto-pipelining: nearly every call is alone in its tick, and
 * the batching machinery cost latency and CPU on each (a one-key script, one at a time, on the
 * 2-core dev machine: p50 0.37-0.43 ms and 0.5 ms CPU per call without it, 0.51-0.54 ms and
 * 0.75 ms with it).
 */
const COMMON = { lazyConnect: true, connectionName: 'corral', enableAutoPipelining: false } as const;

/** Give up at once (command-line tools), or reconnect with a short backoff (services). */
function retries(failFast: boolean): Partial<RedisOptions> {
  return failFast
    ? { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, disconnectTimeout: 100 }
    : { maxRetriesPerRequest: 3, retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000) };
}

/**
 * A master that became a replica answers writes with READONLY (a failover happened while this
 * connection stayed up, or the old master came back): reconnect, which asks the Sentinels for
 * the master again, and resend the command there (2).
 */
function reconnectOnReadonly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/**
 * One client of the endpoint: `Redis` for one server or a Sentinel-named master, `Cluster` for a
 * Cluster. Both speak the same commands; the registry's keys share one hash tag, so on a
 * Cluster every command, script, pipeline and transaction goes to the one shard that owns it.
 */
export function createClient(endpoint: RedisEndpoint, failFast: boolean, forQueues = false): Redis | Cluster {
  // BullMQ's connections retry a command until Redis is back (its blocking reads and lock
  // renewals must not fail over a reconnect), so they have no per-command retry limit.
  const perRequest = forQueues ? { ...retries(false), maxRetriesPerRequest: null } : retries(failFast);
  switch (endpoint.mode) {
    case 'standalone':
      return new Redis(endpoint.url, { ...COMMON, ...perRequest });
    case 'sentinel':
      return new Redis({
        ...COMMON,
        ...perRequest,
        sentinels: endpoint.sentinels.map((n) => ({ host: n.host, port: n.port })),
        name: endpoint.masterName,
        role: 'master',
        ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
        ...(endpoint.sentinelPassword === undefined ? {} : { sentinelPassword: endpoint.sentinelPassword }),
        // Hears +switch-master from the Sentinels and reconnects at once, instead of finding out
        // from the old master's socket (a master that hangs rather than dies never closes it).
        failoverDetector: !failFast,
        sentinelRetryStrategy: failFast ? () => null : (attempt: number) => Math.min(100 * attempt, 1000),
        reconnectOnError: reconnectOnReadonly,
      });
    case 'cluster': {
      // Nodes are reconnected by the Cluster (clusterRetryStrategy), not each on its own.
      const perCommand = { ...perRequest };
      delete perCommand.retryStrategy;
      const options: ClusterOptions = {
        ...COMMON,
        enableOfflineQueue: !failFast,
        // Commands go to masters only: a replica's answer could be older than the write before it.
        scaleReads: 'master',
        // SSUBSCRIBE goes to the shard that owns the channel's slot, and follows it when it moves.
        shardedSubscribers: true,
        clusterRetryStrategy: failFast ? () => null : (attempt: number) => Math.min(100 * attempt, 1000),
        redisOptions: { connectionName: COMMON.connectionName, ...perCommand, ...(endpoint.password === undefined ? {} : { password: endpoint.password }) },
        ...(failFast ? {} : { retryDelayOnFailover: 200, retryDelayOnClusterDown: 200, retryDelayOnTryAgain: 100 }),
      };
      return new Cluster(
        endpoint.nodes.map((n) => ({ host: n.host, port: n.port })),
        options,
      );
    }
  }
}
