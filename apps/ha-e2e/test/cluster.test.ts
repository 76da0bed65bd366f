import { randomLoopbackBase, redisCli, startRedisCluster, startStack, type RedisCluster, type Stack } from '@corral/devkit';
import { CorralClient } from '@corral/client';

/**
 * What the e2e suite run here stands on: a stack on a three-master Cluster keeps every key of
 * its prefix on the one shard that owns the prefix's hash tag, and serves executions.
 */
let cluster: RedisCluster;
let stack: Stack;

beforeAll(async () => {
  cluster = await startRedisCluster();
  stack = await startStack({ slots: 2, loopbackBase: randomLoopbackBase(), redisEnv: cluster.env, output: 'ignore', env: { LOG_LEVEL: 'warn' } });
}, 90_000);
afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
});

it('the suites here run on a Cluster (CORRAL_TEST_REDIS=cluster)', () => {
  expect(process.env['CORRAL_TEST_REDIS']).toBe('cluster');
});

it('every key of the prefix lives on the shard of its hash tag; executions run', async () => {
  const result = await new CorralClient({ baseUrl: stack.url }).execute({ code: 'console.log(6 * 7)' });
  expect(result).toMatchObject({ status: 'ok', stdout: '42\n' });
  const owner = await cluster.ownerOf(stack.prefix);
  for (const node of cluster.nodes) {
    const keys = (await redisCli(node.port, cluster.password, ['--scan', '--pattern', `{${stack.prefix}}:*`])).split('\n').filter(Boolean);
    if (node === owner) expect(keys.length).toBeGreaterThan(5);
    else expect(keys).toEqual([]);
  }
});
