import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig } from '@corral/config';
import { JAILED_NODE, type JailSpec } from './jail';
import { jailedProgramArgs } from './launcher';
import { sandboxProfile } from './profile';
import { Sandbox } from './sandbox';

/**
 * Each OS layer must hold on its own when the layers above it fail. These tests turn Node's
 * permission model off and give the sandbox one OS layer at a time, then try what the
 * permission model would otherwise have stopped. They need root (as CI has).
 */
const root = process.getuid?.() === 0;
const describeAsRoot = root ? describe : describe.skip;
if (!root) console.warn('jail.spec: skipped, the OS layers need root (CI runs as root)');

const profile = sandboxProfile(
  loadWorkerConfig({ CORRAL_HOST_ID: `jailspec-${process.pid}`, CORRAL_SANDBOX_JAIL: 'auto', CORRAL_SANDBOX_PIDS: '32', CORRAL_SANDBOX_TMP_MB: '1' }),
);
let cwd: string;
let sequence = 0;
beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'corral-jail-spec-'));
  chmodSync(cwd, 0o711); // the sandboxes' own folders are made inside it, and their uids walk up through it
});
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  profile.release();
});

type Layer = 'bwrap' | 'uid' | 'cgroup' | 'seccomp';

/** Runs `code` without the permission model, inside exactly one OS layer. */
async function runWithOnly(layer: Layer, code: string, memoryLimitMb = 256) {
  const full = profile.jail.spec(3, `jailspec-${process.pid}-${(sequence += 1)}`, memoryLimitMb);
  const only: JailSpec =
    layer === 'bwrap'
      ? { bwrap: full.bwrap! }
      : layer === 'uid'
        ? { uid: full.uid!, gid: full.gid!, rlimits: full.rlimits! }
        : layer === 'seccomp'
          ? { seccomp: true }
          : { cgroup: full.cgroup! };
  const { nodePath, helperPath, bootstrapPath } = profile.options({ slotIndex: 3, heapMb: 128 });
  const sandbox = new Sandbox({
    nodePath,
    helperPath,
    bootstrapPath,
    heapMb: 128,
    cwd,
    // The job's files are written into its working directory: files may grow, as in the profile's sandboxes.
    rlimits: { core: 0, fsize: 32 * 1024 * 1024, nofile: 512 },
    jail: only,
    permissionModel: false,
  });
  await sandbox.ready;
  const result = await sandbox.run({ code, args: [], stdin: '', timeoutMs: 10_000, maxOutputBytes: 1 << 20 });
  // Gone before the next test, and before afterAll removes the host's cgroup folders (the
  // launcher removes the sandbox's own once everything in it has ended).
  await sandbox.exited;
  return { ...result, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

const attempt = (label: string, expr: string): string =>
  `try { const v = (${expr}); console.log(${JSON.stringify(label)}, 'ALLOWED', typeof v === 'string' ? v.slice(0, 40) : v); } catch (e) { console.log(${JSON.stringify(label)}, e.code || e.message); }`;

describeAsRoot('OS layers, each on its own (permission model off)', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('bubblewrap alone: a filesystem of the runtime only, read-only, its own pid and network namespaces', async () => {
    const r = await runWithOnly(
      'bwrap',
      [
        "console.log('root', require('fs').readdirSync('/').sort().join(' '))",
        attempt('shadow', "require('fs').readFileSync('/etc/shadow', 'utf8')"),
        attempt('repo', `require('fs').readdirSync(${JSON.stringify(join(__dirname, '..'))})`),
        attempt('write-root', "require('fs').writeFileSync('/owned', 'x')"),
        attempt('write-packages', "require('fs').writeFileSync('/node_modules/owned', 'x')"),
        "console.log('pids', require('fs').readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length)",
        `require('net').connect(${port}, '127.0.0.1').on('connect', () => console.log('net ALLOWED')).on('error', (e) => console.log('net', e.code))`,
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/^root dev lib lib64 node_modules proc run sandbox tmp( usr)? work$/m);
    expect(r.stdout).not.toContain('ALLOWED');
    expect(r.stdout).toMatch(/^shadow ENOENT$/m);
    expect(r.stdout).toMatch(/^repo ENOENT$/m);
    expect(r.stdout).toMatch(/^write-root EROFS$/m);
    expect(r.stdout).toMatch(/^write-packages EROFS$/m);
    expect(r.stdout).toMatch(/^pids [12]$/m); // bubblewrap's init and the runtime: nothing of the host
    expect(r.stdout).toMatch(/^net (ENETUNREACH|ECONNREFUSED|EACCES)$/m);
    expect(connections).toBe(0);
  });

  it('bubblewrap alone: the /proc files that tell of the host are masks (counters that never move, no load, memory or uptime, no boot id)', async () => {
    const r = await runWithOnly(
      'bwrap',
      [
        "const fs = require('fs');",
        "const first = fs.readFileSync('/proc/stat', 'utf8'); let x = 0; for (let i = 0; i < 2e7; i++) x += i;",
        "console.log('stat moves', first !== fs.readFileSync('/proc/stat', 'utf8'));",
        "for (const f of ['uptime', 'loadavg', 'version', 'sys/kernel/random/boot_id', 'interrupts']) console.log(f, JSON.stringify(fs.readFileSync('/proc/' + f, 'utf8')));",
        "console.log('meminfo', fs.readFileSync('/proc/meminfo', 'utf8').split('\\n')[0]);",
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/^stat moves false$/m);
    expect(r.stdout).toMatch(/^uptime "0\.00 0\.00\\n"$/m);
    expect(r.stdout).toMatch(/^loadavg "0\.00 0\.00 0\.00 1\/1 1\\n"$/m);
    expect(r.stdout).toMatch(/^version "Linux version sandbox\\n"$/m);
    expect(r.stdout).toMatch(/^sys\/kernel\/random\/boot_id "00000000-0000-0000-0000-000000000000\\n"$/m);
    expect(r.stdout).toMatch(/^interrupts ""$/m);
    expect(r.stdout).toMatch(/^meminfo MemTotal:\s+262144 kB$/m);
  });

  it('a uid of its own alone: no root files, no signals to the worker, no setuid', async () => {
    const r = await runWithOnly(
      'uid',
      [
        "console.log('uid', process.getuid(), process.getgid(), 'groups', process.getgroups().filter((g) => g !== process.getgid()).length)",
        attempt('shadow', "require('fs').readFileSync('/etc/shadow', 'utf8')"),
        attempt('signal', `process.kill(${process.pid}, 'SIGTERM')`),
        attempt('setuid', 'process.setuid(0)'),
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/^uid 200003 200003 groups 0$/m);
    expect(r.stdout).not.toContain('ALLOWED');
    expect(r.stdout).toMatch(/^shadow EACCES$/m);
    expect(r.stdout).toMatch(/^signal EPERM$/m);
    expect(r.stdout).toMatch(/^setuid EPERM$/m);
  });

  it('seccomp alone: no UDP or netlink sockets, no new namespaces', async () => {
    const r = await runWithOnly(
      'seccomp',
      [
        "const udp = require('dgram').createSocket('udp4'); udp.on('error', (e) => console.log('udp', e.code)); udp.bind(0, () => console.log('udp ALLOWED'));",
        "try { require('os').networkInterfaces(); console.log('interfaces ALLOWED'); } catch (e) { console.log('interfaces', e.code || e.message); }",
        "require('child_process').exec('unshare -U true; echo unshare=$?', (e, out) => console.log(out.trim()))",
      ].join('\n'),
    );
    expect(r.stdout).not.toContain('interfaces ALLOWED'); // netlink refused
    expect(r.stdout).toMatch(/^unshare=1$/m);
    expect(r.stdout).toMatch(/^udp EACCES$/m);
  });

  it('a cgroup alone: a fork bomb meets pids.max, off-heap memory meets the memory limit', async () => {
    const bomb = await runWithOnly(
      'cgroup',
      `const { spawn } = require('child_process'); let ok = 0, failed = 0;
       for (let i = 0; i < 200; i += 1) { try { const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)']); c.on('error', () => failed++); ok++; } catch (e) { failed++; } }
       setTimeout(() => { console.log('spawned', ok, 'failed', failed); process.exit(0); }, 1500);`,
    );
    expect(bomb.stderr + bomb.stdout).toMatch(/EAGAIN|failed [1-9]/);
    const hog = await runWithOnly('cgroup', 'const keep = []; for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1));', 96);
    expect(hog.exit.oomKilled).toBe(true);
    expect(hog.exit.signal).toBe('SIGKILL');
  });
});

describeAsRoot('a program of its own in the jail (the benchmark floor)', () => {
  /** Runs `program` through corral-spawn behind every layer a sandbox of the profile gets; its stdout and status report. */
  function runJailed(program: readonly string[]): Promise<{ stdout: string; report: string }> {
    const options = profile.options({ slotIndex: 4, generation: (sequence += 1), heapMb: 128 });
    const child = spawn(options.helperPath, jailedProgramArgs(options, program), { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], env: {}, cwd: options.cwd });
    let stdout = '';
    let report = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    (child.stdio[4] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (report += chunk.toString()));
    return new Promise((resolve) => child.once('close', () => resolve({ stdout, report })));
  }

  it('runs it behind the same layers, without the runtime flags or the bootstrap', async () => {
    const probe = [
      "const fs = require('fs');",
      "console.log(require('os').hostname(), process.getuid() === 0 ? 'uid0' : 'uid', fs.readdirSync('/').sort().join(' '));",
      "console.log('flags', process.execArgv.filter((a) => a.startsWith('--') || a === '-r').length);",
    ].join('');
    const r = await runJailed([JAILED_NODE, '-e', probe]);
    expect(r.report).toMatch(/^exit 0 0 \d+ \d+ \d+$/m);
    expect(r.stdout).toMatch(/^sandbox uid dev lib lib64 node_modules proc run sandbox tmp( usr)? work$/m);
    expect(r.stdout).toMatch(/^flags 0$/m); // no runtime flags, no bootstrap preloaded
    expect(r.report).toMatch(/^cgroup cpuNs [1-9]\d*$/m); // in a cgroup of its own
  });

  it('refuses options without a bubblewrap jail', () => {
    expect(() => jailedProgramArgs({ ...profile.options({ slotIndex: 4, heapMb: 128 }), jail: {} }, [JAILED_NODE, '-e', '0'])).toThrow(/bubblewrap/);
  });
});
