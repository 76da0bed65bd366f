import { expectContained, expectHealthy, program, REPO, run, startHostile, type Hostile } from './helpers';

/**
 * Programs of several files, packages and a working directory, hostile: the package set cannot
 * be written, nothing outside the job's tree and the package set can be read, and no job reaches
 * another job's working directory, running beside it or before it.
 */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile({ slots: 2 });
});
afterAll(async () => {
  try {
    if (h) await expectHealthy(h);
  } finally {
    await h?.stop();
  }
});

describe('the working directory and the package set, hostile', () => {
  it('the package set cannot be written: not its files, not its folders, not through a relative path', async () => {
    const a = await run(h, program(`
      const fs = require('node:fs');
      attempt('writeFileSync(/node_modules/lodash/lodash.js)', () => fs.writeFileSync('/node_modules/lodash/lodash.js', 'module.exports = "owned"'));
      attempt('appendFileSync(/node_modules/zod/package.json)', () => fs.appendFileSync('/node_modules/zod/package.json', ' '));
      attempt('mkdirSync(/node_modules/evil)', () => fs.mkdirSync('/node_modules/evil'));
      attempt('writeFileSync(../node_modules/evil.js)', () => fs.writeFileSync('../node_modules/evil.js', 'x'));
      attempt('rmSync(/node_modules/lodash)', () => fs.rmSync('/node_modules/lodash', { recursive: true }));
      attempt('renameSync(/node_modules/lodash)', () => fs.renameSync('/node_modules/lodash', '/work/lodash'));
      console.log(require('lodash').chunk([1, 2], 1).length === 2 ? 'contained: lodash is whole' : 'ESCAPED: lodash changed');
    `));
    expectContained(a, ['ok'], 7);
  });

  it('nothing outside its tree and the package set can be read: the host, the runtime, the bootstrap folder, the repository', async () => {
    const a = await run(h, program(`
      const fs = require('node:fs');
      for (const p of ['/etc/passwd', '/sandbox/node', '/sandbox', '/proc/self/mountinfo', '/proc/1/root', '/run', '/tmp', ${JSON.stringify(REPO)}, '/work/../etc/hostname', '/node_modules/../etc'])
        attempt('read ' + p, () => (fs.statSync(p).isDirectory() ? fs.readdirSync(p) : fs.readFileSync(p)));
      attempt('require("/etc/passwd")', () => require('/etc/passwd'));
      attempt('import of a host file', () => { throw Object.assign(new Error(), { code: typeof require('node:module').createRequire('/etc/')('passwd') }); });
    `));
    expectContained(a, ['ok'], 12);
  });

  it("no job reaches another job's working directory, beside it or before it", async () => {
    const secret = `corral-workdir-${h.state.runId}`;
    // One job writes a file and stays; the other slot's job looks for it everywhere it may look.
    const holder = run(h, { code: `require('fs').writeFileSync('secret.txt', ${JSON.stringify(secret)}); setTimeout(() => {}, 1500)`, timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const a = await run(h, { code: program(`
      const fs = require('node:fs');
      // Built here, so that this program's own source does not hold it.
      const secret = ['corral-workdir', ${JSON.stringify(h.state.runId)}].join('-');
      const found = [];
      const look = (dir, depth) => { if (depth > 4) return; let names = []; try { names = fs.readdirSync(dir); } catch { return; }
        for (const n of names) { const p = (dir === '/' ? '' : dir) + '/' + n; try { if (fs.statSync(p).isDirectory()) look(p, depth + 1); else if (fs.readFileSync(p, 'utf8').includes(secret)) found.push(p); } catch {} } };
      // The package set is read-only (the first test); /proc is this pid namespace's alone, so
      // its processes' roots and working directories are where another job's files could show.
      for (const root of ['/work', '/tmp', '/run']) look(root, 0);
      let pids = []; try { pids = fs.readdirSync('/proc'); } catch {}
      for (const pid of pids.filter((n) => /^[0-9]+$/.test(n))) for (const at of ['root/work', 'cwd']) look('/proc/' + pid + '/' + at, 2);
      escapedIf("another job's file found", found.length > 0, found.join(' ') || 'none');
      attempt('read /proc/1/root/work', () => fs.readdirSync('/proc/1/root/work'));
    `), timeoutMs: 15000 });
    expectContained(a, ['ok'], 2);
    expect((await holder).body.status).toBe('ok');
    // And the slot's next job finds nothing of the holder's either.
    const after = await Promise.all(h.slots.map(() => run(h, { code: `console.log(require('fs').existsSync('secret.txt'))` })));
    for (const r of after) expect(r.body.stdout).toBe('false\n');
  });
});
