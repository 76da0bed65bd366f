import { loadWorkerConfig } from '@corral/config';
import { sandboxProfile } from '@corral/sandbox';
import type { Cleanup } from '../cleanup';
import { formatMiB, formatMs, formatRatio, type Table } from '../format';
import { ratio } from '../stats';
import { atMost, type TargetCheck } from '../targets';
import { runBootScenario, type BootResult, type BootVariant, type JailFloor } from './boot-sampling';
import type { Scenario } from './scenario';

export const BOOT_TARGETS = {
  /** Warm sandbox RSS ÷ idle bare node RSS, at most. */
  rssRatio: 1.15,
  /** The jail layers' cost: jailed ÷ unjailed sandbox boot (wall to ready, and CPU), at most. */
  jailRatio: 1.15,
} as const;

const kb = (value: number): string => formatMiB(value * 1024);

/**
 * The sandbox as the worker boots it (every layer this host allows: as root bubblewrap, a uid, a
 * cgroup, seccomp), side by side with the jail off (the permission model and rlimits only): both
 * from the worker's own profile and default configuration.
 */
function bootVariants(cleanup: Cleanup): BootVariant[] {
  const settings = (mode: string) =>
    loadWorkerConfig({ CORRAL_HOST_ID: `bench-${process.pid}`, CORRAL_SANDBOX_JAIL: mode, CORRAL_SANDBOX_NODE: process.env['CORRAL_SANDBOX_NODE'] });
  const plain = sandboxProfile(settings('off'), `bench-plain-${process.pid}`);
  const jailed = sandboxProfile(settings('auto'));
  cleanup.add('the benchmark cgroups and staging', () => {
    plain.release();
    jailed.release();
  });
  const layers = Object.entries(jailed.jail.layers).map(([layer, state]) => `${layer}: ${state}`).join('; ');
  return [
    {
      label: 'default',
      description: 'the permission model, an empty environment and the baseline rlimits under corral-spawn; no further jail layers',
      options: () => plain.options({ slotIndex: 0, heapMb: 128 }),
    },
    {
      label: 'jailed',
      description: `every layer this host allows, as the worker boots it (${layers})`,
      options: (sample) => jailed.options({ slotIndex: 0, generation: sample, heapMb: 128 }),
    },
  ];
}

/** The jail layers' cost at boot: at most 15 % more boot time than without. */
function jailChecks(r: BootResult): TargetCheck[] {
  const plain = r.variants.find((v) => v.label === 'default');
  const jailed = r.variants.find((v) => v.label === 'jailed');
  if (!plain || !jailed) return [];
  const wall = ratio(jailed.readyMs.p50, plain.readyMs.p50);
  const cpu = ratio(jailed.cpuMs.p50 + (jailed.launcherCpuMs?.p50 ?? 0), plain.cpuMs.p50 + (plain.launcherCpuMs?.p50 ?? 0));
  return [
    { target: `jailed ÷ default boot, wall to ready ≤ ${BOOT_TARGETS.jailRatio}×`, measured: formatRatio(wall), met: atMost(wall, BOOT_TARGETS.jailRatio) },
    { target: `jailed ÷ default boot, CPU (with launchers) ≤ ${BOOT_TARGETS.jailRatio}×`, measured: formatRatio(cpu), met: atMost(cpu, BOOT_TARGETS.jailRatio) },
  ];
}

function variantName(r: BootResult, label: string): string {
  return `warm sandbox${r.variants.length > 1 || label !== 'default' ? ` (${label})` : ''}`;
}

function floorNote(f: JailFloor): string {
  return (
    `The jail's floor: ${f.runs} runs each of \`node -e 0\` under corral-spawn alone and behind every layer of the ${f.label} variant ` +
    "(corral-spawn's cgroups, uid, rlimits and seccomp filter, then bubblewrap's namespaces and mounts, exactly as the worker's sandboxes get them), " +
    "with nothing of corral's own: no bootstrap, no runtime flags, no worker. No execution behind every layer can cost less. " +
    "CPU is user + system of every process below corral-spawn, from its wait4 (bubblewrap's processes too); machine CPU is the busy " +
    "time of all cores (/proc/stat) across the runs, divided by the runs: it adds what the kernel does for them on its own threads " +
    "(namespaces and mounts torn down after the processes ended), ±10 ms in all. One process at a time, the order alternating:"
  );
}

function floorTable(f: JailFloor): Table {
  return {
    headers: ['`node -e 0`, one at a time', 'runs', 'wall p50', 'CPU p50', 'CPU IQR', 'machine CPU per run', '÷ bare (machine CPU)'],
    rows: [
      ['under corral-spawn alone', String(f.runs), formatMs(f.bareWallMs.p50), formatMs(f.bareCpuMs.p50), formatMs(f.bareCpuMs.iqr), formatMs(f.bareMachineMs), '1.00×'],
      [
        `behind every layer (${f.label})`,
        String(f.runs),
        formatMs(f.jailedWallMs.p50),
        formatMs(f.jailedCpuMs.p50),
        formatMs(f.jailedCpuMs.iqr),
        formatMs(f.jailedMachineMs),
        formatRatio(ratio(f.jailedMachineMs, f.bareMachineMs)),
      ],
    ],
  };
}

