import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expectContained, expectHealthy, listOrEmpty, program, REPO, run, SANDBOX_BOOTSTRAP, startHostile, type Hostile } from './helpers';

/** The permission model's edges: path traversal, its own flags, V8 flags, diagnostics written to disk. */
let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});
afterAll(async () => {
  await h?.stop();
});

/** The bootstrap path as the sandbox was given it (it differs inside a jail). */
const BOOT = `const BOOT = ${JSON.stringify(SANDBOX_BOOTSTRAP)}; const BOOT_DIR = require('node:path').dirname(BOOT);`;
const fs = "const fs = require('node:fs');";

/** Diagnostics files a program may have written into /tmp or a sandbox folder since `since`. */
function diagnosticsWritten(since: Set<string>): string[] {
  const names = readdirSync('/tmp').filter((name) => !since.has(name) && /^(report\..*\.json|Heap\..*\.heapsnapshot)$/.test(name));
  const inSandboxDirs = h.sandboxDirs.flatMap((dir) => listOrEmpty(dir).map((name) => join(dir, name)));
  return [...names.map((name) => join('/tmp', name)), ...inSandboxDirs];
}

describe('the permission model holds at its edges', () => {
  it('symlink and ../ traversal: /proc/self/root, /proc/self/cwd, execPath/../../.., the bootstrap/../..', async () => {
    const a = await run(h, program(`${fs} ${BOOT}
      for (const p of ['/proc/self/root/etc/passwd', '/proc/self/cwd/../../../../etc/passwd', '/proc/1/root/etc/shadow', '/proc/self/fd/../../../../etc/passwd', '/proc/self/maps',
        process.execPath + '/../../../etc/shadow', process.execPath + '/../../../../../../../etc/passwd', BOOT + '/../../../../apps/worker/dist/main.js',
        BOOT_DIR + '/../native/corral-spawn.c', BOOT_DIR + '/./../../../package.json', BOOT + '/..', BOOT + '\\0/../../etc/passwd'])
        attempt('readFileSync(' + p + ')', () => fs.readFileSync(p));
      attempt('readFileSync(new URL("file:///etc/passwd"))', () => fs.readFileSync(new URL('file:///etc/passwd')));
      attempt('readFileSync(Buffer "/etc/passwd")', () => fs.readFileSync(Buffer.from('/etc/passwd')));
      attempt('chdir("/etc") then readFileSync("passwd")', () => { process.chdir('/etc'); return fs.readFileSync('passwd'); });
    `));
    expectContained(a, ['ok'], 15);
  });

  it("the bootstrap's sibling files and the repository", async () => {
    const a = await run(h, program(`${fs} ${BOOT}
      attempt('readdirSync(<bootstrap folder>)', () => fs.readdirSync(BOOT_DIR).join());
      attempt('readdirSync(<repo>)', () => fs.readdirSync(${JSON.stringify(REPO)}).join());
      for (const p of ['package.json', '.git/config', 'apps/worker/dist/main.js', 'tools/devkit/src/stack.ts', 'libs/sandbox/native/corral-spawn.c'])
        attempt('readFileSync(<repo>/' + p + ')', () => fs.readFileSync(${JSON.stringify(REPO)} + '/' + p));
    `));
    expectContained(a, ['ok'], 7);
  });

  it('every fs API refuses a path outside the allow-list, and none reveals existence', async () => {
    const a = await run(h, program(`${fs}
      (async () => {
        await attemptAsync('fs.promises.readFile', () => fs.promises.readFile('/etc/passwd'));
        await attemptAsync('fs.createReadStream', () => new Promise((ok, no) => fs.createReadStream('/etc/passwd').on('data', ok).on('error', no)));
        for (const [name, f] of Object.entries({ openSync: () => fs.openSync('/etc/passwd', 'r'), readdirSync: () => fs.readdirSync('/').join(), opendirSync: () => fs.opendirSync('/etc'),
          statSync: () => fs.statSync('/etc/shadow'), lstatSync: () => fs.lstatSync('/etc/shadow'), accessSync: () => fs.accessSync('/etc/shadow') || 'accessible',
          realpathSync: () => fs.realpathSync('/proc/self/root/etc'), readlinkSync: () => fs.readlinkSync('/proc/self/cwd'), watch: () => fs.watch('/etc').close() || 'watching',
          globSync: () => { const found = fs.globSync('/etc/*'); if (found.length === 0) throw Object.assign(new Error('nothing'), { code: 'NOTHING_FOUND' }); return found.join(); }, statfsSync: () => fs.statfsSync('/') }))
          attempt('fs.' + name, f);
        attempt('fs.existsSync("/etc/passwd") is true', () => { if (!fs.existsSync('/etc/passwd')) throw Object.assign(new Error('false'), { code: 'FALSE' }); return true; });
      })();
    `));
    expectContained(a, ['ok'], 14);
  });

  it('process.permission.has grants nothing beyond the bootstrap and the working folder', async () => {
    // The repository's path as the host has it; a checkout under /work would be inside the
    // sandbox's own working folder there, which is its to read.
    const repo = REPO.startsWith('/work/') || REPO === '/work' ? '/root' : REPO;
    const a = await run(h, program(`${BOOT}
      const has = (scope, ref) => { try { return process.permission.has(scope, ref); } catch (e) { return __code(e); } };
      console.log('bootstrap readable: ' + has('fs.read', BOOT));
      for (const [scope, ref] of [['fs.read', '/'], ['fs.read', '/etc/shadow'], ['fs.read', ${JSON.stringify(repo)}], ['fs.read', BOOT_DIR + '/'], ['fs.read'], ['fs.write'],
        ['fs.write', '/tmp'], ['fs.write', BOOT], ['child'], ['worker'], ['wasi'], ['inspector'], ['addon']])
        escapedIf('permission.has(' + scope + (ref ? ', ' + ref : '') + ')', has(scope, ref) === true, String(has(scope, ref)));
    `));
    expectContained(a, ['ok'], 13);
  });

  it('--allow-* through process.execArgv, process.argv and NODE_OPTIONS changes nothing', async () => {
    const a = await run(h, program(`${fs}
      process.execArgv.push('--allow-fs-read=*', '--allow-fs-write=*', '--allow-child-process', '--allow-worker', '--allow-addons');
      process.argv.push('--allow-fs-read=*');
      process.env.NODE_OPTIONS = '--allow-fs-read=* --allow-child-process';
      attempt('readFileSync("/etc/passwd") after the tricks', () => fs.readFileSync('/etc/passwd'));
      attempt('writeFileSync(/tmp) after the tricks', () => fs.writeFileSync(${JSON.stringify(`/tmp/${h.state.runId}-argv`)}, 'x'));
      attempt("spawnSync('id') after the tricks", () => require('node:child_process').spawnSync('id'));
      attempt('fork() with --allow-fs-read=*', () => require('node:child_process').fork('/etc/passwd', [], { execArgv: ['--allow-fs-read=*'] }));
      attempt('new Worker() with --allow-fs-read=*', () => new (require('node:worker_threads').Worker)('1', { eval: true, execArgv: ['--allow-fs-read=*'] }));
      escapedIf('process.permission.has(fs.read, /etc/passwd) after the tricks', process.permission.has('fs.read', '/etc/passwd'));
    `));
    expectContained(a, ['ok'], 6);
    expect(existsSync(`/tmp/${h.state.runId}-argv`)).toBe(false);
  });

  it("v8.setFlagsFromString('--allow-natives-syntax') is refused by every way to reach it, and natives stay unavailable", async () => {
    const a = await run(h, program(`
      const v8 = require('node:v8');
      const ways = { require: v8, getBuiltinModule: process.getBuiltinModule('node:v8'), 'require("v8")': require('v8') };
      for (const [way, module] of Object.entries(ways)) {
        try { module.setFlagsFromString('--allow-natives-syntax'); console.log('flag set through ' + way); } catch (e) { console.log('flag refused through ' + way + ': ' + __code(e)); }
      }
      try { Object.defineProperty(v8, 'setFlagsFromString', { value: () => 0 }); console.log('redefined'); } catch (e) { console.log('redefinition refused: ' + e.name); }
      try { v8.setFlagsFromString = () => 0; console.log('assigned: ' + (v8.setFlagsFromString.name || 'anonymous')); } catch (e) { console.log('assignment refused: ' + e.name); }
      try { delete v8.setFlagsFromString; console.log('deleted: ' + typeof v8.setFlagsFromString); } catch (e) { console.log('deletion refused: ' + e.name); }
      try { process.binding('v8').setFlagsFromString('--allow-natives-syntax'); console.log('binding used'); } catch (e) { console.log('binding refused: ' + __code(e)); }
      attempt('%GetOptimizationStatus through new Function', () => new Function('return %GetOptimizationStatus(function () {})')());
      attempt('%DebugPrint through vm.runInThisContext', () => require('node:vm').runInThisContext('%DebugPrint({})'));
    `));
    expectContained(a, ['ok'], 2);
    const out = a.body.stdout;
    for (const way of ['require', 'getBuiltinModule', 'require("v8")']) expect(out).toContain(`flag refused through ${way}: ERR_ACCESS_DENIED`);
    expect(out).not.toMatch(/flag set|redefined|binding used/);
    // In sloppy mode the assignment is ignored and the delete answers false; in strict mode both throw. The refusing function stays.
    expect(out).toMatch(/assigned: setFlagsFromString|assignment refused: TypeError/);
    expect(out).toMatch(/deleted: function|deletion refused: TypeError/);
    expect(out).toContain('binding refused: ERR_ACCESS_DENIED');
  });

  it('an ES module importing setFlagsFromString from node:v8 gets the refusing function too', async () => {
    const a = await run(h, {
      files: [
        {
          name: 'main.mjs',
          content: [
            "import { setFlagsFromString } from 'node:v8';",
            "import * as namespace from 'node:v8';",
            "import v8 from 'node:v8';",
            "for (const [way, f] of [['named', setFlagsFromString], ['namespace', namespace.setFlagsFromString], ['default', v8.setFlagsFromString]]) {",
            "  try { f('--allow-natives-syntax'); console.log('flag set through ' + way); } catch (e) { console.log('flag refused through ' + way + ': ' + e.code); }",
            '}',
            "try { new Function('return %GetOptimizationStatus(function () {})')(); console.log('natives available'); } catch (e) { console.log('natives: ' + e.name); }",
          ].join('\n'),
        },
      ],
      entry: 'main.mjs',
    });
    expect(a.status).toBe(200);
    for (const way of ['named', 'namespace', 'default']) expect(a.body.stdout).toContain(`flag refused through ${way}: ERR_ACCESS_DENIED`);
    expect(a.body.stdout).toContain('natives: SyntaxError');
  });

  it('process.report.writeReport and v8.writeHeapSnapshot write nothing on the host', async () => {
    const before = new Set(readdirSync('/tmp'));
    const report = `/tmp/${h.state.runId}-report.json`;
    const snapshot = `/tmp/${h.state.runId}.heapsnapshot`;
    const a = await run(h, program(`
      attempt('process.report.writeReport(${report})', () => process.report.writeReport(${JSON.stringify(report)}));
      attempt('process.report.directory = /tmp; writeReport()', () => { process.report.directory = '/tmp'; return process.report.writeReport(); });
      attempt('v8.writeHeapSnapshot(${snapshot})', () => require('node:v8').writeHeapSnapshot(${JSON.stringify(snapshot)}));
      // The working folder is the job's own (a tmpfs inside its sandbox): a snapshot may land there, and nowhere else.
      try { const name = require('node:v8').writeHeapSnapshot(); console.log('contained: a snapshot in the working folder (' + require('node:path').dirname(require('node:path').resolve(name)) + ')'); } catch (e) { console.log('contained: v8.writeHeapSnapshot() (' + __code(e) + ')'); }
    `));
    expectContained(a, ['ok'], 4);
    expect(a.body.stdout).toMatch(/contained: (a snapshot in the working folder \(\/work\)|v8\.writeHeapSnapshot)/);
    expect([report, snapshot].filter((p) => existsSync(p))).toEqual([]);
    expect(diagnosticsWritten(before)).toEqual([]);
  });

  it('a report and heap snapshots on a fatal out-of-memory write nothing on the host', async () => {
    const before = new Set(readdirSync('/tmp'));
    const fatal = `${h.state.runId}-fatal.json`;
    const a = await run(h, {
      code: program(`
        try { process.report.directory = '/tmp'; process.report.filename = ${JSON.stringify(fatal)}; process.report.reportOnFatalError = true; } catch (e) { console.log('report settings: ' + __code(e)); }
        try { require('node:v8').setHeapSnapshotNearHeapLimit(2); } catch (e) { console.log('snapshot near limit: ' + __code(e)); }
        const hog = []; for (;;) hog.push(new Array(1e5).fill(7));
      `),
      memoryMb: 32,
      timeoutMs: 10_000,
    });
    expectContained(a, ['memory_limit', 'error']);
    expect(existsSync(`/tmp/${fatal}`)).toBe(false);
    expect(diagnosticsWritten(before)).toEqual([]);
  });

  it('the stack is healthy afterwards', async () => {
    await expectHealthy(h);
  });
});
