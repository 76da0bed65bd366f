import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomPrefix, REPO_ROOT, startRedisServer, startService } from '@corral/devkit';
import { prepareCgroups, readCgroupCpuMs, type SandboxCgroup } from '@corral/cgroup';
import { Registry } from '@corral/registry';
import { Cleanup } from '../cleanup';
import { readStat } from '../procfs';
import type { Progress } from '../progress';

const HOST = 'wdbench';
const SAMPLE_MS = 100;
const CLOCK_TICK_MS = 10;

export interface WatchdogResult {
  idle: number;
  busy: number;
  seconds: number;
  sampleMs: number;
  /** The watchdog service: CPU share of one core, resident memory. */
  watchdog: { coreShare: number; rssMiB: number };
  /** A naive watchdog that samples every sandbox's pid with pidusage each tick. */
  naive: { coreShare: number; rssMiB: number };
  /** A `while(true)` stand-in with a CPU budget: how long after its registration it was killed. */
  kills: { budgetMs: number; afterMs: number[]; limitMs: number };
  /** Whether the running stand-ins had cgroups (as on a root host) or were sampled with pidusage. */
  cgroups: boolean;
}

function cpuMs(pid: number): number {
  const stat = readStat(pid);
  return (stat.utimeTicks + stat.stimeTicks) * CLOCK_TICK_MS;
}

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** CPU share of one core a process used over `seconds`. */
async function measure(pid: number, seconds: number): Promise<{ coreShare: number; rssMiB: number }> {
  const before = cpuMs(pid);
  const started = performance.now();
  await sleep(seconds * 1000);
  const used = cpuMs(pid) - before;
  return { coreShare: used / (performance.now() - started), rssMiB: rssMiB(pid) };
}

