import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOKEN_HEADER, WORKER_RUN_PATH, type Lease } from '@corral/contracts';
import type { HttpAnswer } from '../http';
import { assertLoopbackUrl } from '../loopback';
import type { OverheadResult } from '../results';
import { pairedDifferences, summarize } from '../stats';
import { execute, HELLO_BODY, isHello, waitAllIdle, type StackContext } from './context';

/** How long a lease the harness claims stays valid before the worker must start the job. */
const CLAIM_TTL_MS = 15_000;

async function claim(ctx: StackContext): Promise<{ lease: Lease; ms: number }> {
  for (let attempt = 0; attempt < 2000; attempt += 1) {
    const started = performance.now();
    const lease = await ctx.registry.queue.claim(CLAIM_TTL_MS, 'bench');
    const ms = performance.now() - started;
    if (lease) return { lease, ms };
    await sleep(5);
  }
  throw new Error('no idle slot to claim within 10 s');
}

/** The hello world straight to the worker of a slot the harness claimed itself. */
async function direct(ctx: StackContext): Promise<{ answer: HttpAnswer; claimMs: number }> {
  const { lease, ms } = await claim(ctx);
  const url = assertLoopbackUrl(`http://${lease.ip}:${lease.port}${WORKER_RUN_PATH}`);
  const answer = await ctx.client.post(url.toString(), HELLO_BODY, { [TOKEN_HEADER]: lease.token });
  return { answer, claimMs: ms };
}

/**
 * Scenario 4: the same execution directly to a worker and through the router, alternating, each
 * on an idle pool; beside them, one bare HTTP hop (`hopUrl`: the naive server's /echo), the
 * floor of the hop the router adds.
 */
export async function runOverhead(ctx: StackContext, hopUrl: string): Promise<OverheadResult> {
  const echo = assertLoopbackUrl(`${hopUrl}/echo`).toString();
  const { warmup, requests } = ctx.plan.overhead;
  const warm = ctx.progress.counter('router overhead: warm-up', warmup * 2);
  for (let i = 0; i < warmup; i += 1) {
    await waitAllIdle(ctx);
    await direct(ctx);
    warm.tick();
    await waitAllIdle(ctx);
    await execute(ctx);
    await ctx.client.post(echo, '{}');
    warm.tick();
  }
  warm.done();

  const directMs: number[] = [];
  const routerMs: number[] = [];
  const claimMs: number[] = [];
  const hopMs: number[] = [];
  const pairsDirect: number[] = [];
  const pairsRouter: number[] = [];
  let errors = 0;
  const counter = ctx.progress.counter('router overhead: direct and routed, one at a time on an idle pool', requests * 2);
  for (let i = 0; i < requests; i += 1) {
    // Alternate which goes first, so that neither always follows the other's replenishing.
    let d: number | null = null;
    let r: number | null = null;
    for (const which of i % 2 === 0 ? (['direct', 'router'] as const) : (['router', 'direct'] as const)) {
      await waitAllIdle(ctx);
      if (which === 'direct') {
        const { answer, claimMs: c } = await direct(ctx);
        claimMs.push(c);
        if (isHello(answer)) directMs.push((d = answer.ms));
        else errors += 1;
      } else {
        const answer = await execute(ctx);
        if (isHello(answer)) routerMs.push((r = answer.ms));
        else errors += 1;
      }
      counter.tick();
    }
    await waitAllIdle(ctx); // like the others: nothing booting behind it
    const hop = await ctx.client.post(echo, '{}');
    if (hop.status === 200) hopMs.push(hop.ms);
    else errors += 1;
    if (d !== null && r !== null) {
      pairsDirect.push(d);
      pairsRouter.push(r);
    }
  }
  if (directMs.length === 0 || routerMs.length === 0) throw new Error(`no successful requests on one of the paths (${errors} errors)`);
  const result: OverheadResult = {
    requests,
    warmup,
    direct: summarize(directMs),
    router: summarize(routerMs),
    claimMs: summarize(claimMs),
    pairedDiff: summarize(pairedDifferences(pairsRouter, pairsDirect)),
    ...(hopMs.length > 0 ? { hop: summarize(hopMs) } : {}),
    errors,
  };
  counter.done(`direct p50 ${result.direct.p50.toFixed(2)} ms, router p50 ${result.router.p50.toFixed(2)} ms`);
  return result;
}
