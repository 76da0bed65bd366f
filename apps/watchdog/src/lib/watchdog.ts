import pidusage from 'pidusage';
import { killCgroup, readCgroupCpuMs } from '@corral/cgroup';
import type { WatchdogConfig } from '@corral/config';
import type { RunningSandbox } from '@corral/contracts';
import { Registry } from '@corral/registry';
import { runLoop, type Logger, type Running } from '@corral/service';
import { overBudget, type Sample } from './budget';

/** pidusage keeps an open /proc file per pid for this long after its last sample. */
const SAMPLE_HISTORY_MS = 5000;

/**
 * The sandbox's use so far: with a cgroup, the CPU of its whole process tree (its memory limit
 * is the cgroup's own); without, the runtime process's CPU and resident memory (pidusage).
 */
async function sample(sandbox: RunningSandbox): Promise<Sample | null> {
  if (sandbox.cgroup) {
    const cpuMs = readCgroupCpuMs(sandbox.cgroup);
    return cpuMs === null ? null : { cpuMs, rssBytes: null };
  }
  if (!(sandbox.pid > 0)) return null;
  try {
    const stats = await pidusage(sandbox.pid, { maxage: SAMPLE_HISTORY_MS });
    return { cpuMs: stats.ctime, rssBytes: stats.memory };
  } catch {
    return null; // the process ended between the registry read and the sample
  }
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
    url: config.redisUrl,
    prefix: config.redisPrefix,
    onError: (err) => log.warn({ err: err.message }, 'redis connection error'),
  });

  async function check(sandbox: RunningSandbox): Promise<void> {
    const current = await sample(sandbox);
    if (!current) return;
    const verdict = overBudget(sandbox, current, config.rssOverheadMb);
    if (!verdict) return;
    // The reason goes to Redis first; if the job ended meanwhile, the token no longer matches and nothing is killed.
    if (!(await registry.recordKill(sandbox.slotId, sandbox.token, verdict.reason))) return;
    killSandbox(sandbox);
    await registry.countKill(verdict.reason).catch(() => undefined);
    log.info({ slot: sandbox.slotId, pid: sandbox.pid, cgroup: Boolean(sandbox.cgroup), ...verdict }, 'killed a sandbox over its budget');
  }

  async function tick(): Promise<void> {
    const running = await registry.runningOn(config.hostId);
    await Promise.all(running.map(check));
  }

  // The slower sweep: a worker that stopped beating has its slots taken out of service (after
  // two sweeps in a row, so that a worker still starting is not hit), and a job that outlived
  // its lease (its worker is gone or stuck) is killed.
  let missedBeats = 0;
  async function sweep(): Promise<void> {
    if (await registry.workerAlive(config.hostId)) missedBeats = 0;
    else if ((missedBeats += 1) >= 2) {
      const orphans = await registry.runningOn(config.hostId);
      const taken = await registry.markHostDead(config.hostId);
      for (const sandbox of orphans) killSandbox(sandbox);
      if (taken > 0 || orphans.length > 0) log.warn({ slots: taken, orphans: orphans.length }, 'the worker stopped beating: its slots are out of service');
    }
    for (const sandbox of await registry.expiredRunning(config.hostId)) {
      if (!(await registry.recordKill(sandbox.slotId, sandbox.token, 'timeout'))) continue;
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
      await registry.close();
    },
  };
}
