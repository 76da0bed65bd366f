import { existsSync } from 'node:fs';
import { allIdle, expectContained, expectHealthy, pool, program, run, sleep, startHostile, type Hostile } from './helpers';

/**
 * Persistence: what one execution plants must not be visible to the next on the same slot.
 * One slot, so that every execution lands on it; each plant/check pair runs more than once.
 */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile({ slots: 1 });
});
afterAll(async () => {
  await h?.stop();
});

/** Runs `plant`, then `check` on the same slot, ROUNDS times; `check` prints ESCAPED for anything left. */
async function plantThenCheck(plant: string, check: string, rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    const planted = await run(h, { code: plant, timeoutMs: 3000 });
    expect(planted.status).toBe(200);
    const checked = await run(h, program(check));
    expectContained(checked, ['ok']);
    expect(checked.body.stdout).not.toContain('LEFTOVER');
  }
}

describe('nothing persists from one execution to the next on the same slot', () => {
  it('globals, process.env and the process itself (a new sandbox process every time)', async () => {
    const pids = new Set<number | null>();
    for (let i = 0; i < 3; i += 1) {
      await allIdle(h);
      pids.add((await pool(h.url)).slots[0]!.pid);
      await run(h, "globalThis.__corral_leak = 'LEFTOVER'; console.info = () => 'LEFTOVER'; process.env.CORRAL_LEAK = 'LEFTOVER'; process.title = 'LEFTOVER';");
      await allIdle(h);
      pids.add((await pool(h.url)).slots[0]!.pid);
      const checked = await run(h, program(`
        escapedIf('a global survived', typeof globalThis.__corral_leak !== 'undefined');
        escapedIf('console.info was replaced', String(console.info).includes('LEFTOVER'));
        escapedIf('process.env survived', Object.keys(process.env).length > 0, Object.keys(process.env).join());
      `));
      expectContained(checked, ['ok'], 3);
    }
    expect(pids.size).toBe(6);
  });

  it('files written to /tmp or the working folder are not there for the next execution', async () => {
    const tmpFile = `/tmp/${h.state.runId}-persist`;
    await plantThenCheck(
      `const fs = require('fs'); for (const p of [${JSON.stringify(tmpFile)}, 'persist.txt', '/dev/shm/${h.state.runId}']) try { fs.writeFileSync(p, 'LEFTOVER'); console.log('wrote ' + p); } catch (e) { console.log(p + ': ' + e.code); }`,
      `const fs = require('fs'); for (const p of [${JSON.stringify(tmpFile)}, 'persist.txt', '/dev/shm/${h.state.runId}']) { let t = ''; try { t = fs.readFileSync(p, 'utf8'); } catch (e) { console.log('contained: ' + p + ' (' + e.code + ')'); } escapedIf('read back ' + p, t.includes('LEFTOVER')); }`,
    );
    expect(existsSync(tmpFile)).toBe(false);
    expect(existsSync(`/dev/shm/${h.state.runId}`)).toBe(false);
  });

  it('prototype pollution of Object, Array, Function, String, Promise and JSON is gone', async () => {
    await plantThenCheck(
      `Object.prototype.polluted = 'LEFTOVER'; Array.prototype.push = function () { return 'LEFTOVER'; }; Function.prototype.call = function () { return 'LEFTOVER'; };
       String.prototype.trim = () => 'LEFTOVER'; Promise.prototype.then = function () { return 'LEFTOVER'; }; JSON.parse = () => 'LEFTOVER'; Error.prepareStackTrace = () => 'LEFTOVER'; console.log('planted');`,
      `escapedIf('Object.prototype.polluted', ({}).polluted !== undefined);
       escapedIf('Array.prototype.push', [].push(1) !== 1);
       escapedIf('Function.prototype.call', ((x) => x).call(null, 2) !== 2);
       escapedIf('String.prototype.trim', ' a '.trim() !== 'a');
       escapedIf('Promise.prototype.then', !(Promise.resolve().then(() => 1) instanceof Promise));
       escapedIf('JSON.parse', JSON.parse('3') !== 3);
       escapedIf('Error.prepareStackTrace', typeof Error.prepareStackTrace === 'function' && String(new Error('x').stack).includes('LEFTOVER'));`,
    );
  });

  it('require.cache, Module._load, Module.prototype.require and the fs module are unchanged', async () => {
    await plantThenCheck(
      `const Module = require('module'); const fs = require('fs');
       fs.readFileSync = () => 'LEFTOVER'; Module.prototype.require = function () { return 'LEFTOVER'; }; Module._load = () => 'LEFTOVER';
       require.cache['/corral/evil.js'] = { exports: 'LEFTOVER', loaded: true }; Module._extensions['.js'] = () => 'LEFTOVER'; console.log('planted');`,
      `const Module = require('module');
       escapedIf('fs.readFileSync replaced', require('fs').readFileSync.name !== 'readFileSync');
       escapedIf('Module.prototype.require replaced', String(Module.prototype.require).includes('LEFTOVER'));
       escapedIf('Module._load replaced', String(Module._load).includes('LEFTOVER'));
       escapedIf('Module._extensions replaced', String(Module._extensions['.js']).includes('LEFTOVER'));
       escapedIf('require.cache entry', Object.keys(require.cache).some((k) => k.includes('evil')));`,
    );
  });

  it("process.on('exit'/'beforeExit') handlers and unref'd timers of one execution never run in the next", async () => {
    await plantThenCheck(
      `process.on('exit', () => console.log('exit handler of the planting run')); process.on('beforeExit', () => console.log('beforeExit of the planting run'));
       setTimeout(() => console.log('LEFTOVER timer'), 300).unref(); setInterval(() => console.log('LEFTOVER interval'), 100).unref();
       process.nextTick(() => console.log('planted'));`,
      `setTimeout(() => console.log('waited 600 ms'), 600);`,
    );
  });

  it('an exit handler that never returns is stopped, and the next execution is clean', async () => {
    const a = await run(h, { code: "process.on('exit', () => { for (;;); }); globalThis.__corral_leak = 'LEFTOVER';", cpuMs: 800, timeoutMs: 3000 });
    expectContained(a, ['cpu_limit', 'timeout']);
    await sleep(50);
    const next = await run(h, 'console.log(typeof globalThis.__corral_leak)');
    expect(next.body).toMatchObject({ status: 'ok', stdout: 'undefined\n' });
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
