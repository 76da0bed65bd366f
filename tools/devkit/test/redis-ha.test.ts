import { existsSync } from 'node:fs';
import { listensOn } from '../src/leftovers';
import { redisCli, startRedisCluster, startSentinelSet } from '../src/redis-ha';

describe('private Sentinel set', () => {
  it('a master, a replica and three Sentinels that fail over when the master is killed, and leave nothing', async () => {
    const set = await startSentinelSet();
    const dir = set.master.process.spawnargs[set.master.process.spawnargs.indexOf('--dir') + 1]!;
    try {
      expect(set.env).toEqual({
        REDIS_SENTINELS: set.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
        REDIS_SENTINEL_MASTER: 'corral',
        REDIS_PASSWORD: set.password,
        REDIS_SENTINEL_PASSWORD: set.sentinelPassword,
      });
      expect(await set.currentMasterPort()).toBe(set.master.port);
      await expect(redisCli(set.sentinels[0]!.port, undefined, ['ping'])).resolves.toMatch(/NOAUTH/);
      await set.master.kill();
      const promoted = Date.now();
      for (let port = await set.currentMasterPort(); port !== set.replica.port; port = await set.currentMasterPort()) {
        if (Date.now() - promoted > 15_000) throw new Error('no failover within 15 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await redisCli(set.replica.port, set.password, ['role'])).toMatch(/^master/);
    } finally {
      await set.stop();
    }
    expect(existsSync(dir)).toBe(false);
    for (const n of set.nodes) expect(listensOn(n.port)).toBe(false);
  }, 40_000);
});

describe('private Redis Cluster', () => {
  it('three masters sharing the 16384 slots; one shard owns a hash tag', async () => {
    const cluster = await startRedisCluster();
    try {
      const info = await redisCli(cluster.nodes[0]!.port, cluster.password, ['cluster', 'info']);
      expect(info).toMatch(/cluster_state:ok/);
      expect(info).toMatch(/cluster_slots_assigned:16384/);
      expect(info).toMatch(/cluster_known_nodes:3/);
      const owner = await cluster.ownerOf('corral');
      expect(await redisCli(owner.port, cluster.password, ['set', '{corral}:x', '1'])).toBe('OK');
      await cluster.restart();
      expect(await redisCli(owner.port, cluster.password, ['get', '{corral}:x'])).toBe('');
    } finally {
      await cluster.stop();
    }
    for (const n of cluster.nodes) expect(listensOn(n.port)).toBe(false);
  }, 60_000);
});