/** Scenario 3: CPU and memory of one warm sandbox (a variant per jail), against `node -e 0` and an idle bare node. */
export const boot: Scenario<BootResult> = {
  id: 'boot',
  title: '3. Sandbox boot: CPU and memory of one warm sandbox',
  needs: [],

  run(ctx) {
    return runBootScenario({ ...ctx.plan.boot, variants: bootVariants(ctx.cleanup), progress: ctx.progress, cleanup: ctx.cleanup });
  },

  render(r) {
    const cpuRows: string[][] = [];
    const memRows: string[][] = [];
    const launcher = "  + its launcher (corral-spawn, and a jail's processes)";
    for (const v of r.variants) {
      const name = variantName(r, v.label);
      cpuRows.push([
        `${name}: booted, waiting`,
        String(v.samples),
        formatMs(v.readyMs.p50),
        formatMs(v.cpuMs.p50),
        formatMs(v.cpuMs.iqr),
        formatMs(v.mainThreadCpuMs.p50),
        formatRatio(ratio(v.cpuMs.p50, r.bareCpuMs.p50)),
      ]);
      if (v.launcherCpuMs) cpuRows.push([launcher, String(v.samples), '', formatMs(v.launcherCpuMs.p50), formatMs(v.launcherCpuMs.iqr), '', '']);
      memRows.push([
        `${name}: booted, waiting`,
        kb(v.rssKb.p50),
        kb(v.rssKb.iqr),
        kb(v.rssAnonKb.p50),
        kb(v.rssFileKb.p50),
        v.pssKb ? kb(v.pssKb.p50) : 'n/a',
        formatRatio(ratio(v.rssKb.p50, r.idleRssKb.p50)),
      ]);
      if (v.launcherRssKb) memRows.push([launcher, kb(v.launcherRssKb.p50), kb(v.launcherRssKb.iqr), '', '', '', '']);
    }
    cpuRows.push(['`node -e 0`: whole life, exit included', String(r.bareCpuMs.n), formatMs(r.bareWallMs.p50), formatMs(r.bareCpuMs.p50), formatMs(r.bareCpuMs.iqr), '', '1.00×']);
    cpuRows.push(['idle bare node: booted, waiting', String(r.idleCpuMs.n), '', formatMs(r.idleCpuMs.p50), formatMs(r.idleCpuMs.iqr), '', formatRatio(ratio(r.idleCpuMs.p50, r.bareCpuMs.p50))]);
    memRows.push([
      'idle bare node `node -e "setInterval(()=>{},1e9)"`',
      kb(r.idleRssKb.p50),
      kb(r.idleRssKb.iqr),
      kb(r.idleRssAnonKb.p50),
      kb(r.idleRssFileKb.p50),
      r.idlePssKb ? kb(r.idlePssKb.p50) : 'n/a',
      '1.00×',
    ]);
    memRows.push(['`node -e 0` peak (maxrss)', kb(r.bareMaxRssKb.p50), kb(r.bareMaxRssKb.iqr), '', '', '', formatRatio(ratio(r.bareMaxRssKb.p50, r.idleRssKb.p50))]);
    return {
      method: [
        `${r.samples} samples of each, one process at a time, nothing else running. A warm sandbox is a \`Sandbox\` from @corral/sandbox ` +
          '(corral-spawn → sandbox runtime with `--permission`, the bootstrap, the heap limit and the baseline rlimits the worker uses), ' +
          `booted and waiting for its job; it and the idle bare node are sampled ${r.sampleAfterMs} ms after they were started. ` +
          'CPU of a live process is the sum of /proc/<pid>/task/*/schedstat (every thread, ns); `node -e 0` is measured over its whole life ' +
          '(user + system of every thread from wait4 through corral-spawn, exit included). Resident memory is VmRSS from /proc/<pid>/status ' +
          '(RssAnon: private heap and stacks; RssFile: mapped binary pages, shared between all sandboxes on a host; PSS from smaps_rollup). ' +
          'Figures are medians; IQR = p75 − p25 across samples.',
        `Sandbox variants: ${r.variants.map((v) => `**${v.label}**${v.description ? ` (${v.description})` : ''}`).join(', ')}.`,
      ],
      tables: [
        { headers: ['process', 'samples', 'wall to ready / exit', 'CPU p50', 'CPU IQR', 'main thread CPU', '÷ `node -e 0` CPU'], rows: cpuRows },
        { headers: ['process', 'VmRSS p50', 'VmRSS IQR', 'RssAnon', 'RssFile', 'PSS', '÷ idle bare RSS'], rows: memRows },
      ],
      notes: r.floor ? [floorNote(r.floor)] : [],
      ...(r.floor ? { extraTables: [floorTable(r.floor)] } : {}),
    };
  },

  targets(r) {
    const rssChecks = r.variants.map((v): TargetCheck => {
      const rss = ratio(v.rssKb.p50, r.idleRssKb.p50);
      return {
        target: `warm sandbox${r.variants.length > 1 ? ` (${v.label})` : ''} RSS ≤ ${BOOT_TARGETS.rssRatio} × idle bare node`,
        measured: formatRatio(rss),
        met: atMost(rss, BOOT_TARGETS.rssRatio),
      };
    });
    return [...rssChecks, ...jailChecks(r)];
  },
};
