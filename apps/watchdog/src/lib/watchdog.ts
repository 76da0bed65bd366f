import { availableParallelism } from 'node:os';
import pidusage from 'pidusage';
import { killCgroup, readCgroupCpuMs } from '@corral/cgroup';
import type { WatchdogConfig } from '@corral/config';
import type { RunningSandbox } from '@corral/contracts';
import { Registry } from '@corral/registry';
import { runLoop, type Logger, type Running } from '@corral/service';
import { overBudget, type Sample } from './budget';

/** pidusage keeps an open /proc file per pid for this long after its last sample. */
const SAMPLE_HISTORY_MS = 5000;
/** The longest a running sandbox with a cgroup goes unsampled. */
const MAX_SAMPLE_GAP_MS = 1000;

/**
 * What the sandboxes have used so far. With a cgroup: the CPU of the whole process tree, read
 * from the cgroup (its memory limit is the kernel's to enforce). Without: the runtime process's
 * CPU and resident memory, from one pidusage call for all of them (one per pid only when a
 * process ended between the registry read and the sample and the batch failed).
 */
async function sampleAll(sandboxes: readonly RunningSandbox[]): Promise<Map<RunningSandbox, Sample>> {
  const samples = new Map<RunningSandbox, Sample>();
  const byPid: RunningSandbox[] = [];
  for (const sandbox of sandboxes) {
    if (sandbox.cgroup) {
      const cpuMs = readCgroupCpuMs(sandbox.cgroup);
      if (cpuMs !== null) samples.set(sandbox, { cpuMs, rssBytes: null });
    } else if (sandbox.pid > 0) {
      byPid.push(sandbox);
    }
  }
  if (byPid.length === 0) return samples;
  const record = (sandbox: RunningSandbox, stat: { ctime: number; memory: number } | undefined): void => {
    if (stat) samples.set(sandbox, { cpuMs: stat.ctime, rssBytes: stat.memory });
  };
  try {
    const stats = await pidusage(byPid.map((s) => s.pid), { maxage: SAMPLE_HISTORY_MS });
    for (const sandbox of byPid) record(sandbox, stats[sandbox.pid]);
  } catch {
    await Promise.all(byPid.map(async (sandbox) => record(sandbox, await pidusage(sandbox.pid, { maxage: SAMPLE_HISTORY_MS }).catch(() => undefined))));
  }
  return samples;
}

/**
 * When a sandbox with a cgroup needs its next sample: it cannot burn more CPU than the cores
 * give it, so one far from its budget is looked at less often (never less than once a second).
 * One without a cgroup is sampled every tick, since its memory is only bounded by sampling.
 */
export function nextSampleAt(now: number, sandbox: RunningSandbox, sample: Sample, sampleMs: number, cores: number): number {
  if (!sandbox.cgroup) return now;
  const remaining = sandbox.cpuMs - (sample.cpuMs - sandbox.cpuBaseMs);
  return now + Math.max(0, Math.min(MAX_SAMPLE_GAP_MS, remaining / cores - sampleMs));
}

