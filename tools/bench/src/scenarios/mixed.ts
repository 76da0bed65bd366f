import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { closedLoop } from '../http';
import type { MixedResult } from '../results';
import { summarize } from '../stats';
import { execute, isHello, outcomeOf, waitAllIdle, type StackContext } from './context';

/** Scenario 5: good requests' latency with 1 in 10 `while(true){}` among them, against the same load without. */
export async function runMixed(ctx: StackContext): Promise<MixedResult> {
  const { concurrency, thinkMs, requests, hostileEvery, hostileCpuMs } = ctx.plan.mixed;
  const hostileBody = JSON.stringify({ code: 'while(true){}', cpuMs: hostileCpuMs });

  const run = async (label: string, withHostile: boolean): Promise<{ good: number[]; errors: number; hostile: Record<string, number>; hostileMs: number[]; rate: number }> => {
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
        const answer = await execute(ctx, isHostile ? hostileBody : undefined);
        if (isHostile) {
          const outcome = outcomeOf(answer);
          hostile[outcome] = (hostile[outcome] ?? 0) + 1;
          hostileMs.push(answer.ms);
        } else if (isHello(answer)) good.push(answer.ms);
        else errors += 1;
        counter.tick();
        await sleep(thinkMs);
      },
    );
    const rate = requests / ((performance.now() - started) / 1000);
    counter.done(`${rate.toFixed(1)} requests/s`);
    if (good.length === 0) throw new Error(`no good request succeeded in the ${label} run (${errors} errors)`);
    return { good, errors, hostile, hostileMs, rate };
  };

  const clean = await run('clean', false);
  const mixed = await run('mixed', true);
  const result: MixedResult = {
    concurrency,
    thinkMs,
    requests,
    hostileEvery,
    hostileCpuMs,
    clean: summarize(clean.good),
    mixed: summarize(mixed.good),
    hostileOutcomes: mixed.hostile,
    hostileMs: mixed.hostileMs.length > 0 ? summarize(mixed.hostileMs) : null,
    cleanErrors: clean.errors,
    mixedErrors: mixed.errors,
    cleanRate: clean.rate,
    mixedRate: mixed.rate,
  };
  ctx.progress.say(`mixed load: good p99 ${result.mixed.p99.toFixed(1)} ms vs clean ${result.clean.p99.toFixed(1)} ms`);
  return result;
}
