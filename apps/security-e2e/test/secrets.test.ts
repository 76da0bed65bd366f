import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { busySlot, expectContained, expectHealthy, parentOf, program, REPO, run, startHostile, type Hostile } from './helpers';

/** Secrets of the host, of the services and of other executions. Every answer is also checked for leaks by run(). */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.stop();
});

const fs = "const fs = require('node:fs');";

/** Reads each file, prints ESCAPED with its length and the lines that matter (so that a leak is seen). */
const READ_ALL = `function readAll(paths) { for (const p of paths) { const v = attempt('read ' + p, () => fs.readFileSync(p, 'latin1'));
  if (typeof v === 'string') for (const line of v.split(/[\\0\\n]/)) if (/REDIS|redis:|requirepass|canary/i.test(line)) console.log('  found: ' + line); } }`;

describe('secrets and the data of others', () => {
  it('/etc/shadow and a canary file of mode 0600 are unreadable, whatever the API', async () => {
    const { secretPath } = h.state;
    const a = await run(h, program(`${fs}
      (async () => {
        attempt('readFileSync(/etc/shadow)', () => fs.readFileSync('/etc/shadow'));
        const c = attempt('readFileSync(<canary>)', () => fs.readFileSync(${JSON.stringify(secretPath)}, 'utf8'));
        if (c) console.log(c);
        await attemptAsync('fs.promises.readFile(<canary>)', () => fs.promises.readFile(${JSON.stringify(secretPath)}, 'utf8').then((t) => (console.log(t), t)));
        attempt('require(<canary>)', () => require(${JSON.stringify(secretPath)}));
        await attemptAsync('import(<canary>)', () => import(${JSON.stringify(`file://${secretPath}`)}));
      })();
    `));
    expectContained(a, ['ok'], 5);
  });

  it('node:sqlite does not open files outside the allow-list (a 0600 database, /etc/shadow)', async () => {
    const { secretDbPath } = h.state;
    // The runtime starts without node:sqlite (--no-experimental-sqlite); if it ever comes back,
    // every open below must still be contained.
    const a = await run(h, program(`
      let DatabaseSync;
      try { ({ DatabaseSync } = require('node:sqlite')); } catch (e) { for (let i = 0; i < 3; i += 1) console.log('contained: node:sqlite is not there (' + __code(e) + ')'); }
      if (DatabaseSync) for (const p of [${JSON.stringify(secretDbPath ?? '/etc/shadow')}, '/etc/shadow', ${JSON.stringify(join(REPO, 'package.json'))}]) {
        const db = attempt('new DatabaseSync(' + p + ', { readOnly: true })', () => new DatabaseSync(p, { readOnly: true }));
        if (db) try { console.log(JSON.stringify(db.prepare('select * from sqlite_master').all()), JSON.stringify(db.prepare('select * from s').all())); } catch (e) { console.log('  query: ' + __code(e)); }
      }
    `));
    expectContained(a, ['ok'], 3);
  });

  it('/proc/self/environ and process.env hold nothing', async () => {
    const a = await run(h, program(`${fs} ${READ_ALL}
      escapedIf('process.env has entries', Object.keys(process.env).length > 0, Object.keys(process.env).join());
      readAll(['/proc/self/environ', '/proc/thread-self/environ']);
    `));
    expectContained(a, ['ok'], 3);
  });

  it("the environment and command line of the parent, pid 1 and the services (where REDIS_URL is)", async () => {
    const pids = [...Object.values(h.services), h.redis.pid].filter((p): p is number => p !== null);
    const a = await run(h, program(`${fs} ${READ_ALL}
      const pids = [process.ppid, 1, ...${JSON.stringify(pids)}];
      readAll(pids.flatMap((pid) => ['/proc/' + pid + '/environ', '/proc/' + pid + '/cmdline']));
    `));
    expectContained(a, ['ok'], 2 * (pids.length + 2));
  });

  it("the worker's files, working folder and descriptors", async () => {
    const worker = h.services.worker;
    const a = await run(h, program(`${fs} ${READ_ALL}
      readAll([${JSON.stringify(join(REPO, 'apps/worker/dist/main.js'))}, ${JSON.stringify(join(REPO, 'apps/worker/dist/lib/worker.js'))}, ${JSON.stringify(join(REPO, 'tools/devkit/dist/stack.js'))}]);
      attempt('readdirSync(/proc/<worker>/fd)', () => fs.readdirSync('/proc/${worker}/fd').join());
      attempt('readdirSync(/proc/<worker>/cwd)', () => fs.readdirSync('/proc/${worker}/cwd').join());
      attempt('readFileSync(/proc/<worker>/maps)', () => fs.readFileSync('/proc/${worker}/maps'));
    `));
    expectContained(a, ['ok'], 6);
  });

  it("another slot's code, stdin and args stay out of reach (/proc/*/cmdline, environ, fd/0, mem)", async () => {
    const secret = { code: `code-${randomBytes(12).toString('hex')}`, stdin: `stdin-${randomBytes(12).toString('hex')}`, arg: `arg-${randomBytes(12).toString('hex')}` };
    const victim = run(h, {
      code: `globalThis.kept = [${JSON.stringify(secret.code)}, require('node:fs').readFileSync(0, 'utf8'), process.argv[2]].join(' '); setTimeout(() => console.log('victim done ' + globalThis.kept.length), 2500);`,
      stdin: secret.stdin,
      args: [secret.arg],
      timeoutMs: 10_000,
    });
    const target = await busySlot(h);
    const pids = [target.pid, parentOf(target.pid)].filter((p): p is number => p !== null);
    const a = await run(h, program(`${fs}
      const wanted = ${JSON.stringify(Object.values(secret))};
      const look = (where, text) => { for (const w of wanted) if (text.includes(w)) console.log('ESCAPED: found ' + w + ' in ' + where); };
      let listed = [];
      attempt('readdirSync(/proc)', () => (listed = fs.readdirSync('/proc').filter((e) => /^\\d+$/.test(e))).length);
      const pids = [...new Set([...${JSON.stringify(pids)}, ...listed.map(Number)])].filter((p) => p !== process.pid);
      for (const pid of pids) for (const f of ['cmdline', 'environ', 'fd/0', 'fd/3']) {
        try { look('/proc/' + pid + '/' + f, fs.readFileSync('/proc/' + pid + '/' + f, 'latin1')); } catch (e) { if (${JSON.stringify(pids)}.includes(pid)) console.log('contained: /proc/' + pid + '/' + f + ' (' + __code(e) + ')'); }
      }
      for (const pid of ${JSON.stringify(pids)}) {
        const maps = attempt('read /proc/' + pid + '/maps', () => fs.readFileSync('/proc/' + pid + '/maps', 'latin1'));
        if (!maps) continue;
        let fd; try { fd = fs.openSync('/proc/' + pid + '/mem', 'r'); console.log('ESCAPED: opened /proc/' + pid + '/mem'); } catch (e) { console.log('contained: /proc/' + pid + '/mem (' + __code(e) + ')'); continue; }
        let budget = 512 * 1024 * 1024;
        for (const line of maps.split('\\n').filter((l) => / rw-p /.test(l))) {
          const [from, to] = line.split(' ')[0].split('-').map((x) => parseInt(x, 16));
          for (let at = from; at < to && budget > 0; at += 1 << 20) {
            const buf = Buffer.alloc(Math.min(1 << 20, to - at)); budget -= buf.length;
            try { fs.readSync(fd, buf, 0, buf.length, at); look('/proc/' + pid + '/mem', buf.toString('latin1')); } catch { break; }
          }
        }
      }
    `));
    const victimAnswer = await victim;
    expectContained(a, ['ok'], 2 * pids.length);
    const text = a.body.stdout + a.body.stderr;
    for (const value of Object.values(secret)) expect(text).not.toContain(value);
    expect(victimAnswer.body).toMatchObject({ status: 'ok', stdout: expect.stringMatching(/^victim done \d+\n$/) });
  });

  it('the Redis password is nowhere a sandbox can look (every /proc/*/environ and cmdline it can list)', async () => {
    const a = await run(h, program(`${fs} ${READ_ALL}
      let listed = [];
      attempt('readdirSync(/proc)', () => (listed = fs.readdirSync('/proc').filter((e) => /^\\d+$/.test(e))).length);
      for (const pid of listed) for (const f of ['environ', 'cmdline']) try { const t = fs.readFileSync('/proc/' + pid + '/' + f, 'latin1'); for (const l of t.split('\\0')) if (/redis:|REDIS|requirepass/.test(l)) console.log('ESCAPED: ' + pid + ' ' + f + ': ' + l); } catch {}
      escapedIf('REDIS_URL in process.env', 'REDIS_URL' in process.env);
    `));
    expectContained(a, ['ok'], 2);
    expect(a.body.stdout).not.toContain(h.redis.password);
  });

  it("process.report.getReport() shows no environment, and no secret of the host", async () => {
    const a = await run(h, program(`
      const r = process.report.getReport();
      escapedIf('the report lists environment variables', Object.keys(r.environmentVariables || {}).length > 0, Object.keys(r.environmentVariables || {}).join());
      console.log(JSON.stringify(r));
    `));
    expectContained(a, ['ok'], 1);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
