import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnLoop } from '../baselines';
import { closedLoop } from '../http';
import { cgroupCpuReader, childrenNamed, processCpu } from '../procfs';
import type { ThroughputResult } from '../results';
import { median, rateInWindow } from '../stats';
import { execute, isHello, outcomeOf, waitAllIdle, type StackContext } from './context';
import { CpuAccountant, type CpuCounters } from './cpu-account';

function harnessCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** What to account for while corral runs: each service, the sandboxes (the worker's reaped children), Redis, the harness. */
function corralCounters(ctx: StackContext): CpuCounters {
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

/** Scenario 2: executions/s at saturation against the bare `node -e 0` spawn rate of the same cores. */
export async function runThroughput(ctx: StackContext): Promise<ThroughputResult> {
  const { clients, bareConcurrency, rounds, roundSeconds, warmupSeconds } = ctx.plan.throughput;
  const corralRates: number[] = [];
  const bareRates: number[] = [];
  const corralErrors: Record<string, number> = {};
  const windowMs = roundSeconds * 1000;
  const warmMs = warmupSeconds * 1000;
  const cores = availableParallelism();
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
        if (isHello(answer)) ends.push(answer.endedAt);
        else if (answer.endedAt >= from && answer.endedAt < to) {
          const outcome = outcomeOf(answer);
          corralErrors[outcome] = (corralErrors[outcome] ?? 0) + 1;
        }
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
