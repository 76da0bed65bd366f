import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CorralClient } from '@corral/client';
import { randomPrefix, startRedisServer, startService, waitFor, type Stack } from '@corral/devkit';
import { corral, startQuietStack } from './helpers';

/**
 * Packages: the default set (lodash, date-fns, zod among them) with require and import, what
 * GET /v1/runtimes says of it, another set an operator installed (CORRAL_PACKAGES_DIR), and a set
 * the worker refuses (a package that needs an install script).
 */
function packageSet(packages: Record<string, Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'corral-packages-'));
  chmodSync(dir, 0o755);
  for (const [name, files] of Object.entries(packages)) {
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, file), content);
    }
  }
  return dir;
}

describe('the default package set', () => {
  let stack: Stack;
  let client: CorralClient;
  beforeAll(async () => {
    stack = await startQuietStack(2);
    client = corral(stack.url);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('lodash, date-fns and zod by require', async () => {
    const r = await client.execute({
      code: 'const _ = require("lodash"); const { format } = require("date-fns"); const { z } = require("zod"); console.log(_.chunk([1, 2, 3], 2), format(new Date(0), "yyyy"), z.number().parse(7))',
      timeoutMs: 20_000,
    });
    expect(r).toMatchObject({ status: 'ok', stdout: '[ [ 1, 2 ], [ 3 ] ] 1970 7\n' });
  });

  it('lodash, date-fns and zod by import, in an ES module and in TypeScript', async () => {
    const esm = await client.execute({
      code: 'import _ from "lodash"; import { format } from "date-fns/format"; import { z } from "zod"; console.log(_.sum([1, 2]), format(new Date(0), "yyyy"), z.string().parse("ok"))',
      timeoutMs: 20_000,
    });
    expect(esm).toMatchObject({ status: 'ok', stdout: '3 1970 ok\n' });
    const typed = await client.execute({ language: 'typescript', code: 'import { z } from "zod";\nconst n: number = z.number().parse(2);\nconsole.log(n * 21)', timeoutMs: 20_000 });
    expect(typed).toMatchObject({ status: 'ok', stdout: '42\n' });
  });

  it('resolves them where the sandbox sees them, never where the host keeps them', async () => {
    const r = await client.execute({ code: 'console.log(require.resolve("lodash"), require("fs").realpathSync(require.resolve("zod")))' });
    expect(r.stdout).toMatch(/^\/node_modules\/lodash\/lodash\.js \/node_modules\/zod\/\S+\n$/);
  });

  it('GET /v1/runtimes: the languages with their aliases and version, and the packages with theirs', async () => {
    const res = await fetch(`${stack.url}/v1/runtimes`);
    const runtimes = (await res.json()) as { runtime: { version: string }; languages: { language: string; aliases: string[]; version: string }[]; packages: { name: string; version: string }[] };
    expect(runtimes.runtime.version).toMatch(/^v24\./);
    expect(runtimes.languages.map((l) => l.language)).toEqual(['javascript', 'typescript']);
    expect(runtimes.languages[0]!.aliases).toEqual(expect.arrayContaining(['js', 'node']));
    expect(runtimes.languages[1]!.aliases).toEqual(expect.arrayContaining(['ts']));
    const names = runtimes.packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['lodash', 'date-fns', 'zod']));
    for (const p of runtimes.packages) expect(p.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('another package set (CORRAL_PACKAGES_DIR)', () => {
  let dir: string;
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('its packages by require and import, and nothing of the default set', async () => {
    dir = packageSet({
      'corral-probe': { 'package.json': '{ "name": "corral-probe", "version": "1.2.3", "main": "index.js" }', 'index.js': 'module.exports = { probe: () => "probed" };' },
      'corral-esm-probe': { 'package.json': '{ "name": "corral-esm-probe", "version": "0.0.1", "type": "module", "exports": "./index.js" }', 'index.js': 'export const esm = "esm probed";' },
    });
    stack = await startQuietStack(1, { CORRAL_PACKAGES_DIR: dir });
    const client = corral(stack.url);
    expect(await client.execute({ code: 'console.log(require("corral-probe").probe())' })).toMatchObject({ status: 'ok', stdout: 'probed\n' });
    expect(await client.execute({ code: 'import { esm } from "corral-esm-probe"; console.log(esm)' })).toMatchObject({ status: 'ok', stdout: 'esm probed\n' });
    const lodash = await client.execute({ code: 'require("lodash")' });
    expect(lodash.status).toBe('error');
    expect(lodash.stderr).toContain("Cannot find module 'lodash'");
    const runtimes = (await (await fetch(`${stack.url}/v1/runtimes`)).json()) as { packages: { name: string; version: string }[] };
    expect(runtimes.packages).toEqual([
      { name: 'corral-esm-probe', version: '0.0.1' },
      { name: 'corral-probe', version: '1.2.3' },
    ]);
  }, 60_000);

  it('a set with a package that needs an install script: the worker refuses to start, naming it', async () => {
    const bad = packageSet({ 'needs-build': { 'package.json': '{ "name": "needs-build", "version": "1.0.0", "scripts": { "postinstall": "node-gyp rebuild" } }' } });
    const redis = await startRedisServer();
    try {
      let log = '';
      const worker = startService(
        'worker',
        [],
        { ...process.env, REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: randomPrefix('pkg'), CORRAL_HOST_ID: randomPrefix('pkg'), CORRAL_PACKAGES_DIR: bad },
        (line) => (log += `${line}\n`),
      );
      await waitFor('the worker to refuse', () => worker.child.exitCode !== null, { timeoutMs: 30_000 });
      expect(worker.child.exitCode).toBe(1);
      expect(log).toMatch(/needs-build: it has install scripts \(postinstall\)/);
    } finally {
      await redis.stop();
      rmSync(bad, { recursive: true, force: true });
    }
  }, 40_000);
});
