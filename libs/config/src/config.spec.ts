import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configVariables, loadNetprovConfig, loadRouterConfig, loadWatchdogConfig, loadWorkerConfig } from './config';
import { ConfigError } from './env';

function problems(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config loaders', () => {
  it('give working defaults for an empty environment', () => {
    const router = loadRouterConfig({});
    expect(router.port).toBe(8080);
    expect(router.bindHost).toBe('127.0.0.1');
    expect(router.redis).toEqual({ mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(router.redisPrefix).toBe('corral');
    expect(router.limits.defaultTimeoutMs).toBe(5000);
    expect(router).toMatchObject({ headersTimeoutMs: 5000, bodyTimeoutMs: 10_000 });
    expect(loadWorkerConfig({}).port).toBe(7070);
    expect(loadWatchdogConfig({}).sampleMs).toBe(100);
    expect(loadNetprovConfig({}).backend).toBe('loopback');
  });

  it('read and type what is set', () => {
    const cfg = loadRouterConfig({ PORT: '9000', CORRAL_QUEUE_TIMEOUT_MS: ' 250 ', REDIS_URL: 'redis://:pw@10.0.0.1:7000/2' });
    expect(cfg).toMatchObject({ port: 9000, queueTimeoutMs: 250, redis: { mode: 'standalone', url: 'redis://:pw@10.0.0.1:7000/2' } });
  });

  it('are frozen, limits included', () => {
    const cfg = loadWorkerConfig({});
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.limits)).toBe(true);
  });

  it('report every bad variable at once, by name', () => {
    const found = problems(() =>
      loadRouterConfig({ PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud', CORRAL_MAX_QUEUE: '-1', CORRAL_REDIS_PREFIX: 'a b' }),
    );
    expect(found).toHaveLength(5);
    expect(found.join('\n')).toMatch(/PORT="eighty" must be a whole number/);
    expect(found.join('\n')).toMatch(/REDIS_URL must use redis: or rediss:/);
    expect(found.join('\n')).toMatch(/LOG_LEVEL="loud" must be one of/);
    expect(found.join('\n')).toMatch(/CORRAL_MAX_QUEUE=-1 must be between/);
    expect(found.join('\n')).toMatch(/CORRAL_REDIS_PREFIX/);
  });

  it('check values against each other', () => {
    expect(problems(() => loadWorkerConfig({ CORRAL_DEFAULT_TIMEOUT_MS: '9000', CORRAL_MAX_TIMEOUT_MS: '1000' }))[0]).toMatch(
      /CORRAL_DEFAULT_TIMEOUT_MS \(9000\) must not exceed CORRAL_MAX_TIMEOUT_MS/,
    );
    expect(problems(() => loadNetprovConfig({ CORRAL_BACKEND: 'wifi' }))[0]).toMatch(/loopback, tap, netns/);
    expect(problems(() => loadRouterConfig({ CORRAL_HEADERS_TIMEOUT_MS: '8000', CORRAL_BODY_TIMEOUT_MS: '4000' }))[0]).toMatch(
      /CORRAL_HEADERS_TIMEOUT_MS \(8000\) must not exceed CORRAL_BODY_TIMEOUT_MS \(4000\)/,
    );
  });

  it('every variable read is documented in docs/configuration.md', () => {
    const readme = readFileSync(join(__dirname, '../../../docs/configuration.md'), 'utf8');
    const names = new Set((['router', 'worker', 'watchdog', 'netprov'] as const).flatMap((service) => configVariables(service)));
    expect(names.size).toBeGreaterThan(15);
    for (const name of names) expect(readme).toContain(`\`${name}\``);
  });

  it('list the variables each service reads (the schema deployment manifests are checked against)', () => {
    expect(configVariables('router')).toEqual(expect.arrayContaining(['PORT', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES', 'CORRAL_QUEUE_TIMEOUT_MS']));
    expect(configVariables('router')).not.toContain('CORRAL_SANDBOX_JAIL');
    expect(configVariables('worker')).toEqual(expect.arrayContaining(['CORRAL_SANDBOX_JAIL', 'REDIS_SENTINEL_PASSWORD']));
    expect(configVariables('netprov')).toContain('CORRAL_BACKEND');
  });
});

describe('where Redis is', () => {
  it('a master through Sentinel: the Sentinels, the master name, both passwords', () => {
    const cfg = loadWatchdogConfig({
      REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,[fd00::3]:26381',
      REDIS_SENTINEL_MASTER: 'corral',
      REDIS_PASSWORD: 'data-pw',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
    });
    expect(cfg.redis).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: 'fd00::3', port: 26381 },
      ],
      masterName: 'corral',
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
    });
  });

  it('a Cluster: its seed nodes and password', () => {
    expect(loadNetprovConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001', REDIS_PASSWORD: 'pw' }).redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      password: 'pw',
    });
  });

  it('REDIS_PASSWORD completes a REDIS_URL without one', () => {
    expect(loadRouterConfig({ REDIS_URL: 'redis://10.0.0.1:6380', REDIS_PASSWORD: 'p@ss' }).redis).toEqual({ mode: 'standalone', url: 'redis://:p%40ss@10.0.0.1:6380' });
  });

  it('report every contradiction and malformed node at once', () => {
    const found = problems(() =>
      loadWorkerConfig({
        REDIS_URL: 'redis://x:1',
        REDIS_SENTINELS: '10.0.0.1',
        REDIS_CLUSTER_NODES: 'a:70000',
      }),
    ).join('\n');
    expect(found).toMatch(/REDIS_SENTINELS must be host:port pairs.*"10.0.0.1"/);
    expect(found).toMatch(/REDIS_CLUSTER_NODES must be host:port pairs.*"a:70000"/);
    expect(found).toMatch(/set one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES, not REDIS_URL and REDIS_SENTINELS and REDIS_CLUSTER_NODES/);
    expect(found).toMatch(/REDIS_SENTINELS needs REDIS_SENTINEL_MASTER/);
    expect(problems(() => loadRouterConfig({ REDIS_SENTINEL_MASTER: 'm', REDIS_SENTINEL_PASSWORD: 'x' })).join('\n')).toMatch(
      /REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS[^]*REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS/,
    );
    expect(problems(() => loadRouterConfig({ REDIS_URL: 'redis://:a@h:1', REDIS_PASSWORD: 'b' }))[0]).toMatch(/keep one/);
  });
});

