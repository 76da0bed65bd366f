import { registryInternals, type Registry } from './registry';

/**
 * Faults a test brings about on purpose, each one named: what a lost heartbeat, an expired
 * lease or a Redis that lost its data look like to the services. For tests only (a separate
 * entry point, `@corral/registry/testing`); no service imports it.
 */
export interface RegistryTesting {
  /** The host's heartbeat is gone, as when its worker stopped beating. */
  dropHeartbeat(host: string): Promise<void>;
  /** The registry's epoch is gone, as after Redis restarted without its data (with `dropHeartbeat`). */
  dropEpoch(): Promise<void>;
  /** Every key of this registry's prefix is gone: Redis lost its data. */
  loseData(): Promise<void>;
  /** The slot's lease ran out `agoMs` ago (a moment ago by default). */
  expireLease(slotId: string, agoMs?: number): Promise<void>;
  /** The watchdog's entry of the slot's job is gone, as a lost update would leave it. */
  forgetJob(slotId: string): Promise<void>;
  /** Removes `count` entries of the slot from the idle list (0: all), as a lost update would. */
  unlistIdle(slotId: string, count?: number): Promise<void>;
  /** Appends the slot to the idle list once more, as a doubled update would. */
  listIdle(slotId: string): Promise<void>;
}

/** The test hooks of one connected registry. */
export function registryTesting(registry: Registry): RegistryTesting {
  const { connection, keys } = registryInternals(registry);
  return {
    async dropHeartbeat(host) {
      await connection.run((redis) => redis.del(keys.heartbeat(host)));
    },
    async dropEpoch() {
      await connection.run((redis) => redis.del(keys.epoch));
    },
    async loseData() {
      // SCAN sees one server's keys: on a Cluster, visit every master.
      for (const node of connection.masters()) {
        await connection.run(async () => {
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', keys.prefixPattern, 'COUNT', 500);
            if (found.length > 0) await node.del(...found);
            cursor = next;
          } while (cursor !== '0');
        });
      }
    },
    async expireLease(slotId, agoMs = 1) {
      await connection.run((redis) => redis.zadd(keys.leases, Date.now() - agoMs, slotId));
    },
    async forgetJob(slotId) {
      await connection.run((redis) => redis.del(keys.job(slotId)));
    },
    async unlistIdle(slotId, count = 0) {
      await connection.run((redis) => redis.lrem(keys.idle, count, slotId));
    },
    async listIdle(slotId) {
      await connection.run((redis) => redis.rpush(keys.idle, slotId));
    },
  };
}
