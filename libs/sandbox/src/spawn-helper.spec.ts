import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSandboxNode, resolveSpawnHelper } from './paths';

/** corral-spawn on its own: the trusted parent's report and the limits it sets. */
function spawnHelper(args: string[]): { status: number | null; report: string[]; stdout: string; stderr: string } {
  const result = spawnSync(resolveSpawnHelper(), ['--status-fd', '3', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 10_000,
  });
  const report = String(result.output[3] ?? '').trim().split('\n');
  return { status: result.status, report, stdout: result.stdout, stderr: result.stderr };
}

describe('corral-spawn', () => {
  it('reports the pid, then exit code, signal, CPU and peak memory', () => {
    const r = spawnHelper(['--', '/bin/sh', '-c', 'echo out; exit 7']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('out\n');
    expect(r.report[0]).toMatch(/^pid \d+$/);
    expect(r.report[1]).toMatch(/^exit 7 0 \d+ \d+ \d+$/);
  });

  it('reports a signal death by number', () => {
    const r = spawnHelper(['--', '/bin/sh', '-c', 'kill -9 $$']);
    expect(r.report[1]).toMatch(/^exit -1 9 /);
  });

  it('sets the requested rlimits and a session of its own', () => {
    const r = spawnHelper(['--rlimit', 'nofile=77', '--rlimit', 'core=0', '--rlimit', `as=${3 * 1024 ** 3}`, '--', '/bin/sh', '-c', 'ulimit -n; ulimit -c; ulimit -v; ps -o sid= -p $$; echo $$']);
    const [nofile, core, as, sid, pid] = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(nofile).toBe('77');
    expect(core).toBe('0');
    expect(as).toBe(String(3 * 1024 * 1024)); // ulimit -v counts KiB
    expect(sid).toBe(pid);
  });

  it('starts the sandbox at the nice value asked for', () => {
    expect(spawnHelper(['--nice', '7', '--', '/usr/bin/nice']).stdout.trim()).toBe('7');
  });

  it('passes the sandbox fds 0 … keep-fds-1 only, never its status fd', () => {
    // fd 3 in the listing is the directory `ls` itself opened
    expect(spawnHelper(['--', '/bin/ls', '/proc/self/fd']).stdout.trim().split('\n')).toEqual(['0', '1', '2', '3']);
    const kept = spawnSync(resolveSpawnHelper(), ['--status-fd', '4', '--keep-fds', '4', '--', '/bin/ls', '/proc/self/fd'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(kept.stdout.trim().split('\n')).toEqual(['0', '1', '2', '3', '4']);
  });

  it('says why it could not start a program', () => {
    const r = spawnHelper(['--', '/nonexistent']);
    expect(r.report).toEqual(['error exec: No such file or directory']);
  });

  it('kills and reaps what is left of the sandbox when it ends, even what left its group', () => {
    const started = Date.now();
    const r = spawnHelper(['--', '/bin/sh', '-c', 'sleep 30 & echo $!; setsid sleep 31 & echo $!']);
    const [inGroup, escaped] = r.stdout.trim().split('\n').map(Number);
    // neither alive nor a zombie: gone
    expect(() => process.kill(inGroup!, 0)).toThrow();
    expect(() => process.kill(escaped!, 0)).toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.each([[['--rlimit', 'bogus=1', '--', '/bin/true']], [['--uid', '1', '--', '/bin/true']], [[]]])('rejects bad usage %j with exit 64', (args) => {
    const result = spawnSync(resolveSpawnHelper(), ['--status-fd', '2', ...args], { encoding: 'utf8' });
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/corral-spawn: .*\nusage:/);
  });

  describe('the seccomp filter (each rule shown by a probe: a C program that tries each call)', () => {
    const root = process.getuid?.() === 0;
    let dir: string;
    let probe: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'corral-seccomp-probe-'));
      chmodSync(dir, 0o755);
      probe = join(dir, 'seccomp-probe');
      const built = spawnSync('cc', ['-O2', '-o', probe, join(__dirname, '..', 'native', 'test', 'seccomp-probe.c')], { encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`cc failed: ${built.stderr}`);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The probe as an unprivileged uid (it refuses root), with or without the filter. */
    function runProbe(filtered: boolean): Map<string, string> {
      const asStranger = root ? ['--uid', '65534', '--gid', '65534'] : [];
      const r = spawnHelper([...asStranger, ...(filtered ? ['--seccomp', 'self'] : []), '--', probe]);
      if (r.report[1] !== 'exit 0 0' && !r.report[1]?.startsWith('exit 0 0 ')) throw new Error(`probe: ${r.report.join(' / ')} ${r.stderr}`);
      return new Map(r.stdout.trim().split('\n').map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
    }

    const REFUSED = {
      ptrace: 'EPERM',
      process_vm_readv: 'EPERM',
      mount: 'EPERM',
      umount2: 'EPERM',
      pivot_root: 'EPERM',
      chroot: 'EPERM',
      unshare: 'EPERM',
      setns: 'EPERM',
      'clone(CLONE_NEWUSER)': 'EPERM',
      clone3: 'ENOSYS',
      keyctl: 'EPERM',
      add_key: 'EPERM',
      bpf: 'EPERM',
      perf_event_open: 'EPERM',
      userfaultfd: 'EPERM',
      io_uring_setup: 'EPERM',
      init_module: 'EPERM',
      reboot: 'EPERM',
      swapon: 'EPERM',
      settimeofday: 'EPERM',
      clock_settime: 'EPERM',
      syslog: 'EPERM',
      sysinfo: 'EPERM',
      'socket(AF_INET, SOCK_DGRAM)': 'EACCES',
      'socket(AF_INET6, SOCK_DGRAM)': 'EACCES',
      'socket(AF_INET, SOCK_RAW)': 'EACCES',
      'socket(AF_PACKET)': 'EAFNOSUPPORT',
      'socket(AF_NETLINK)': 'EAFNOSUPPORT',
      'socketpair(AF_INET)': 'EAFNOSUPPORT',
    };
    const ALLOWED = ['socket(AF_INET, SOCK_STREAM)', 'socket(AF_INET6, SOCK_STREAM)', 'socket(AF_UNIX, SOCK_STREAM)', 'socketpair(AF_UNIX)', 'fork'];

    it('refuses each call it names, with its errno, and allows what the runtime needs', () => {
      const results = runProbe(true);
      for (const [call, errno] of Object.entries(REFUSED)) expect([call, results.get(call)]).toEqual([call, errno]);
      for (const call of ALLOWED) expect([call, results.get(call)]).toEqual([call, 'OK']);
    });

    it('without it, the same calls give other answers: what refuses them is the filter', () => {
      const results = runProbe(false);
      // (Other refusals, mount or reboot say, an unprivileged uid meets anyway.)
      const byTheFilter = ['process_vm_readv', 'unshare', 'clone3', 'keyctl', 'bpf', 'perf_event_open', 'io_uring_setup', 'sysinfo', 'socket(AF_INET, SOCK_DGRAM)', 'socket(AF_NETLINK)'];
      for (const call of byTheFilter) expect([call, results.get(call)]).not.toEqual([call, REFUSED[call as keyof typeof REFUSED]]);
    });
  });

  describe('the exit notifier', () => {
    const node = (): string => resolveSandboxNode();

    it('reports the exit code the runtime asked for, from the kernel, before the exit line', () => {
      const r = spawnHelper(['--notify-exit', node(), '--', node(), '-e', 'process.exitCode = 7']);
      expect(r.report[0]).toMatch(/^pid \d+$/);
      expect(r.report[1]).toMatch(/^ended 7 [1-9]\d* -1 [1-9]\d*$/); // code, peak memory (kB), no cgroup, the runtime's CPU (ns)
      expect(r.report[2]).toMatch(/^exit 7 0 /);
    });

    it("reports the runtime's whole CPU with it, read before the process is reaped", () => {
      // 150 ms of CPU, not of wall time; the exit line's rusage says the same from the reap
      const busy = 'const t = process.cpuUsage(); for (;;) { for (let i = 0; i < 1e6; i += 1); if (process.cpuUsage(t).user >= 150_000) break; }';
      const r = spawnHelper(['--notify-exit', node(), '--', node(), '-e', busy]);
      const endedMs = Number(r.report[1]?.split(' ')[4]) / 1e6;
      const [, , , userUs, sysUs] = (r.report[2] ?? '').split(' ').map(Number) as number[];
      expect(endedMs).toBeGreaterThan(150);
      expect(endedMs).toBeLessThanOrEqual(((userUs ?? 0) + (sysUs ?? 0)) / 1000 + 5);
    });

    it('reports exit codes as the OS keeps them (256 is 0), and nothing for a death by signal', () => {
      expect(spawnHelper(['--notify-exit', node(), '--', node(), '-e', 'process.exit(256 + 3)']).report[1]).toMatch(/^ended 3 /);
      const killed = spawnHelper(['--notify-exit', node(), '--', node(), '-e', 'process.kill(process.pid, "SIGKILL")']);
      expect(killed.report.slice(1)).toEqual([expect.stringMatching(/^exit -1 9 /)]);
    });

    it("ignores another program's exit_group: only the runtime's counts", () => {
      const r = spawnHelper(['--notify-exit', node(), '--', '/bin/sh', '-c', 'exit 4']);
      expect(r.report.slice(1)).toEqual([expect.stringMatching(/^exit 4 0 /)]);
    });
  });

  describe('the output relay', () => {
    /** Runs `script` under corral-spawn, counting the chunks its stdout reaches us in. */
    function relayed(args: string[], script: string): Promise<{ bytes: number; chunks: number; report: string }> {
      return new Promise((resolve) => {
        const child = spawn(resolveSpawnHelper(), ['--status-fd', '3', ...args, '--', '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore', 'pipe'] });
        let bytes = 0;
        let chunks = 0;
        let report = '';
        child.stdout!.on('data', (d: Buffer) => {
          bytes += d.length;
          chunks += 1;
        });
        (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (report += d.toString()));
        child.once('close', () => resolve({ bytes, chunks, report }));
      });
    }
    // 20000 writes of one byte each (printf is a builtin: a write per call).
    const BYTES = 'i=0; while [ $i -lt 20000 ]; do printf x; i=$((i+1)); done';

    it('brings every byte of a byte-per-write job in a few chunks, and ends before the exit line', async () => {
      const r = await relayed(['--relay'], BYTES);
      expect(r.bytes).toBe(20000);
      expect(r.chunks).toBeLessThan(1000);
      expect(r.report).toMatch(/exit 0 0 /);
    });

    it('without it, the same job reaches the reader in many more pieces', async () => {
      const plain = await relayed([], BYTES);
      const piped = await relayed(['--relay'], BYTES);
      expect(plain.bytes).toBe(20000);
      expect(plain.chunks).toBeGreaterThan(piped.chunks * 3);
    });
  });
});
