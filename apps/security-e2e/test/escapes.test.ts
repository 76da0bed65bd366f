import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expectContained, expectHealthy, program, REPO, run, startHostile, type Hostile } from './helpers';

/** Escapes from node:vm and the runtime's internals: bindings, addons, inspector, WASI, the module loader. */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.stop();
});

/** A real native addon on this host, so that dlopen is refused for being an addon, not for a missing file. */
function someAddon(): string {
  const dir = join(REPO, 'node_modules', '@swc', 'core-linux-x64-gnu');
  const found = existsSync(dir) ? readdirSync(dir).find((name) => name.endsWith('.node')) : undefined;
  return found ? join(dir, found) : join(REPO, 'no-such-addon.node');
}

describe('escapes from node:vm and the runtime internals', () => {
  it('vm: this.constructor.constructor("return process")() reaches process, but not child_process or fs', async () => {
    const a = await run(h, program(`
      const p = require('node:vm').runInNewContext("this.constructor.constructor('return process')()");
      console.log('outer process reached: ' + (p === process));
      const req = (id) => p.mainModule.require(id);
      attempt('child_process.execSync("id") through the vm escape', () => req('child_process').execSync('id'));
      attempt('fs.readFileSync("/etc/passwd") through the vm escape', () => req('fs').readFileSync('/etc/passwd'));
      attempt('process.binding("spawn_sync") through the vm escape', () => p.binding('spawn_sync'));
      attempt('process.dlopen through the vm escape', () => p.dlopen({ exports: {} }, '/x.node'));
    `));
    expectContained(a, ['ok'], 4);
  });

  it('process.binding: spawn_sync, fs, process_wrap, tcp_wrap, pipe_wrap, natives', async () => {
    const a = await run(h, program(`
      attempt('spawn_sync.spawn(/bin/sh)', () => process.binding('spawn_sync').spawn({ file: '/bin/sh', args: ['sh', '-c', 'id'], stdio: [{ type: 'pipe', readable: true }, { type: 'pipe', writable: true }, { type: 'pipe', writable: true }] }));
      for (const name of ['fs', 'process_wrap', 'tcp_wrap', 'pipe_wrap', 'natives', 'os']) attempt('process.binding(' + name + ')', () => process.binding(name));
    `));
    expectContained(a, ['ok'], 7);
  });

  it('process._linkedBinding and process.dlopen of a real .node file', async () => {
    const a = await run(h, program(`
      attempt('process._linkedBinding("corral")', () => process._linkedBinding('corral'));
      attempt('process.dlopen(${JSON.stringify(someAddon())})', () => process.dlopen({ exports: {} }, ${JSON.stringify(someAddon())}));
      attempt('require() of a .node file', () => require(${JSON.stringify(someAddon())}));
    `));
    expectContained(a, ['ok'], 3);
  });

  it('inspector: open(), Session.connect(), url()', async () => {
    const a = await run(h, program(`
      const inspector = require('node:inspector');
      attempt('inspector.open(0)', () => inspector.open(0, '127.0.0.1'));
      attempt('new inspector.Session().connect()', () => new inspector.Session().connect());
      escapedIf('an inspector url', Boolean(inspector.url()), inspector.url());
    `));
    expectContained(a, ['ok'], 3);
  });

  it('WASI: new (require("wasi").WASI)() with a preopened root', async () => {
    const a = await run(h, program(`
      attempt('new WASI({ preopens: { "/": "/" } })', () => new (require('node:wasi').WASI)({ version: 'preview1', preopens: { '/': '/' } }));
      attempt('new WASI()', () => new (require('node:wasi').WASI)({ version: 'preview1' }));
    `));
    expectContained(a, ['ok'], 2);
  });

  it("module tricks: Module._load('child_process'), Module.createRequire('/etc/'), createRequire(the repo)", async () => {
    const a = await run(h, program(`
      const Module = require('node:module');
      attempt("Module._load('child_process').execSync('id')", () => Module._load('child_process', null, false).execSync('id'));
      attempt("Module._load('worker_threads').Worker", () => new (Module._load('worker_threads', null, false).Worker)('1', { eval: true }));
      attempt("createRequire('/etc/')('./passwd')", () => Module.createRequire('/etc/')('./passwd'));
      attempt('createRequire(<repo>)("./package.json")', () => Module.createRequire(${JSON.stringify(`${REPO}/`)})('./package.json'));
      attempt('require(<worker main.js>)', () => require(${JSON.stringify(join(REPO, 'apps/worker/dist/main.js'))}));
      attempt('Module._findPath outside', () => { const p = Module._findPath('/etc/passwd', [], true); if (!p) throw Object.assign(new Error('not found'), { code: 'NOT_FOUND' }); return p; });
    `));
    expectContained(a, ['ok'], 6);
  });

  it('require.resolve outside the allow-list tells nothing about which files exist', async () => {
    const a = await run(h, program(`
      const outcome = (p) => { try { require.resolve(p); return 'resolved'; } catch (e) { return e.code; } };
      for (const target of ['/etc/shadow', ${JSON.stringify(join(REPO, 'apps/worker/dist/main.js'))}, ${JSON.stringify(join(REPO, 'package.json'))}]) {
        const seen = outcome(target);
        const missing = outcome(target + '.corral-missing');
        escapedIf('existence of ' + target + ' through require.resolve', seen !== missing, seen + ' vs ' + missing);
      }
    `));
    expectContained(a, ['ok'], 3);
  });

  it('import(): a file outside, node:child_process, module.registerHooks to load one', async () => {
    const a = await run(h, program(`
      (async () => {
        await attemptAsync('import("/etc/passwd")', () => import('/etc/passwd'));
        await attemptAsync('import(<worker main.js>)', () => import(${JSON.stringify(`file://${join(REPO, 'apps/worker/dist/main.js')}`)}));
        await attemptAsync('(await import("node:child_process")).execSync', async () => (await import('node:child_process')).execSync('id'));
        await attemptAsync('registerHooks + require(/etc/hostname)', async () => { require('node:module').registerHooks({ load: (url, ctx, next) => next(url, ctx) }); return require('/etc/hostname'); });
      })();
    `));
    expectContained(a, ['ok'], 4);
  });

  it('process.execve, process.loadEnvFile, fs.openAsBlob and node:sqlite extensions', async () => {
    const a = await run(h, program(`
      (async () => {
        attempt("process.execve('/bin/sh')", () => process.execve('/bin/sh', ['sh', '-c', 'echo ESCAPED: execve ran a shell']));
        attempt("process.loadEnvFile('/etc/hostname')", () => process.loadEnvFile('/etc/hostname'));
        await attemptAsync("fs.openAsBlob('/etc/passwd')", async () => (await require('node:fs').openAsBlob('/etc/passwd')).text());
        attempt('a SQLite extension (native code)', () => new (require('node:sqlite').DatabaseSync)(':memory:', { allowExtension: true }).loadExtension('/corral-missing-extension.so'));
      })();
    `));
    expectContained(a, ['ok'], 4);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
