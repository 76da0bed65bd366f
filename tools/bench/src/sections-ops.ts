import { formatMs, formatRatio } from './format';
import type { NetprovBenchResult } from './netprov';
import type { BootResult } from './results';
import type { WatchdogResult } from './scenarios/watchdog';
import type { Section } from './sections';
import { median, ratio } from './stats';
import { atMost, TARGETS, type TargetCheck } from './targets';

const pct = (share: number): string => `${(share * 100).toFixed(2)} %`;
const mib = (value: number): string => `${value.toFixed(1)} MiB`;

/** The jail layers' cost at boot (issue "Hostile code": at most 15 % more boot time than without). */
export function jailChecks(r: BootResult): TargetCheck[] {
  const plain = r.variants.find((v) => v.label === 'default');
  const jailed = r.variants.find((v) => v.label === 'jailed');
  if (!plain || !jailed) return [];
  const wall = ratio(jailed.readyMs.p50, plain.readyMs.p50);
  const cpu = ratio(jailed.cpuMs.p50 + (jailed.launcherCpuMs?.p50 ?? 0), plain.cpuMs.p50 + (plain.launcherCpuMs?.p50 ?? 0));
  return [
    { target: `jailed ÷ default boot, wall to ready ≤ ${TARGETS.jailBootRatio}×`, measured: formatRatio(wall), met: atMost(wall, TARGETS.jailBootRatio) },
    { target: `jailed ÷ default boot, CPU (with launchers) ≤ ${TARGETS.jailBootRatio}×`, measured: formatRatio(cpu), met: atMost(cpu, TARGETS.jailBootRatio) },
  ];
}

export function watchdogSection(r: WatchdogResult): Section {
  const worst = Math.max(...r.kills.afterMs);
  return {
    id: 'watchdog',
    title: '6. Watchdog overhead',
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
        rows: [['time from registration', formatMs(r.kills.budgetMs), formatMs(median(r.kills.afterMs)), formatMs(worst), formatMs(r.kills.limitMs)]],
      },
    ],
    checks: [
      { target: `watchdog CPU ≤ ${TARGETS.watchdogCoreShare * 100} % of one core`, measured: pct(r.watchdog.coreShare), met: atMost(r.watchdog.coreShare, TARGETS.watchdogCoreShare) },
      { target: `watchdog RSS ≤ ${TARGETS.watchdogRssMiB} MiB`, measured: mib(r.watchdog.rssMiB), met: atMost(r.watchdog.rssMiB, TARGETS.watchdogRssMiB) },
      { target: 'while(true) killed within budget + 2 ticks (worst)', measured: formatMs(worst), met: atMost(worst, r.kills.limitMs) },
    ],
    notes: [],
  };
}

export function netprovSection(r: NetprovBenchResult): Section {
  return {
    id: 'netprov',
    title: '7. netprov: 1000 tap slots',
    method: [
      `\`up\` and \`down\` of ${r.count} tap slots inside a network namespace the benchmark creates and deletes (no packet is sent), ` +
        `${r.rounds} round(s), medians. netprov changes everything through one \`ip -batch\` run; the baseline does the same steps the naive ` +
        'way, one `ip` process per step, one after another. "whole command" includes starting Node (netprov is a CLI); "its work" is what ' +
        'netprov reports for reading the state, planning and applying. Each timed command, of either way, starts once the cores are ' +
        'quiet (under 10 % busy over 200 ms, waiting at most 5 s): the kernel finishes tearing removed devices down after `ip` returns, ' +
        'and that work would otherwise be charged to whichever command comes next.',
    ],
    tables: [
      {
        headers: ['', 'up', 'down', 'up ÷ naive', 'down ÷ naive'],
        rows: [
          ['netprov, whole command', formatMs(r.netprov.upMs), formatMs(r.netprov.downMs), formatRatio(ratio(r.netprov.upMs, r.naive.upMs)), formatRatio(ratio(r.netprov.downMs, r.naive.downMs))],
          ['netprov, its work', formatMs(r.netprov.upWorkMs), formatMs(r.netprov.downWorkMs), '', ''],
          ['naive: one `ip` per step', formatMs(r.naive.upMs), formatMs(r.naive.downMs), '1.00×', '1.00×'],
        ],
      },
    ],
    checks: [
      { target: `up of ${r.count} taps < 1 s (whole command)`, measured: formatMs(r.netprov.upMs), met: atMost(r.netprov.upMs, TARGETS.netprovMs) },
      { target: `down of ${r.count} taps < 1 s (whole command)`, measured: formatMs(r.netprov.downMs), met: atMost(r.netprov.downMs, TARGETS.netprovMs) },
    ],
    notes: [],
  };
}
