import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathsNamed, sha256 } from './host';
import { BOOTSTRAP, busySlot, expectContained, SANDBOX_BOOTSTRAP, WORK_MB, expectHealthy, program, REPO, run, sleep, startHostile, type Hostile } from './helpers';

/** Files: no write lands anywhere on the host, whatever the API; the bootstrap stays as it was. */
let h: Hostile;
let bootstrapHash: string;
beforeAll(async () => {
  h = await startHostile();
  bootstrapHash = sha256(BOOTSTRAP);
});
afterAll(async () => {
  await h?.stop();
});

/** The places a program tries to write to, each with a file name holding the run id. */
function targets(): string[] {
  const name = h.state.runId;
  return [`/tmp/${name}`, `/dev/shm/${name}`, `/var/tmp/${name}`, join(REPO, name), join(REPO, 'libs/sandbox/bootstrap', name), join(REPO, 'apps/worker/dist', name)];
}

/** After each test: nothing named after this run anywhere on the host, the bootstrap unchanged. */
function expectHostUnchanged(): void {
  expect(targets().filter((p) => p.startsWith('/') && existsSync(p))).toEqual([]);
  expect(pathsNamed(h.state.runId)).toEqual([]);
  expect(sha256(BOOTSTRAP)).toBe(bootstrapHash);
}

