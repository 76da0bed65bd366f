import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOKEN_HEADER, WORKER_RUN_PATH, type Lease } from '@corral/contracts';
import { formatMs, formatMsDelta } from '../format';
import { assertLoopbackUrl } from '../loopback';
import { pairedDifferences, summarize, type Summary } from '../stats';
import { atMost } from '../targets';
import { execute, HELLO_BODY, timedAnswer, waitAllIdle, type Timed } from './context';
import type { Scenario, ScenarioContext } from './scenario';

/** Router p50 − direct p50, ms, at most. */
export const OVERHEAD_TARGET_MS = 1;

/** How long a lease the harness claims stays valid before the worker must start the job. */
const CLAIM_TTL_MS = 15_000;

export interface OverheadResult {
  requests: number;
  warmup: number;
  /** POST to the worker on the slot's address, with a lease claimed beforehand (claim not timed). */
  direct: Summary;
  /** The same request through the router (claim, proxy and all). */
  router: Summary;
  /** The harness's own registry.queue.claim round trip before each direct request. */
  claimMs: Summary;
  /** One bare HTTP hop: the same client to an express server in another process that answers at once. */
  hop?: Summary;
  /** router[i] − direct[i] over the interleaved pairs. */
  pairedDiff: Summary;
  errors: number;
}

type Ctx = ScenarioContext<'naive' | 'stack'>;

async function claim(ctx: Ctx): Promise<{ lease: Lease; ms: number }> {
  for (let attempt = 0; attempt < 2000; attempt += 1) {
    const started = performance.now();
    const lease = await ctx.registry.queue.claim(CLAIM_TTL_MS, 'bench');
    const ms = performance.now() - started;
    if (lease) return { lease, ms };
    await sleep(5);
  }
  throw new Error('no idle slot to claim within 10 s');
}

/** The hello world straight to the worker of a slot the harness claimed itself (the worker's protocol: no public client). */
async function direct(ctx: Ctx): Promise<{ answer: Timed; claimMs: number }> {
  const { lease, ms } = await claim(ctx);
  const url = assertLoopbackUrl(`http://${lease.ip}:${lease.port}${WORKER_RUN_PATH}`);
  const answer = await ctx.http.post(url.toString(), HELLO_BODY, { [TOKEN_HEADER]: lease.token });
  return { answer: timedAnswer(answer), claimMs: ms };
}

function row(label: string, s: Summary, format: (ms: number) => string = formatMs): string[] {
  return [label, String(s.n), format(s.p50), format(s.p90), format(s.p99), format(s.mean)];
}

/**
 * Scenario 4: the same execution directly to a worker and through the router, alternating, each
 * on an idle pool; beside them, one bare HTTP hop (the naive server's /echo), the floor of the
 * hop the router adds.
 */
export const overhead: Scenario<OverheadResult, 'naive' | 'stack'> = {
  id: 'overhead',
  title: '4. Router overhead',
  needs: ['naive', 'stack'],

  async run(ctx) {
    const echo = assertLoopbackUrl(`${ctx.naiveUrl}/echo`).toString();
    const { warmup, requests } = ctx.plan.overhead;
    const warm = ctx.progress.counter('router overhead: warm-up', warmup * 2);
    for (let i = 0; i < warmup; i += 1) {
      await waitAllIdle(ctx);
      await direct(ctx);
      warm.tick();
      await waitAllIdle(ctx);
      await execute(ctx);
      await ctx.http.post(echo, '{}');
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
          if (answer.hello) directMs.push((d = answer.ms));
          else errors += 1;
        } else {
          const answer = await execute(ctx);
          if (answer.hello) routerMs.push((r = answer.ms));
          else errors += 1;
        }
        counter.tick();
      }
      await waitAllIdle(ctx); // like the others: nothing booting behind it
      const hop = await ctx.http.post(echo, '{}');
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
  },

  render(r) {
    return {
      method: [
        `The same hello world ${r.requests} times directly to a worker and ${r.requests} times through the router (after ${r.warmup} warm-up ` +
          'requests of each), one at a time, direct and router requests alternating. Before each request the harness waits until every slot ' +
          'is idle again, so that no sandbox boots in the background of either. For a direct request the harness first claims a lease with ' +
          '`registry.queue.claim` (not timed, shown apart) and then POSTs to `http://<lease.ip>:<lease.port>/internal/v1/run` with ' +
          '`x-corral-token`; both clients use keep-alive connections. After each pair the same client POSTs `{}` to `/echo` of the naive ' +
          'server of scenario 1 (express in its own process, answering at once): one bare HTTP hop on this machine. Percentiles over all requests.',
      ],
      tables: [
        {
          headers: ['path', 'requests', 'p50', 'p90', 'p99', 'mean'],
          rows: [
            row('direct to the worker', r.direct),
            row('through the router', r.router),
            [
              'router − direct',
              '',
              formatMsDelta(r.router.p50 - r.direct.p50),
              formatMsDelta(r.router.p90 - r.direct.p90),
              formatMsDelta(r.router.p99 - r.direct.p99),
              formatMsDelta(r.router.mean - r.direct.mean),
            ],
            row('paired differences (router − direct)', r.pairedDiff, formatMsDelta),
            row('(harness claimSlot, not in "direct")', r.claimMs),
            ...(r.hop ? [row('floor: one bare HTTP hop (express in another process, answering at once)', r.hop)] : []),
          ],
        },
      ],
      notes: [
        ...(r.hop
          ? [
              'The router is one more HTTP hop (client → router → worker instead of client → worker) plus a claim in Redis. The floor row is that ' +
                `hop alone, measured beside the others: with the claim's round trip (the harness's claimSlot), the router cannot add less than about ` +
                `${formatMs(r.hop.p50 + r.claimMs.p50)} at p50 on this machine, before any work of its own.`,
            ]
          : []),
        ...(r.errors > 0 ? [`${r.errors} requests did not answer 200 \`ok\` and are not in the figures.`] : []),
      ],
    };
  },

  targets(r) {
    const diff = r.router.p50 - r.direct.p50;
    return [{ target: `router adds ≤ ${OVERHEAD_TARGET_MS} ms at p50`, measured: formatMsDelta(diff), met: atMost(diff, OVERHEAD_TARGET_MS) }];
  },
};
