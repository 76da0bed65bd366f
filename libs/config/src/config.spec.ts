import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNetprovConfig, loadRouterConfig, loadWatchdogConfig, loadWorkerConfig } from './config';
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
    expect(router.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(router.redisPrefix).toBe('corral');
    expect(router.limits.defaultTimeoutMs).toBe(5000);
    expect(router).toMatchObject({ headersTimeoutMs: 5000, bodyTimeoutMs: 10_000 });
    expect(loadWorkerConfig({}).port).toBe(7070);
    expect(loadWatchdogConfig({}).sampleMs).toBe(100);
    expect(loadNetprovConfig({}).backend).toBe('loopback');
  });

  it('read and type what is set', () => {
    const cfg = loadRouterConfig({ PORT: '9000', CORRAL_QUEUE_TIMEOUT_MS: ' 250 ', REDIS_URL: 'redis://:pw@10.0.0.1:7000/2' });
    expect(cfg).toMatchObject({ port: 9000, queueTimeoutMs: 250, redisUrl: 'redis://:pw@10.0.0.1:7000/2' });
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
    const source = readFileSync(join(__dirname, 'config.ts'), 'utf8');
    const names = [...source.matchAll(/'((?:CORRAL_|REDIS_|LOG_|PORT|HOST)[A-Z_]*)'/g)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(readme).toContain(`\`${name}\``);
  });
});