function startStandIn(args: string[], cleanup: Cleanup): ChildProcess {
  const child = spawn(args[0] as string, args.slice(1), { stdio: 'ignore' });
  cleanup.add(`stand-in ${child.pid}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited; // gone before its cgroup is removed
  });
  return child;
}

/**
 * The watchdog's cost with `idle` idle sandboxes (stand-in processes: the watchdog never samples
 * them) and a few busy ones, side by side with a naive watchdog that samples every pid each
 * tick; then how fast it kills a `while(true)` over its CPU budget.
 */
export async function runWatchdogScenario(options: { idle: number; busy: number; seconds: number; rounds: number; progress: Progress; cleanup: Cleanup }): Promise<WatchdogResult> {
  // What this scenario starts is stopped when it ends, not with the harness: its busy stand-ins
  // alone would keep a third of a core busy through every later scenario.
  const cleanup = new Cleanup();
  const unregister = options.cleanup.add('the watchdog scenario', () => cleanup.runAll());
  try {
    return await measureWatchdog(options, cleanup);
  } finally {
    unregister();
    await cleanup.runAll((message) => options.progress.say(message));
  }
}

async function measureWatchdog(
  options: { idle: number; busy: number; seconds: number; rounds: number; progress: Progress },
  cleanup: Cleanup,
): Promise<WatchdogResult> {
  const { progress } = options;
  const redis = await startRedisServer({ password: randomBytes(12).toString('hex') });
  cleanup.add('the watchdog scenario redis-server', () => redis.stop());
  const prefix = randomPrefix('wdbench');
  const registry = await Registry.connect({ url: redis.url, prefix });
  cleanup.add('the watchdog scenario registry', () => registry.close());

  const counter = progress.counter(`watchdog: ${options.idle} idle stand-ins`, options.idle);
  const idle: ChildProcess[] = [];
  for (let i = 0; i < options.idle; i += 1) {
    idle.push(startStandIn(['sleep', '3600'], cleanup));
    counter.tick();
  }
  counter.done();
  const total = options.idle + options.busy + options.rounds;
  const slots = Array.from({ length: total }, (_, i) => ({ id: `${HOST}:${i}`, ip: `127.250.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  await registry.slots.publish(HOST, 'loopback', slots);
  for (const [i, child] of idle.entries()) await registry.slots.ready(HOST, `${HOST}:${i}`, '', child.pid ?? 0, 1);

  // As on a production host (root), each running sandbox has a cgroup; without root, none.
  const cgroups = process.getuid?.() === 0 ? prepareCgroups(`wdbench-${process.pid}`) : null;
  const host = cgroups?.ok ? cgroups : null;
  if (host) cleanup.add('the watchdog scenario cgroups', () => host.release());
  let sequence = 0;
  const inCgroup = (pid: number): SandboxCgroup | undefined => {
    if (!host) return undefined;
    const cg = host.sandbox(`bench-${(sequence += 1)}`);
    for (const dir of cg.dirs) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    }
    return cg; // removed by host.release() once its process is gone
  };

  const busy: ChildProcess[] = [];
  for (let i = 0; i < options.busy; i += 1) {
    const child = startStandIn([process.execPath, '-e', 'setInterval(() => { const e = Date.now() + 5; while (Date.now() < e); }, 50)'], cleanup);
    busy.push(child);
    const id = `${HOST}:${options.idle + i}`;
    await registry.slots.ready(HOST, id, '', child.pid ?? 0, 1);
    const lease = await registry.queue.claim(600_000, 'bench');
    if (!lease) throw new Error('no slot to run a busy stand-in on');
    const cgroup = inCgroup(child.pid ?? 0);
    await registry.jobs.start(
      HOST,
      { slotId: lease.slotId, token: lease.token, pid: child.pid ?? 0, pgid: child.pid ?? 0, cpuBaseMs: 0, cpuMs: 3_600_000, memoryMb: 4096, startedAt: Date.now(), ...(cgroup ? { cgroup } : {}) },
      600_000,
    );
  }

  const env = { ...process.env, REDIS_URL: redis.url, CORRAL_REDIS_PREFIX: prefix, CORRAL_HOST_ID: HOST, CORRAL_SAMPLE_MS: String(SAMPLE_MS), LOG_LEVEL: 'warn' };
  await registry.liveness.heartbeat(HOST, 3_600_000); // as if its worker were alive: the sweep leaves the slots alone
  const watchdog = startService('watchdog', [], env, 'ignore');
  cleanup.add('the watchdog service', () => watchdog.stop());
  await sleep(2000);
  const stopW = progress.timed(`watchdog: measuring the watchdog service for ${options.seconds} s`, options.seconds * 1000);
  const watched = await measure(watchdog.child.pid ?? 0, options.seconds);
  stopW();

  // The baseline: every pid sampled each tick (what the watchdog avoids by sampling only busy ones).
  const pids = [...idle, ...busy].map((c) => c.pid).join(',');
  const naiveCode = `const pidusage = require('pidusage'); const pids = process.argv[1].split(',').map(Number);
    const tick = async () => { try { await pidusage(pids); } catch {} setTimeout(tick, ${SAMPLE_MS}); }; tick();`;
  const naive = spawn(process.execPath, ['-e', naiveCode, pids], { cwd: REPO_ROOT, stdio: 'ignore' });
  cleanup.add('the naive watchdog', () => naive.kill('SIGKILL'));
  await sleep(2000);
  const stopN = progress.timed(`watchdog: measuring the naive baseline for ${options.seconds} s`, options.seconds * 1000);
  const naiveFigures = await measure(naive.pid ?? 0, options.seconds);
  stopN();
  naive.kill('SIGKILL');

  const budgetMs = 300;
  const afterMs: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const loop = startStandIn([process.execPath, '-e', 'for (;;) {}'], cleanup);
    await sleep(150); // let it boot: its boot is not part of the budget
    const id = `${HOST}:${options.idle + options.busy + round}`;
    await registry.slots.ready(HOST, id, '', loop.pid ?? 0, 1);
    let lease = await registry.queue.claim(60_000, 'bench');
    while (lease && lease.slotId !== id) lease = await registry.queue.claim(60_000, 'bench');
    if (!lease) throw new Error(`slot ${id} could not be claimed`);
    const exited = new Promise<number>((resolve) => loop.once('exit', () => resolve(performance.now())));
    const cgroup = inCgroup(loop.pid ?? 0);
    const base = cgroup ? (readCgroupCpuMs(cgroup) ?? 0) : cpuMs(loop.pid ?? 0);
    const registered = performance.now();
    await registry.jobs.start(
      HOST,
      { slotId: id, token: lease.token, pid: loop.pid ?? 0, pgid: loop.pid ?? 0, cpuBaseMs: base, cpuMs: budgetMs, memoryMb: 4096, startedAt: Date.now(), ...(cgroup ? { cgroup } : {}) },
      60_000,
    );
    afterMs.push((await exited) - registered);
  }
  await watchdog.stop();
  return {
    idle: options.idle,
    busy: options.busy,
    seconds: options.seconds,
    sampleMs: SAMPLE_MS,
    watchdog: watched,
    naive: naiveFigures,
    kills: { budgetMs, afterMs, limitMs: budgetMs + 2 * SAMPLE_MS },
    cgroups: host !== null,
  };
}