describe('webhooks and background work (router)', () => {
  it('CORRAL_WEBHOOK_ALLOW: host names, host:port, IP addresses, CIDR ranges', () => {
    const { webhooks } = loadRouterConfig({ CORRAL_WEBHOOK_ALLOW: 'hooks.example.com, 127.0.0.1:9000,[::1]:8080, 10.0.0.0/8,example.org:443' });
    expect(webhooks.allow).toEqual([
      { kind: 'host', host: 'hooks.example.com', port: null },
      { kind: 'cidr', address: '127.0.0.1', prefix: 32, family: 'ipv4', port: 9000 },
      { kind: 'cidr', address: '::1', prefix: 128, family: 'ipv6', port: 8080 },
      { kind: 'cidr', address: '10.0.0.0', prefix: 8, family: 'ipv4', port: null },
      { kind: 'host', host: 'example.org', port: 443 },
    ]);
    expect(loadRouterConfig({}).webhooks).toMatchObject({ allow: [], secret: undefined, attempts: 5 });
  });

  it.each([
    ['CORRAL_WEBHOOK_ALLOW', '10.0.0.0/40', /not a CIDR range/],
    ['CORRAL_WEBHOOK_ALLOW', 'host:99999', /port that is not 1-65535/],
    ['CORRAL_WEBHOOK_ALLOW', 'under_score.example', /not a host name/],
    ['CORRAL_WEBHOOK_SECRET', 'short', /at least 16 characters/],
    ['CORRAL_TEST_PARALLELISM', '0', /between 1 and 1000/],
  ])('%s=%s is refused', (name, value, message) => {
    expect(problems(() => loadRouterConfig({ [name]: value }))[0]).toMatch(message);
  });
});
