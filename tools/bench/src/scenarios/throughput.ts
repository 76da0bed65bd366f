import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnLoop } from '../baselines';
import { formatRate, formatRatio } from '../format';
import { closedLoop } from '../http';
import { cgroupCpuReader, childrenNamed, processCpu } from '../procfs';
import { median, rateInWindow, ratio, summarize } from '../stats';
import { atLeast, atMost } from '../targets';
import { boot } from './boot';
import type { JailFloor } from './boot-sampling';
import { execute, waitAllIdle } from './context';
import { CpuAccountant, cpuTable, type CpuAccount, type CpuCounters } from './cpu-account';
import type { Scenario, ScenarioContext } from './scenario';

/** corral executions/s ÷ bare `node -e 0` rate, at least. */
export const THROUGHPUT_RATIO = 0.85;
/** Every core's CPU per jailed execution ÷ that per bare `node -e 0`, at most. */
export const CPU_RATIO = 1.25;

export interface ThroughputResult {
  slots: number;
  clients: number;
  /** `node -e 0` processes kept running at once for the bare rate. */
  bareConcurrency: number;
  rounds: number;
  roundSeconds: number;
  warmupSeconds: number;
  /** Executions answered `ok` per second, one figure per round. */
  corralRates: number[];
  /** `node -e 0` completions per second, one figure per round. */
  bareRates: number[];
  /** Answers other than 200 `ok`, by HTTP status or execution status. */
  corralErrors: Record<string, number>;
  /** Where the CPU went inside the measuring windows of all rounds. */
  corralCpu: CpuAccount;
  bareCpu: CpuAccount;
}

type Ctx = ScenarioContext<'stack'>;

function harnessCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** What to account for while corral runs: each service, the sandboxes (the worker's reaped children), Redis, the harness. */
function corralCounters(ctx: Ctx): CpuCounters {
  const pid = (name: string): number => {
    const value = ctx.stack.services.get(name)?.child.pid;
    if (value === undefined) throw new Error(`no ${name} process`);
    return value;
  };
  // Jailed sandboxes have cgroups of their own under the host's (the worker's layout); their
  // accounting counts every process that ran in them. A sandbox killed inside bubblewrap's pid
  // namespace may never reach the worker's reaped-children time, so that is the fallback only.
  const cgroup = cgroupCpuReader(`corral/${ctx.stack.hostId}`);
  const counters: CpuCounters = [
    cgroup
      ? ["sandboxes: boot, job, exit (their cgroups' CPU accounting)", cgroup]
      : ["sandboxes: boot, job, exit (the worker's reaped children: corral-spawn and below)", () => processCpu(pid('worker')).childrenMs],
    ['worker', () => processCpu(pid('worker')).ownMs],
    ['router', () => processCpu(pid('router')).ownMs],
    ['watchdog', () => processCpu(pid('watchdog')).ownMs],
  ];
  const redis = childrenNamed(process.pid, 'redis-server')[0];
  if (redis !== undefined) counters.push(['redis-server', () => processCpu(redis).ownMs]);
  counters.push(['harness (load generator)', harnessCpuMs]);
  return counters;
}

/** Executions/s at saturation against the bare `node -e 0` spawn rate of the same cores, round by round. */
async function measure(ctx: Ctx): Promise<ThroughputResult> {
  const { clients, bareConcurrency, rounds, roundSeconds, warmupSeconds } = ctx.plan.throughput;
  const corralRates: number[] = [];
  const bareRates: number[] = [];
  const corralErrors: Record<string, number> = {};
  const windowMs = roundSeconds * 1000;
  const warmMs = warmupSeconds * 1000;
  const { cores } = ctx;
  const corralCpu = new CpuAccountant(corralCounters(ctx), cores);
  const bareCpu = new CpuAccountant(
    [
      ['`node -e 0` processes', () => processCpu('self').childrenMs],
      ['harness (spawning them)', harnessCpuMs],
    ],
    cores,
  );

  const corralRound = async (round: number): Promise<void> => {
    await waitAllIdle(ctx);
    const stop = ctx.progress.timed(`throughput round ${round}/${rounds}: corral, ${clients} clients`, warmMs + windowMs);
    const from = performance.now() + warmMs;
    const to = from + windowMs;
    const ends: number[] = [];
    const accounting = (async () => {
      await sleep(warmMs);
      corralCpu.open();
      await sleep(Math.max(0, to - performance.now()));
      corralCpu.close(ends.filter((t) => t >= from && t < to).length);
    })();
    await closedLoop(
      clients,
      () => performance.now() < to,
      async () => {
        const answer = await execute(ctx);
        if (answer.hello) ends.push(answer.endedAt);
        else if (answer.endedAt >= from && answer.endedAt < to) corralErrors[answer.outcome] = (corralErrors[answer.outcome] ?? 0) + 1;
      },
    );
    await accounting;
    stop();
    corralRates.push(rateInWindow(ends, from, to));
  };

  const bareRound = async (round: number): Promise<void> => {
    await waitAllIdle(ctx);
    const stop = ctx.progress.timed(`throughput round ${round}/${rounds}: bare node -e 0, ${bareConcurrency} at once`, warmMs + windowMs);
    const from = performance.now() + warmMs;
    const to = from + windowMs;
    const ends: number[] = [];
    const accounting = (async () => {
      await sleep(warmMs);
      bareCpu.open();
      await sleep(Math.max(0, to - performance.now()));
      bareCpu.close(ends.filter((t) => t >= from && t < to).length);
    })();
    await spawnLoop(ctx.nodePath, bareConcurrency, to, ends);
    await accounting;
    stop();
    bareRates.push(rateInWindow(ends, from, to));
  };

  // corral, bare | bare, corral | corral, bare …: a drift in the machine's speed hits both alike.
  for (let round = 1; round <= rounds; round += 1) {
    if (round % 2 === 1) {
      await corralRound(round);
      await bareRound(round);
    } else {
      await bareRound(round);
      await corralRound(round);
    }
    ctx.progress.say(`throughput round ${round}/${rounds}: corral ${corralRates.at(-1)?.toFixed(1)}/s, bare ${bareRates.at(-1)?.toFixed(1)}/s`);
  }
  ctx.progress.say(`throughput: corral ${median(corralRates).toFixed(1)}/s vs bare ${median(bareRates).toFixed(1)}/s (medians)`);
  return {
    slots: ctx.plan.slots,
    clients,
    bareConcurrency,
    rounds,
    roundSeconds,
    warmupSeconds,
    corralRates,
    bareRates,
    corralErrors,
    corralCpu: corralCpu.result(),
    bareCpu: bareCpu.result(),
  };
}

/** What the jail alone costs a process (scenario 3's floor), beside the CPU target. */
function floorNote(floor: JailFloor, bareMachineMs: number): string {
  const overMs = floor.jailedMachineMs - floor.bareMachineMs;
  return (
    `The floor (scenario 3): \`node -e 0\` behind every layer of the jail, with nothing of corral's own, costs ` +
    `${formatRatio(ratio(floor.jailedMachineMs, floor.bareMachineMs))} the machine CPU of a bare one (${overMs >= 0 ? '+' : ''}${overMs.toFixed(1)} ms a process). ` +
    `Added to this scenario's bare \`node -e 0\` (${bareMachineMs.toFixed(1)} ms), no jailed execution can cost less than ` +
    `${formatRatio(ratio(bareMachineMs + overMs, bareMachineMs))} of it, before the bootstrap that waits for the job, the worker, the router and Redis.`
  );
}

function rateRow(label: string, rates: readonly number[]): string[] {
  const s = summarize(rates);
  return [label, String(s.n), formatRate(s.p50), formatRate(s.iqr), formatRate(s.min), formatRate(s.max)];
}

/** Scenario 2: executions/s at saturation against the bare `node -e 0` spawn rate of the same cores. */
export const throughput: Scenario<ThroughputResult, 'stack'> = {
  id: 'throughput',
  title: '2. Sustained throughput at saturation',
  needs: ['stack'],
  run: measure,

  render(r, env) {
    const floor = env.resultOf(boot)?.floor ?? null;
    const perRound = r.corralRates.map((c, i) => ratio(c, r.bareRates[i] ?? Number.NaN)).filter((x): x is number => x !== null);
    const errors = Object.entries(r.corralErrors);
    return {
      method: [
        `${r.clients} keep-alive clients, each sending hello worlds back to back, against a stack of ${r.slots} slots; ` +
          `the bare rate keeps ${r.bareConcurrency} \`node -e 0\` processes of the sandbox runtime running at once (one per core), ` +
          'spawned by the harness and counted when they exit. ' +
          `${r.rounds} rounds of ${r.roundSeconds} s each (after ${r.warmupSeconds} s of warm-up per round), corral and bare alternating ` +
          '(corral first in odd rounds, bare first in even ones); ' +
          'the rate of a round counts what completed inside its window. Figures are the median over rounds and the IQR (p75 − p25) across rounds.',
      ],
      tables: [
        {
          headers: ['', 'rounds', 'median', 'IQR', 'min', 'max'],
          rows: [
            rateRow('corral executions answered `ok`', r.corralRates),
            rateRow(`bare \`node -e 0\` (${r.bareConcurrency} at once)`, r.bareRates),
            [
              'corral ÷ bare',
              String(perRound.length),
              formatRatio(ratio(median(r.corralRates), median(r.bareRates))),
              perRound.length > 0 ? formatRatio(summarize(perRound).iqr) : 'n/a',
              perRound.length > 0 ? formatRatio(Math.min(...perRound)) : 'n/a',
              perRound.length > 0 ? formatRatio(Math.max(...perRound)) : 'n/a',
            ],
          ],
        },
      ],
      notes: [
        ...(errors.length > 0 ? [`Answers other than 200 \`ok\` (not counted): ${errors.map(([k, v]) => `${k} × ${v}`).join(', ')}.`] : []),
        'Where the CPU went inside the measuring windows, per completed execution (from /proc/<pid>/stat in clock ticks, so ±10 ms per ' +
          "window and component; a process's reaped children count once they have been waited for, which matches the executions " +
          "completed in the window; the sandboxes' cgroups count in ns when the worker gives them cgroups). *Other* is what no listed " +
          'process accounts for: kernel threads (namespaces and cgroups torn down in the background, say), interrupts, and CPU of ' +
          'processes that ended without being waited for by a listed one. Two of its parts are measured on their own: the interrupt and ' +
          "softirq time of /proc/stat (the loopback network's packets are processed there), and the kernel's own threads (children of " +
          'kthreadd, those alive at both ends of a window):',
        ...(floor ? [floorNote(floor, r.bareCpu.machinePerExecutionMs)] : []),
      ],
      extraTables: [cpuTable('corral', r.corralCpu, env.cores), cpuTable('bare `node -e 0`', r.bareCpu, env.cores)],
    };
  },

  targets(r) {
    const overall = ratio(median(r.corralRates), median(r.bareRates));
    const cpu = ratio(r.corralCpu.machinePerExecutionMs, r.bareCpu.machinePerExecutionMs);
    return [
      { target: `≥ ${THROUGHPUT_RATIO} × the bare spawn rate`, measured: formatRatio(overall), met: atLeast(overall, THROUGHPUT_RATIO) },
      { target: `machine CPU per execution ≤ ${CPU_RATIO} × a bare \`node -e 0\``, measured: formatRatio(cpu), met: atMost(cpu, CPU_RATIO) },
    ];
  },
};
