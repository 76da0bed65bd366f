import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killCgroup, prepareCgroups, readCgroupCpuMs, type SandboxCgroup } from './cgroup';

function exited(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(String(signal ?? code))));
}

describe('cgroup files (format handling, on plain files)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'corral-cgroup-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads CPU in ms from v1 cpuacct.usage (ns) and v2 cpu.stat (usage_usec)', () => {
    writeFileSync(join(dir, 'cpuacct.usage'), '1234567890\n');
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 4500\nuser_usec 4000\nsystem_usec 500\n');
    expect(readCgroupCpuMs({ version: 1, cpuFile: join(dir, 'cpuacct.usage') })).toBeCloseTo(1234.56789);
    expect(readCgroupCpuMs({ version: 2, cpuFile: join(dir, 'cpu.stat') })).toBe(4.5);
    expect(readCgroupCpuMs({ version: 1, cpuFile: join(dir, 'missing') })).toBeNull();
  });

  it('v1: freezes, kills every listed process, thaws', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const cg: SandboxCgroup = {
      version: 1,
      dirs: [dir],
      cpuFile: join(dir, 'cpuacct.usage'),
      procsFile: join(dir, 'cgroup.procs'),
      freezeFile: join(dir, 'freezer.state'),
    };
    writeFileSync(cg.procsFile, `${child.pid}\n`);
    expect(killCgroup(cg)).toBe(1);
    expect(await exited(child)).toBe('SIGKILL');
    expect(readFileSync(cg.freezeFile, 'utf8')).toBe('THAWED');
  });

  it('v2: writes cgroup.kill', () => {
    const cg: SandboxCgroup = {
      version: 2,
      dirs: [dir],
      cpuFile: join(dir, 'cpu.stat'),
      procsFile: join(dir, 'cgroup.procs'),
      freezeFile: join(dir, 'cgroup.freeze'),
      killFile: join(dir, 'cgroup.kill'),
    };
    expect(killCgroup(cg)).toBe(1);
    expect(readFileSync(cg.killFile!, 'utf8')).toBe('1');
  });
});

const root = process.getuid?.() === 0;
(root ? describe : describe.skip)('the host cgroup hierarchy (needs root)', () => {
  it('prepares a host folder, holds a sandbox cgroup, sweeps what is stale and releases the rest', async () => {
    const host = prepareCgroups(`cgspec-${process.pid}`);
    if (!host.ok) throw new Error(`cgroups unavailable as root: ${host.reason}`);
    const cg = host.sandbox('s0-1-1');
    for (const d of cg.dirs) mkdirSync(d);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    for (const d of cg.dirs) writeFileSync(join(d, 'cgroup.procs'), String(child.pid));
    expect(readFileSync(cg.procsFile, 'latin1').trim()).toBe(String(child.pid));
    expect(readCgroupCpuMs(cg)).not.toBeNull();

    host.release(); // in use: stays
    expect(cg.dirs.every((d) => existsSync(d))).toBe(true);
    expect(host.sweep((name) => name !== 's0-1-1')).toBe(0);
    expect(host.sweep()).toBeGreaterThanOrEqual(1); // kills what is inside, then removes it
    expect(await exited(child)).toBe('SIGKILL');
    host.release();
    expect(cg.dirs.some((d) => existsSync(d))).toBe(false);
  });
});
