import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  hostCgroupFolders,
  listensOn,
  processTree,
  randomLoopbackBase,
  randomPrefix,
  REPO_ROOT,
  startRedisServer,
  startService,
  stillRunning,
  waitFor,
  type ProcessId,
  type RedisServer,
  type Stack,
} from '@corral/devkit';
import { corral, pool, startQuietStack } from './helpers';

/**
 * Nothing outlives its launcher: whichever process dies, by whatever signal (SIGKILL too),
 * everything it started is gone within a few seconds: services, redis-server, sandboxes, their
 * cgroup folders, the staging folder and listening sockets. And the jail policy: `required`
 * refuses to start without a layer, `auto` says what is off.
 */
const root = process.getuid?.() === 0;
const describeAsRoot = root ? describe : describe.skip;
if (!root) console.warn('lifecycle.test: skipped, sandboxes with every layer (and their cleanup) need root (CI runs as root)');

const STAGE_DIR = '/var/lib/corral/stage';
const LONG_JOB = { code: 'setTimeout(() => console.log("done"), 30_000)', timeoutMs: 40_000 };

/** Waits (at most 5 s) until none of `processes` runs and nothing of host `hostId` is left; says what is. */
async function nothingLeft(processes: readonly ProcessId[], hostId: string, ports: readonly number[]): Promise<void> {
  const left = (): string[] => [
    ...stillRunning(processes).map((p) => `process ${p.pid} (${p.comm})`),
    ...hostCgroupFolders(hostId).map((dir) => `cgroup folder ${dir}`),
    ...(existsSync(STAGE_DIR) ? readdirSync(STAGE_DIR).filter((name) => name.startsWith(`${hostId}-`)) : []).map((name) => `staging folder ${name}`),
    ...ports.filter(listensOn).map((port) => `a socket listening on port ${port}`),
  ];
  try {
    await waitFor('everything to be gone', () => left().length === 0, { timeoutMs: 5000, intervalMs: 50 });
  } catch {
    throw new Error(`left behind after 5 s: ${left().join(', ')}`);
  }
}

function runLongJobs(url: string, count: number): void {
  for (let i = 0; i < count; i += 1) {
    corral(url).execute(LONG_JOB).catch(() => undefined);
  }
}

/** Waits until `count` sandboxes below `pid` run a job (their runtime is up and the slots are busy). */
async function busySandboxes(url: string, count: number): Promise<void> {
  await waitFor(`${count} busy slots`, async () => (await pool(url)).busy >= count, {
    timeoutMs: 20_000,
  });
}

describeAsRoot('nothing outlives its launcher', () => {
  let stack: Stack | undefined;
  let launcher: ChildProcess | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    try {
      if (launcher?.pid) process.kill(-launcher.pid, 'SIGKILL');
    } catch {
      // gone
    }
    launcher = undefined;
  });

  /** The `npm start` launcher (tools/devkit), built, in a process group of its own like a terminal's; resolves when ready. */
  async function startLauncher(hostId: string, port: number): Promise<ChildProcess> {
    let log = '';
    const child = spawn(process.execPath, [join(REPO_ROOT, 'tools', 'devkit', 'dist', 'start.js')], {
      env: { ...process.env, PORT: String(port), CORRAL_SLOTS: '2', CORRAL_HOST_ID: hostId, CORRAL_LOOPBACK_BASE: randomLoopbackBase(), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    launcher = child;
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('the launcher to be ready', () => log.includes('Ctrl-C stops everything') || (child.exitCode !== null && Promise.reject(new Error(log))), {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    return child;
  }

  /** The launcher on a host id and port of its own, once two of its sandboxes run a long job, and its process tree then: what must all go. */
  async function launcherWithBusySandboxes(): Promise<{ child: ChildProcess; hostId: string; port: number; tree: ProcessId[] }> {
    const hostId = randomPrefix('life');
    const port = await freePort();
    const child = await startLauncher(hostId, port);
    const url = `http://127.0.0.1:${port}`;
    runLongJobs(url, 2);
    await busySandboxes(url, 2);
    return { child, hostId, port, tree: processTree(child.pid!) };
  }

  it('a SIGKILLed worker with busy sandboxes leaves no process, cgroup folder, staging folder or socket', async () => {
    stack = await startQuietStack(2);
    runLongJobs(stack.url, 2);
    await busySandboxes(stack.url, 2);
    const worker = stack.services.get('worker')!.child;
    const tree = processTree(worker.pid!);
    expect(tree.filter((p) => p.comm === 'corral-spawn').length).toBeGreaterThanOrEqual(2);
    expect(hostCgroupFolders(stack.hostId).length).toBeGreaterThan(0);
    process.kill(worker.pid!, 'SIGKILL');
    await nothingLeft(tree, stack.hostId, [Number(stack.env['CORRAL_WORKER_PORT'])]);
  }, 60_000);

  it('a SIGKILLed launcher takes the whole stack with it: services, redis-server, sandboxes', async () => {
    const { child, hostId, port, tree } = await launcherWithBusySandboxes();
    expect(tree.map((p) => p.comm)).toEqual(expect.arrayContaining(['redis-server', 'corral-spawn']));
    process.kill(child.pid!, 'SIGKILL');
    await nothingLeft(tree, hostId, [port]);
  }, 90_000);

  it("a supervisor's SIGTERM to the launcher's group, then SIGKILL a second later, leaves nothing", async () => {
    const { child, hostId, port, tree } = await launcherWithBusySandboxes();
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the launcher's group had already ended
    }
    await nothingLeft(tree, hostId, [port]);
  }, 90_000);
});

describeAsRoot('the jail policy (CORRAL_SANDBOX_JAIL)', () => {
  let redis: RedisServer;
  let noBwrap: string;
  beforeAll(async () => {
    redis = await startRedisServer();
    // A PATH on which everything the worker runs is found but bubblewrap.
    noBwrap = mkdtempSync(join(tmpdir(), 'corral-no-bwrap-'));
    symlinkSync('/usr/bin/ldd', join(noBwrap, 'ldd'));
  });
  afterAll(async () => {
    await redis.stop();
    rmSync(noBwrap, { recursive: true, force: true });
  });

  async function workerWithout(mode: string): Promise<{ log: () => string; worker: ReturnType<typeof startService> }> {
    let log = '';
    const hostId = randomPrefix('jail');
    const worker = startService(
      'worker',
      [],
      { PATH: noBwrap, REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: randomPrefix('jail'), CORRAL_HOST_ID: hostId, CORRAL_SANDBOX_JAIL: mode, CORRAL_WORKER_PORT: String(await freePort()) },
      (line) => (log += `${line}\n`),
    );
    return { log: () => log, worker };
  }

  it('required, on a host without bubblewrap, refuses to start and names the missing layer', async () => {
    const { log, worker } = await workerWithout('required');
    expect(await worker.exited).toBe(1);
    expect(log()).toMatch(/CORRAL_SANDBOX_JAIL=required, but the namespaces layer is off: bubblewrap is not installed/);
  }, 30_000);

  it('auto, on the same host, starts and says which layer is off and why', async () => {
    const { log, worker } = await workerWithout('auto');
    await waitFor('the worker to be ready', () => log().includes('worker ready') || (worker.child.exitCode !== null && Promise.reject(new Error(log()))), {
      timeoutMs: 30_000,
    });
    expect(log()).toMatch(/"layer":"namespaces","why":"off: bubblewrap is not installed.*jail layer off: namespaces/);
    expect(log()).not.toMatch(/jail layer off: (uid|cgroups)/);
    expect(await worker.stop()).toBe(0);
  }, 40_000);
});
