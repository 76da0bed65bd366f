import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@corral/devkit';

/**
 * The image built (tools/scripts/image.mjs) and executions run through its containers
 * (tools/scripts/image-run.mjs): netprov, worker, watchdog and router, each a container, the
 * worker with exactly the privileges docs/deploy.md lists and every jail layer on. Opt-in
 * (CORRAL_IMAGE_TEST=1): it needs root and podman, and takes about a minute. Sends nothing off
 * the machine (--offline): the base images must already be in podman's store (`npm run image`
 * makes them once from the Debian mirror); it fails saying so when they are not.
 */
const enabled = process.env['CORRAL_IMAGE_TEST'] === '1';
if (!enabled) console.warn('image.test.ts: skipped; set CORRAL_IMAGE_TEST=1 (root, podman, the bases from `npm run image`) to build the image and run executions through it');
const maybe = enabled ? it : it.skip;
const TAG = 'localhost/corral:e2e';

interface Built {
  sizeBytes: number;
  seconds: number;
  run: { httpStatus: number; status: string; stdout: string; outcomes: Record<string, string>; idleAgain: boolean; startToIdleMs: number; executionMs: number; layers: string; stopMs: number; cgroupsLeft: string[] };
}

/** Runs image.mjs to its end (killed past `timeoutMs`); resolves with its JSON line. */
function buildAndRun(timeoutMs: number): Promise<Built> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'tools', 'scripts', 'pinned'), ['node', join(REPO_ROOT, 'tools', 'scripts', 'image.mjs'), '--tag', TAG, '--offline', '--run', '--json'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Built);
      else reject(new Error(`image.mjs exited with ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}

afterAll(() => {
  if (enabled) spawnSync('podman', ['--runtime', 'runc', 'rmi', '--force', TAG], { stdio: 'ignore' });
});

maybe(
  'the image builds offline, and through its containers a job runs with every jail layer on; wall time, CPU and memory limits hold',
  async () => {
    const built = await buildAndRun(540_000);
    console.log(`image ${TAG}: ${(built.sizeBytes / 1e6).toFixed(0)} MB, built in ${built.seconds.toFixed(1)} s; ready ${built.run.startToIdleMs} ms after netprov started, first execution ${built.run.executionMs} ms, all stopped in ${built.run.stopMs} ms`);
    expect(built.sizeBytes).toBeGreaterThan(100e6);
    const { run } = built;
    expect([run.httpStatus, run.status, run.stdout]).toEqual([200, 'ok', '42\n']);
    expect(run.outcomes).toEqual({ ok: 'ok', wall: 'timeout', cpu: 'cpu_limit', memory: 'memory_limit' });
    expect(run.idleAgain).toBe(true);
    // Stopped gracefully, the worker leaves nothing in the host's cgroup hierarchy.
    expect(run.cgroupsLeft).toEqual([]);
    const { mode, layers } = JSON.parse(run.layers) as { mode: string; layers: Record<string, string> };
    expect(mode).toBe('required');
    expect(layers['namespaces']).toMatch(/^bubblewrap/);
    expect(layers['cgroups']).toMatch(/^cgroup v[12]/);
    expect(layers['uid']).toMatch(/^uid\/gid 200000/);
    expect(layers['seccomp']).toMatch(/^on/);
  },
  600_000,
);
