import { randomLoopbackBase, randomPrefix, startRedisServer, type RedisServer } from '@corral/devkit';
import type { Registry } from '@corral/registry';
import { runCli } from '../src/lib/cli';
import { connectRegistry } from '../src/lib/registry';

let redis: RedisServer;
let registry: Registry;
let env: Record<string, string>;

async function netprov(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { env, out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  const prefix = randomPrefix('netprov');
  env = { REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: prefix, CORRAL_HOST_ID: 'np1', CORRAL_LOOPBACK_BASE: randomLoopbackBase() };
  registry = await connectRegistry({ redis: { mode: 'standalone', url: redis.url }, redisPrefix: prefix });
});
afterEach(async () => {
  await registry.close();
});

describe('netprov command line (loopback backend, real Redis)', () => {
  it('up publishes N slots, idempotently, and reconciles to a new N', async () => {
    expect(await netprov('up', '--count', '4', '--base', '127.77.0.1')).toMatchObject({ code: 0, out: expect.stringContaining('added 4, removed 0') });
    expect((await registry.slots.list('np1')).map((s) => s.ip)).toEqual(['127.77.0.1', '127.77.0.2', '127.77.0.3', '127.77.0.4']);
    expect((await netprov('up', '--count', '4', '--base', '127.77.0.1')).out).toContain('added 0, removed 0, changed 0');
    expect((await netprov('up', '--count', '2', '--base', '127.77.0.1')).out).toContain('added 0, removed 2');
    expect(await registry.slots.list('np1')).toHaveLength(2);
  });

  it('ls prints a table and JSON', async () => {
    await netprov('up', '--count', '2');
    const human = await netprov('ls');
    expect(human.code).toBe(0);
    expect(human.out.split('\n')[0]).toMatch(/^SLOT\s+ADDRESS\s+PORT\s+STATE\s+PID$/);
    expect(human.out).toContain('np1:1');
    const json = JSON.parse((await netprov('ls', '--json')).out) as { id: string; state: string }[];
    expect(json.map((s) => [s.id, s.state])).toEqual([['np1:0', 'dead'], ['np1:1', 'dead']]);
  });

  it('down removes exactly this host', async () => {
    await netprov('up', '--count', '3');
    await netprov('up', '--count', '2', '--host', 'other');
    expect((await netprov('down')).out).toContain('removed 3');
    expect(await registry.slots.list('np1')).toEqual([]);
    expect(await registry.slots.list('other')).toHaveLength(2);
    expect((await netprov('ls')).out).toContain('has no slots');
  });

  it('--dry-run changes nothing', async () => {
    const dry = await netprov('up', '--count', '3', '--base', '127.77.0.1', '--dry-run');
    expect(dry).toMatchObject({ code: 0, out: expect.stringContaining('127.77.0.1 … 127.77.0.3') });
    expect(await registry.slots.list('np1')).toEqual([]);
  });

  it.each([
    [['up', '--count', '0'], /at least 1/],
    [['up', '--count', 'many'], /whole number/],
    [['up', '--count', '2', '--base', '127.1'], /not an IPv4 address/],
    [['up', '--count', '2', '--base', '192.0.2.1'], /outside 127/],
    [['up', '--count', '99999999'], /does not fit/],
    [['up'], /up needs --count/],
    [['sideways'], /unknown command/],
    [['up', '--count', '2', '--colour'], /Unknown option/],
    [['up', '--count', '2', '--backend', 'wifi'], /CORRAL_BACKEND="wifi" must be one of/],
    [['up', '--count', '2', '--host', 'bad host'], /CORRAL_HOST_ID/],
    [[], /no command/],
  ])('rejects %j with a clear message, exit 2 and no change', async (args, message) => {
    await netprov('up', '--count', '1');
    const before = await registry.slots.list();
    const result = await netprov(...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(await registry.slots.list()).toEqual(before);
  });

  it('says clearly when Redis is unreachable (exit 1)', async () => {
    env = { ...env, REDIS_URL: 'redis://127.0.0.1:1' };
    const result = await netprov('ls');
    expect(result).toMatchObject({ code: 1, err: expect.stringMatching(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/) });
  });

  it('prints help', async () => {
    expect(await netprov('--help')).toMatchObject({ code: 0, out: expect.stringContaining('usage: netprov') });
  });
});
