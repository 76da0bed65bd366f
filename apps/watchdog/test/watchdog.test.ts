import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { prepareCgroups, type SandboxCgroup } from '@corral/cgroup';
import { loadWatchdogConfig } from '@corral/config';
import { randomPrefix, startRedisServer, waitFor, type RedisServer } from '@corral/devkit';
import { Registry } from '@corral/registry';
import { registryTesting } from '@corral/registry/testing';
import { createLogger } from '@corral/service';
import { startWatchdog, type WatchdogHandle } from '../src/lib/watchdog';

/**
 * The watchdog against a real Redis and real processes. Stand-ins for sandboxes are plain node
 * processes in process groups of their own, registered as running jobs the way a worker does.
 */
let redis: RedisServer;
let registry: Registry;
let watchdog: WatchdogHandle;
const host = 'wd1';
const children: ChildProcess[] = [];

function busyProcess(code: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  children.push(child);
  return new Promise((resolve) => child.once('spawn', () => resolve(child)));
}

function ended(child: ChildProcess): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(String(child.signalCode ?? child.exitCode));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(String(signal ?? code))));
}

/** Registers `pid` as the running job of slot `index`, with the given budgets; returns the token. */
async function running(index: number, pid: number, cpuMs: number, memoryMb = 512, cgroup?: SandboxCgroup): Promise<string> {
  const id = `${host}:${index}`;
  await registry.slots.publish(host, 'loopback', [0, 1, 2].map((i) => ({ id: `${host}:${i}`, ip: `127.9.9.${i + 1}` })));
  await registry.slots.ready(host, id, '', pid, 7070);
  let lease = await registry.queue.claim(60_000, 'test');
  while (lease && lease.slotId !== id) lease = await registry.queue.claim(60_000, 'test');
  expect(lease?.slotId).toBe(id);
  await registry.jobs.start(host, { slotId: id, token: lease!.token, pid, pgid: pid, cpuBaseMs: 0, cpuMs, memoryMb, startedAt: Date.now(), ...(cgroup ? { cgroup } : {}) }, 60_000);
  return lease!.token;
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  const prefix = randomPrefix('watchdog');
  registry = await Registry.connect({ url: redis.url, prefix });
  watchdog = await startWatchdog(
    loadWatchdogConfig({ REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: prefix, CORRAL_HOST_ID: host, CORRAL_SAMPLE_MS: '50', CORRAL_SWEEP_MS: '60000' }),
    createLogger('watchdog', 'silent'),
  );
});
afterEach(async () => {
  await watchdog.close();
  await registry.close();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('watchdog (real Redis, real processes)', () => {
  it('kills a busy loop over its CPU budget within a few ticks, after recording the reason', async () => {
    const loop = await busyProcess('while (true) {}');
    await running(0, loop.pid!, 300);
    const started = Date.now();
    expect(await ended(loop)).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(300 + 1000);
    expect(await registry.jobs.killReason(`${host}:0`)).toBe('cpu_limit');
  });

  it('kills the whole process group of the sandbox', async () => {
    const leader = await busyProcess(
      "require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); while (true) {}",
    );
    await running(0, leader.pid!, 200);
    expect(await ended(leader)).toBe('SIGKILL');
    // the grandchild was in the same group: nothing of the group is left
    await waitFor('the group to be gone', () => {
      try {
        process.kill(-leader.pid!, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  it('kills a process over its resident-memory budget with memory_limit', async () => {
    const hog = await busyProcess('const keep = []; setInterval(() => keep.push(Buffer.alloc(32 * 1024 * 1024, 1)), 20)');
    await running(1, hog.pid!, 60_000, 16);
    expect(await ended(hog)).toBe('SIGKILL');
    expect(await registry.jobs.killReason(`${host}:1`)).toBe('memory_limit');
  });

  it('leaves alone what is within budget, and what no longer holds the token', async () => {
    const idle = await busyProcess('setInterval(() => {}, 1000)');
    await running(2, idle.pid!, 60_000);
    const busy = await busyProcess('while (true) {}');
    const token = await running(0, busy.pid!, 100);
    // the job "ended" (the slot was released) before the watchdog could act: the kill must not happen
    await registry.slots.ready(host, `${host}:0`, token, busy.pid!, 7070);
    await new Promise((r) => setTimeout(r, 400));
    expect(idle.exitCode).toBeNull();
    expect(idle.signalCode).toBeNull();
    expect(busy.signalCode).toBeNull();
  });

  const root = process.getuid?.() === 0;
  (root ? it : it.skip)('with a cgroup: counts the CPU of the whole tree and freezes it before the kill (needs root)', async () => {
    const cgroups = prepareCgroups(`wd-${process.pid}`);
    if (!cgroups.ok) throw new Error(`cgroups unavailable as root: ${cgroups.reason}`);
    const cg = cgroups.sandbox('t1');
    for (const dir of cg.dirs) mkdirSync(dir, { recursive: true });
    // Two busy processes share one budget: neither alone is over it for a while, the tree is.
    const parent = await busyProcess(
      "require('child_process').spawn(process.execPath, ['-e', 'while (true) {}'], { stdio: 'ignore' }); while (true) {}",
    );
    for (const dir of cg.dirs) writeFileSync(`${dir}/cgroup.procs`, String(parent.pid));
    await new Promise((r) => setTimeout(r, 100)); // the child is spawned after the move, so it joins too
    await running(0, parent.pid!, 400, 512, cg);
    expect(await ended(parent)).toBe('SIGKILL');
    expect(await registry.jobs.killReason(`${host}:0`)).toBe('cpu_limit');
    await waitFor('the cgroup to be empty', () => readFileSync(cg.procsFile, 'latin1').trim() === '');
    cgroups.release();
  });

  it('sweeps: a silent worker has its slots taken out of service, a job past its lease is killed', async () => {
    await registry.liveness.heartbeat(host, 60_000); // the worker is alive
    const stuck = await busyProcess('setInterval(() => {}, 1000)');
    await running(0, stuck.pid!, 60_000);
    await registryTesting(registry).expireLease(`${host}:0`); // its lease ran out
    await watchdog.sweep();
    expect(await ended(stuck)).toBe('SIGKILL');
    expect(await registry.jobs.killReason(`${host}:0`)).toBe('timeout');
    // The worker falls silent: after two sweeps in a row its slots are out of service.
    await registry.slots.ready(host, `${host}:1`, '', 1, 7070);
    await registryTesting(registry).dropHeartbeat(host);
    await watchdog.sweep();
    expect((await registry.slots.pool()).slots.find((s) => s.id === `${host}:1`)?.state).toBe('idle'); // one silent sweep is not enough
    await watchdog.sweep();
    expect((await registry.slots.pool()).slots.every((s) => s.state === 'dead')).toBe(true);
  });

  it('does not count a heartbeat lost with Redis data as a silent worker', async () => {
    await registry.liveness.heartbeat(host, 60_000);
    await registry.slots.publish(host, 'loopback', [{ id: `${host}:1`, ip: '127.9.9.2' }]);
    await registry.slots.ready(host, `${host}:1`, '', 1, 7070);
    await watchdog.sweep();
    // Redis restarted empty: the epoch and the heartbeat are gone (the worker publishes its slots again).
    await registryTesting(registry).dropHeartbeat(host);
    await registryTesting(registry).dropEpoch();
    await watchdog.sweep();
    await watchdog.sweep();
    expect((await registry.slots.pool()).slots.find((s) => s.id === `${host}:1`)?.state).toBe('idle');
    // Still silent afterwards: then it is.
    await watchdog.sweep();
    expect((await registry.slots.pool()).slots.every((s) => s.state === 'dead')).toBe(true);
  });

  it('survives a sandbox that vanished between the registry read and the sample', async () => {
    const gone = await busyProcess('0');
    await ended(gone);
    await running(0, gone.pid!, 1);
    await expect(watchdog.tick()).resolves.toBeUndefined();
  });
});
