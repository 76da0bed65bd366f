import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionRequest } from '@corral/client';
import { formatMs, formatRate, formatRatio } from '../format';
import { closedLoop } from '../http';
import { ratio, summarize, type Summary } from '../stats';
import { atMost } from '../targets';
import { execute, waitAllIdle } from './context';
import type { Scenario, ScenarioContext } from './scenario';

/** Good requests' p99 with hostile load ÷ without, at most. */
export const MIXED_P99_RATIO = 3;

export interface MixedResult {
  concurrency: number;
  /** Each client's pause between two requests. */
  thinkMs: number;
  /** Requests per run (clean and mixed send the same number). */
  requests: number;
  /** Every this-many-th request of the mixed run is hostile. */
  hostileEvery: number;
  hostileCpuMs: number;
  /** Latency of the good (hello-world) requests. */
  clean: Summary;
  mixed: Summary;
  /** How the hostile requests ended: execution status (or HTTP status) → count. */
  hostileOutcomes: Record<string, number>;
  hostileMs: Summary | null;
  /** Good requests that did not come back 200 `ok`, per run. */
  cleanErrors: number;
  mixedErrors: number;
  /** Requests answered per second over each run (all of them, hostile included). */
  cleanRate: number;
  mixedRate: number;
}

interface Run {
  good: number[];
  errors: number;
  hostile: Record<string, number>;
  hostileMs: number[];
  rate: number;
}

async function load(ctx: ScenarioContext<'stack'>, label: string, withHostile: boolean): Promise<Run> {
  const { concurrency, thinkMs, requests, hostileEvery, hostileCpuMs } = ctx.plan.mixed;
  const hostileRequest: ExecutionRequest = { code: 'while(true){}', cpuMs: hostileCpuMs };
  await waitAllIdle(ctx);
  const started = performance.now();
  const good: number[] = [];
  const hostileMs: number[] = [];
  const hostile: Record<string, number> = {};
  let errors = 0;
  const counter = ctx.progress.counter(`mixed load: ${label} run, ${concurrency} clients pausing ${thinkMs} ms`, requests);
  await closedLoop(
    concurrency,
    (seq) => seq < requests,
    async (seq) => {
      const isHostile = withHostile && seq % hostileEvery === hostileEvery - 1;
      const answer = await execute(ctx, isHostile ? hostileRequest : undefined);
      if (isHostile) {
        hostile[answer.outcome] = (hostile[answer.outcome] ?? 0) + 1;
        hostileMs.push(answer.ms);
      } else if (answer.hello) good.push(answer.ms);
      else errors += 1;
      counter.tick();
      await sleep(thinkMs);
    },
  );
  const rate = requests / ((performance.now() - started) / 1000);
  counter.done(`${rate.toFixed(1)} requests/s`);
  if (good.length === 0) throw new Error(`no good request succeeded in the ${label} run (${errors} errors)`);
  return { good, errors, hostile, hostileMs, rate };
}

function row(label: string, s: Summary, errors: number, rate: number): string[] {
  return [label, String(s.n), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.max), String(errors), formatRate(rate)];
}

/** Scenario 5: good requests' latency with 1 in 10 `while(true){}` among them, against the same load without. */
export const mixed: Scenario<MixedResult, 'stack'> = {
  id: 'mixed',
  title: '5. Mixed load: hostile programs among hello worlds',
  needs: ['stack'],

  async run(ctx) {
    const { concurrency, thinkMs, requests, hostileEvery, hostileCpuMs } = ctx.plan.mixed;
    const clean = await load(ctx, 'clean', false);
    const withHostile = await load(ctx, 'mixed', true);
    const result: MixedResult = {
      concurrency,
      thinkMs,
      requests,
      hostileEvery,
      hostileCpuMs,
      clean: summarize(clean.good),
      mixed: summarize(withHostile.good),
      hostileOutcomes: withHostile.hostile,
      hostileMs: withHostile.hostileMs.length > 0 ? summarize(withHostile.hostileMs) : null,
      cleanErrors: clean.errors,
      mixedErrors: withHostile.errors,
      cleanRate: clean.rate,
      mixedRate: withHostile.rate,
    };
    ctx.progress.say(`mixed load: good p99 ${result.mixed.p99.toFixed(1)} ms vs clean ${result.clean.p99.toFixed(1)} ms`);
    return result;
  },

  render(r) {
    const outcomes = Object.entries(r.hostileOutcomes).map(([k, v]) => `${k} × ${v}`).join(', ');
    return {
      method: [
        `${r.concurrency} keep-alive clients send ${r.requests} requests in all, each pausing ${r.thinkMs} ms after every answer. In the mixed run every ` +
          `${r.hostileEvery}th request is \`while(true){}\` with \`cpuMs: ${r.hostileCpuMs}\` (the watchdog kills it); the clean run sends the same ` +
          "number of hello worlds only. The figures are the good (hello-world) requests' latencies; percentiles over all of them. The pause " +
          'keeps the clean run below saturation: every execution costs a whole sandbox boot, so on a small machine even one client sending ' +
          'back to back keeps the cores busy (scenario 2), and a saturated clean run would hide what the hostile programs do.',
      ],
      tables: [
        {
          headers: ['run', 'good requests', 'p50', 'p90', 'p99', 'max', 'errors', 'answered'],
          rows: [
            row('clean (hello worlds only)', r.clean, r.cleanErrors, r.cleanRate),
            row(`mixed (1 in ${r.hostileEvery} hostile)`, r.mixed, r.mixedErrors, r.mixedRate),
            [
              'mixed ÷ clean',
              '',
              formatRatio(ratio(r.mixed.p50, r.clean.p50)),
              formatRatio(ratio(r.mixed.p90, r.clean.p90)),
              formatRatio(ratio(r.mixed.p99, r.clean.p99)),
              formatRatio(ratio(r.mixed.max, r.clean.max)),
            ],
          ],
        },
      ],
      notes: [
        `Hostile requests ended as: ${outcomes || 'none sent'}${r.hostileMs ? `; their round trip p50 ${formatMs(r.hostileMs.p50)}, max ${formatMs(r.hostileMs.max)}` : ''}.`,
      ],
    };
  },

  targets(r) {
    const p99 = ratio(r.mixed.p99, r.clean.p99);
    return [{ target: `good p99 with hostile load ≤ ${MIXED_P99_RATIO} × clean`, measured: formatRatio(p99), met: atMost(p99, MIXED_P99_RATIO) }];
  },
};
