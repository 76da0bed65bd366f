import { spawnSync } from 'node:child_process';
import { resolveSpawnHelper } from './paths';

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
});
