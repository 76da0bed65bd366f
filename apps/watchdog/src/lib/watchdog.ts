import pidusage from 'pidusage';
import type { WatchdogConfig } from '@corral/config';
import type { RunningSandbox } from '@corral/contracts';
import { Registry } from '@corral/registry';
import { runLoop, type Logger, type Running } from '@corral/service';
import { overBudget, type Sample } from './budget';

/** pidusage keeps an open /proc file per pid for this long after its last sample. */
const SAMPLE_HISTORY_MS = 5000;

async function sample(pid: number): Promise<Sample | null> {
  try {
    const stats = await pidusage(pid, { maxage: SAMPLE_HISTORY_MS });
    return { cpuMs: stats.ctime, rssBytes: stats.memory };
  } catch {
    return null; // the process ended between the registry read and the sample
  }
}

function killGroup(pid: number): void {
  // The sandbox leads its own process group: kill the group so nothing it started survives.
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      return;
    } catch {
      // no such group: try the process itself
    }
  }
}

export interface WatchdogHandle extends Running {
  /** One sampling pass (the loop runs these every `sampleMs`). */
  tick(): Promise<void>;
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
    if (!(sandbox.pid > 0)) return;
    const current = await sample(sandbox.pid);
    if (!current) return;
    const verdict = overBudget(sandbox, current, config.rssOverheadMb);
    if (!verdict) return;
    // The reason goes to Redis first; if the job ended meanwhile, the token no longer matches and nothing is killed.
    if (!(await registry.recordKill(sandbox.slotId, sandbox.token, verdict.reason))) return;
    killGroup(sandbox.pid);
    log.info({ slot: sandbox.slotId, pid: sandbox.pid, ...verdict }, 'killed a sandbox over its budget');
  }

  async function tick(): Promise<void> {
    const running = await registry.runningOn(config.hostId);
    await Promise.all(running.map(check));
  }

  const stop = new AbortController();
  const loop = runLoop(config.sampleMs, stop.signal, tick, (err) => log.error({ err }, 'watchdog tick failed'));
  log.info({ sampleMs: config.sampleMs }, 'watchdog running');
  return {
    tick,
    async close() {
      stop.abort();
      await loop;
      await registry.close();
    },
  };
}
