import { formatMs } from '../format';
import { median } from '../stats';
import { atMost } from '../targets';
import type { Scenario } from './scenario';
import { runWatchdogScenario, type WatchdogResult } from './watchdog-measure';

export const WATCHDOG_TARGETS = {
  /** Watchdog CPU, share of one core with 1000 idle and a few busy sandboxes, at most. */
  coreShare: 0.01,
  /** Watchdog resident memory, MiB, at most. */
  rssMiB: 60,
} as const;

const pct = (share: number): string => `${(share * 100).toFixed(2)} %`;
const mib = (value: number): string => `${value.toFixed(1)} MiB`;

/** Scenario 6: the watchdog's CPU and memory beside a naive one, and how fast it kills a while(true). */
export const watchdog: Scenario<WatchdogResult> = {
  id: 'watchdog',
  title: '6. Watchdog overhead',
  needs: [],

  run(ctx) {
    return runWatchdogScenario({ ...ctx.plan.watchdog, progress: ctx.progress, cleanup: ctx.cleanup });
  },

  render(r) {
    return {
      method: [
        `A private redis-server holds ${r.idle} idle slots whose "sandboxes" are stand-in processes (\`sleep\`: the watchdog never samples an idle ` +
          `sandbox, so their runtime does not matter) and ${r.busy} running jobs (node processes busy 10 % of the time, under large budgets, ` +
          `${r.cgroups ? 'each in a cgroup of its own as on a root host' : 'without cgroups: this run was not root'}). ` +
          `The watchdog service (sampling every ${r.sampleMs} ms, its sweep every 2 s) runs for ${r.seconds} s; its CPU comes from /proc/<pid>/stat ` +
          'and its resident memory from VmRSS. The baseline, same length and tick, is a naive watchdog that samples every pid with pidusage. ' +
          `Then ${r.kills.afterMs.length} times a \`for(;;){}\` stand-in is registered as running with a budget of ${r.kills.budgetMs} ms of CPU ` +
          '(its boot not counted); the time from registration to its death is measured.',
      ],
      tables: [
        {
          headers: ['process', 'CPU, share of one core', 'resident memory'],
          rows: [
            [`watchdog (samples the ${r.busy} busy only)`, pct(r.watchdog.coreShare), mib(r.watchdog.rssMiB)],
            [`naive: pidusage over all ${r.idle + r.busy} pids each tick`, pct(r.naive.coreShare), mib(r.naive.rssMiB)],
          ],
        },
        {
          headers: ['kill of a while(true)', 'budget', 'killed after (median)', 'worst', 'limit: budget + 2 ticks'],
          rows: [['time from registration', formatMs(r.kills.budgetMs), formatMs(median(r.kills.afterMs)), formatMs(Math.max(...r.kills.afterMs)), formatMs(r.kills.limitMs)]],
        },
      ],
      notes: [],
    };
  },

  targets(r) {
    const worst = Math.max(...r.kills.afterMs);
    return [
      { target: `watchdog CPU ≤ ${WATCHDOG_TARGETS.coreShare * 100} % of one core`, measured: pct(r.watchdog.coreShare), met: atMost(r.watchdog.coreShare, WATCHDOG_TARGETS.coreShare) },
      { target: `watchdog RSS ≤ ${WATCHDOG_TARGETS.rssMiB} MiB`, measured: mib(r.watchdog.rssMiB), met: atMost(r.watchdog.rssMiB, WATCHDOG_TARGETS.rssMiB) },
      { target: 'while(true) killed within budget + 2 ticks (worst)', measured: formatMs(worst), met: atMost(worst, r.kills.limitMs) },
    ];
  },
};