function signal(target: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(target, name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills the real sandbox tree so that nothing can fork while it dies: its cgroup when it has one
 * (v2 cgroup.kill, v1 freeze-kill-thaw); else its process group, stopped first, then killed.
 */
function killSandbox(sandbox: RunningSandbox): void {
  if (sandbox.cgroup) {
    try {
      killCgroup(sandbox.cgroup);
      return;
    } catch {
      // the cgroup is gone or unwritable: fall back to signals
    }
  }
  const group = sandbox.pgid > 0 ? sandbox.pgid : sandbox.pid;
  if (signal(-group, 'SIGSTOP')) signal(-group, 'SIGKILL');
  signal(sandbox.pid, 'SIGKILL');
}

export interface WatchdogHandle extends Running {
  /** One sampling pass (the loop runs these every `sampleMs`). */
  tick(): Promise<void>;
  /** One orphan sweep (the loop runs these every `sweepMs`). */
  sweep(): Promise<void>;
}

/**
 * Starts the host's watchdog: one loop that samples only the busy sandboxes of this host and
 * kills one over its budget after recording the reason in Redis, so the worker can report it.
 */
export async function startWatchdog(config: Readonly<WatchdogConfig>, log: Logger): Promise<WatchdogHandle> {
  const registry = await Registry.connect({
    redis: config.redis,
    prefix: config.redisPrefix,
    onError: (err) => log.warn({ err: err.message }, 'redis connection error'),
  });

  const cores = availableParallelism();
  /** Per running job (slot and token): when it is due for its next sample. */
  const due = new Map<string, number>();

  async function act(sandbox: RunningSandbox, current: Sample): Promise<void> {
    const verdict = overBudget(sandbox, current, config.rssOverheadMb);
    if (!verdict) return;
    // The reason goes to Redis first; if the job ended meanwhile, the token no longer matches and nothing is killed.
    if (!(await registry.jobs.recordKill(sandbox.slotId, sandbox.token, verdict.reason))) return;
    killSandbox(sandbox);
    await registry.jobs.countKill(verdict.reason).catch(() => undefined);
    log.info({ slot: sandbox.slotId, pid: sandbox.pid, cgroup: Boolean(sandbox.cgroup), ...verdict }, 'killed a sandbox over its budget');
  }

  // The host's running jobs, kept in memory: read again when a job starts ("running" event) and
  // at every sweep, so that a tick with nothing due costs no Redis round trip at all.
  let running: RunningSandbox[] = [];
  let stale = true;
  const unsubscribe = await registry.liveness.subscribe((event) => {
    if (event.type === 'running' && event.host === config.hostId) stale = true;
  });

  async function tick(): Promise<void> {
    if (stale) {
      stale = false;
      running = await registry.jobs.runningOn(config.hostId).catch((err: unknown) => {
        stale = true;
        throw err;
      });
    }
    const now = Date.now();
    const seen = new Set<string>();
    const dueNow = running.filter((sandbox) => {
      const key = `${sandbox.slotId} ${sandbox.token}`;
      seen.add(key);
      return (due.get(key) ?? 0) <= now;
    });
    for (const key of due.keys()) if (!seen.has(key)) due.delete(key);
    if (dueNow.length === 0) return;
    const samples = await sampleAll(dueNow);
    await Promise.all(
      [...samples].map(async ([sandbox, current]) => {
        due.set(`${sandbox.slotId} ${sandbox.token}`, nextSampleAt(now, sandbox, current, config.sampleMs, cores));
        await act(sandbox, current);
      }),
    );
  }

  // The slower sweep: a worker that stopped beating has its slots taken out of service (after
  // two sweeps in a row, so that a worker still starting is not hit), and a job that outlived
  // its lease (its worker is gone or stuck) is killed.
  let missedBeats = 0;
  let epoch = await registry.liveness.epoch();
  async function sweep(): Promise<void> {
    // Read the jobs again: drop those that ended since, catch a start whose event was lost.
    running = await registry.jobs.runningOn(config.hostId);
    stale = false;
    const current = await registry.liveness.epoch();
    if (current !== epoch) {
      // Redis lost its data, the heartbeat with it: count missed beats from now on.
      epoch = current;
      missedBeats = 0;
    } else if (await registry.liveness.workerAlive(config.hostId)) missedBeats = 0;
    else if ((missedBeats += 1) >= 2) {
      const orphans = await registry.jobs.runningOn(config.hostId);
      const taken = await registry.liveness.markHostDead(config.hostId);
      for (const sandbox of orphans) killSandbox(sandbox);
      if (taken > 0 || orphans.length > 0) log.warn({ slots: taken, orphans: orphans.length }, 'the worker stopped beating: its slots are out of service');
    }
    for (const sandbox of await registry.jobs.expired(config.hostId, running)) {
      if (!(await registry.jobs.recordKill(sandbox.slotId, sandbox.token, 'timeout'))) continue;
      killSandbox(sandbox);
      log.warn({ slot: sandbox.slotId, pid: sandbox.pid }, 'killed a sandbox that outlived its lease');
    }
  }

  const stop = new AbortController();
  const loop = runLoop(config.sampleMs, stop.signal, tick, (err) => log.error({ err }, 'watchdog tick failed'));
  const sweeps = runLoop(config.sweepMs, stop.signal, sweep, (err) => log.error({ err }, 'watchdog sweep failed'));
  log.info({ sampleMs: config.sampleMs, sweepMs: config.sweepMs }, 'watchdog running');
  return {
    tick,
    sweep,
    async close() {
      stop.abort();
      await Promise.all([loop, sweeps]);
      await unsubscribe();
      await registry.close();
    },
  };
}