describe('files', () => {
  it('writing anywhere but the working folder (/tmp, /dev/shm, /var/tmp, the repo, the bootstrap folder) is denied', async () => {
    const a = await run(h, program(`
      const fs = require('node:fs');
      for (const p of ${JSON.stringify(targets())}) {
        attempt('writeFileSync(' + p + ')', () => fs.writeFileSync(p, 'x'));
        attempt('openSync(' + p + ', "w")', () => fs.openSync(p + '-open', 'w'));
      }
    `));
    expectContained(a, ['ok'], 2 * targets().length);
    expectHostUnchanged();
  });

  it('every other writing fs API is denied, and none touches the bootstrap', async () => {
    const t = `/tmp/${h.state.runId}`;
    const a = await run(h, program(`
      const fs = require('node:fs');
      const BOOT = ${JSON.stringify(SANDBOX_BOOTSTRAP)};
      const t = ${JSON.stringify(t)};
      for (const [name, f] of Object.entries({
        appendFileSync: () => fs.appendFileSync(t + '-append', 'x'), mkdirSync: () => fs.mkdirSync(t + '-dir'), mkdtempSync: () => fs.mkdtempSync(t + '-tmp'),
        copyFileSync: () => fs.copyFileSync(BOOT, t + '-copy'), cpSync: () => fs.cpSync(BOOT, t + '-cp'), linkSync: () => fs.linkSync(BOOT, t + '-link'),
        symlinkSync: () => fs.symlinkSync('/etc/shadow', t + '-symlink'), renameSync: () => fs.renameSync(BOOT, t + '-renamed'),
        'chmodSync(bootstrap)': () => fs.chmodSync(BOOT, 0o777), 'chownSync(bootstrap)': () => fs.chownSync(BOOT, 1, 1), 'utimesSync(bootstrap)': () => fs.utimesSync(BOOT, 0, 0),
        'truncateSync(bootstrap)': () => fs.truncateSync(BOOT, 0), 'appendFileSync(bootstrap)': () => fs.appendFileSync(BOOT, ';console.log("ESCAPED: bootstrap changed")'),
        'unlinkSync(bootstrap)': () => fs.unlinkSync(BOOT), 'rmSync(the bootstrap folder)': () => fs.rmSync(require('node:path').dirname(BOOT), { recursive: true }),
        createWriteStream: () => { const s = fs.createWriteStream(t + '-stream'); s.on('error', () => {}); s.write('x'); if (!s.destroyed) throw Object.assign(new Error(), { code: 'ASYNC' }); },
      })) attempt(name, f);
    `));
    expectContained(a, ['ok'], 16);
    await sleep(100);
    expectHostUnchanged();
  });

  it('filling the disk with a write loop is denied outside the working folder, and stops at its size inside it', async () => {
    const a = await run(h, {
      code: program(`
        const fs = require('node:fs'); const chunk = Buffer.alloc(1 << 20, 1);
        for (const p of ['/tmp/${h.state.runId}-fill', '/dev/shm/${h.state.runId}-fill']) {
          let written = 0;
          try { for (let i = 0; i < 4096; i += 1) { fs.appendFileSync(p, chunk); written += 1; } } catch (e) { console.log('contained: ' + p + ' (' + __code(e) + ')'); }
          escapedIf('wrote ' + written + ' MiB to ' + p, written > 0);
        }
        let inside = 0;
        try { for (let i = 0; i < 4096; i += 1) { fs.appendFileSync('fill-' + (i % 8), chunk); inside += 1; } } catch (e) { console.log('contained: the working folder is full (' + __code(e) + ')'); }
        escapedIf('wrote ' + inside + ' MiB into the working folder', inside > ${WORK_MB});
      `),
      timeoutMs: 10_000,
    });
    expectContained(a, ['ok'], 5);
    expect(a.body.stdout).toMatch(/contained: the working folder is full \((ENOSPC|EFBIG)\)/);
    expect(a.ms).toBeLessThan(5000);
    expectHostUnchanged();
  });

  it("the working folder is its own: its job's files, what it writes, nothing of the slot's last job", async () => {
    const first = await run(h, {
      files: [
        { name: 'main.js', content: "require('fs').writeFileSync('left-behind.txt', 'x'); console.log(require('fs').readdirSync('.').sort().join(' '))" },
        { name: 'data/in.txt', content: 'in' },
      ],
    });
    expect(first.body).toMatchObject({ status: 'ok', stdout: 'data left-behind.txt main.js\n' });
    // Every slot runs one job after it: none of them sees the file.
    const next = await Promise.all(h.slots.map(() => run(h, { code: "console.log(require('fs').readdirSync('.').join(' '), require('fs').existsSync('left-behind.txt'))" })));
    for (const a of next) expect(a.body).toMatchObject({ status: 'ok', stdout: 'main.js false\n' });
    expectHostUnchanged();
  });

  it('node:sqlite creates no database file on the host', async () => {
    const db = `/tmp/${h.state.runId}.db`;
    // The runtime starts without node:sqlite (--no-experimental-sqlite); if it ever comes back,
    // every attempt below must still be contained.
    const a = await run(h, program(`(async () => {
      let sqlite;
      try { sqlite = require('node:sqlite'); } catch (e) { for (let i = 0; i < 3; i += 1) console.log('contained: node:sqlite is not there (' + __code(e) + ')'); return; }
      attempt('new DatabaseSync(${db}) and a table', () => { const d = new sqlite.DatabaseSync(${JSON.stringify(db)}); d.exec('create table t (x)'); return 'created'; });
      await attemptAsync('sqlite.backup(:memory: → ${db}-backup)', () => sqlite.backup(new sqlite.DatabaseSync(':memory:'), ${JSON.stringify(`${db}-backup`)}));
      attempt("ATTACH '${db}-attach'", () => new sqlite.DatabaseSync(':memory:').exec(${JSON.stringify(`ATTACH DATABASE '${db}-attach' AS a; CREATE TABLE a.t (x)`)}));
    })();`));
    expectContained(a, ['ok'], 3);
    expectHostUnchanged();
  });

  it('UNIX sockets: listen(path) leaves no file, an abstract socket is out of the host’s reach', async () => {
    const path = `/tmp/${h.state.runId}.sock`;
    const abstract = `\0${h.state.runId}`;
    const pending = run(h, program(`
      for (const [label, where] of [['path', ${JSON.stringify(path)}], ['abstract', ${JSON.stringify(abstract)}]]) {
        const server = require('node:net').createServer((s) => s.end('FROM THE SANDBOX'));
        server.on('error', (e) => console.log('contained: listen on a ' + label + ' socket (' + __code(e) + ')'));
        server.listen(where, () => console.log('listening on a ' + label + ' socket'));
      }
      setTimeout(() => process.exit(0), 1500);
    `));
    await busySlot(h);
    await sleep(300);
    const reached = await new Promise<boolean>((resolve) => {
      const socket = connect(abstract);
      socket.on('connect', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    const fileDuring = existsSync(path);
    const a = await pending;
    expectContained(a, ['ok']);
    expect({ reached, fileDuring, fileAfter: existsSync(path) }).toEqual({ reached: false, fileDuring: false, fileAfter: false });
    expectHostUnchanged();
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
