import { formatMs, formatRatio } from '../format';
import type { HttpAnswer } from '../http';
import { ratio, summarize, type Summary } from '../stats';
import { atLeast, atMost } from '../targets';
import { execute, HELLO_BODY, HELLO_OUTPUT, waitAllIdle } from './context';
import { overhead } from './overhead';
import type { Scenario, SectionBody } from './scenario';

/** Hello-world p50 through the router at low load (ms, at most), and naive p50 ÷ corral p50 (at least). */
export const LATENCY_TARGETS = { p50Ms: 5, vsNaive: 10 } as const;

export interface LatencyResult {
  requests: number;
  warmup: number;
  /** Requests per block; corral and naive blocks alternate. */
  blockSize: number;
  corral: Summary;
  naive: Summary;
  /** Answers that were not a 200 with the expected output (not in the percentiles). */
  corralErrors: number;
  naiveErrors: number;
  /**
   * The same one client with a pause after each answer, so that the machine keeps up: back to
   * back, every execution's replacement boot competes with the next request for the cores.
   */
  paced: { thinkMs: number; requests: number; corral: Summary; naive: Summary } | null;
}

/** The target is "at low load": the paced client, which the machine keeps up with. */
function lowLoad(r: LatencyResult): { corral: Summary; naive: Summary } {
  return r.paced ?? r;
}

function latencyRow(label: string, s: Summary, errors: number): string[] {
  return [label, String(s.n), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.mean), formatMs(s.min), formatMs(s.max), String(errors)];
}

function ratioRow(label: string, naive: Summary, corral: Summary): string[] {
  return [
    label,
    '',
    formatRatio(ratio(naive.p50, corral.p50)),
    formatRatio(ratio(naive.p90, corral.p90)),
    formatRatio(ratio(naive.p99, corral.p99)),
    formatRatio(ratio(naive.mean, corral.mean)),
  ];
}

function reportBody(r: LatencyResult, routerIdle: Summary | undefined): SectionBody {
  const rows = [
    latencyRow('corral, back to back (router → worker → warm sandbox)', r.corral, r.corralErrors),
    latencyRow('naive, back to back (express + `node -e` per request)', r.naive, r.naiveErrors),
    ratioRow('naive ÷ corral, back to back', r.naive, r.corral),
  ];
  if (r.paced) {
    rows.push(
      latencyRow(`corral, ${r.paced.thinkMs} ms between requests`, r.paced.corral, 0),
      latencyRow(`naive, ${r.paced.thinkMs} ms between requests`, r.paced.naive, 0),
      ratioRow(`naive ÷ corral, ${r.paced.thinkMs} ms between requests`, r.paced.naive, r.paced.corral),
    );
  }
  return {
    method: [
      `One client, sequential, keep-alive: \`{"code":"console.log(\\"hello\\")"}\` sent ${r.requests} times through the router ` +
        `(after ${r.warmup} warm-up requests), each one as soon as the previous answer arrived. The baseline is a naive express ` +
        'server that spawns `node -e <code>` of the same sandbox runtime per request and answers its stdout. ' +
        `Blocks of ${r.blockSize} corral and ${r.blockSize} naive requests alternate, so drift hits both alike. ` +
        'Latency is the client-side round trip (request sent → whole answer read); percentiles over all requests.',
      ...(r.paced
        ? [
            `Then the same client pausing ${r.paced.thinkMs} ms after each answer, ${r.paced.requests} requests each, corral and naive alternating. ` +
              'Back to back is not low load for corral: every execution costs a sandbox boot (scenario 2), so one client that never pauses ' +
              'keeps both cores busy booting replacements, and its next request waits for a core. The targets are checked on the paced run.',
          ]
        : []),
    ],
    tables: [{ headers: ['', 'requests', 'p50', 'p90', 'p99', 'mean', 'min', 'max', 'errors'], rows }],
    // Back to back here; scenario 4 measured the same request on an idle pool: say so next to it.
    notes: routerIdle
      ? [
          'For comparison: the same request through the router when every slot is idle before it (no sandbox booting in the background; ' +
            `scenario 4) has p50 ${formatMs(routerIdle.p50)}, p90 ${formatMs(routerIdle.p90)}, p99 ${formatMs(routerIdle.p99)}.`,
        ]
      : [],
  };
}

/** Scenario 1: hello-world latency through the router at low load, against a naive express + `node -e` server. */
export const latency: Scenario<LatencyResult, 'naive' | 'stack'> = {
  id: 'latency',
  title: '1. Hello-world latency at low load',
  needs: ['naive', 'stack'],

  async run(ctx) {
    const { warmup, requests, blockSize, pacedRequests, thinkMs } = ctx.plan.latency;
    const naive = (): Promise<HttpAnswer> => ctx.http.post(`${ctx.naiveUrl}/run`, HELLO_BODY);
    const naiveOk = (a: HttpAnswer): boolean => a.status === 200 && a.body.toString('utf8') === HELLO_OUTPUT;

    const warm = ctx.progress.counter('latency: warm-up', warmup * 2);
    for (let i = 0; i < warmup; i += 1) {
      await execute(ctx);
      warm.tick();
      await naive();
      warm.tick();
    }
    warm.done();

    const corralMs: number[] = [];
    const naiveMs: number[] = [];
    let corralErrors = 0;
    let naiveErrors = 0;
    const counter = ctx.progress.counter('latency: corral and naive, sequential', requests * 2);
    for (let block = 0; block < requests / blockSize; block += 1) {
      await waitAllIdle(ctx);
      for (let i = 0; i < blockSize; i += 1) {
        const answer = await execute(ctx);
        if (answer.hello) corralMs.push(answer.ms);
        else corralErrors += 1;
        counter.tick();
      }
      for (let i = 0; i < blockSize; i += 1) {
        const answer = await naive();
        if (naiveOk(answer)) naiveMs.push(answer.ms);
        else naiveErrors += 1;
        counter.tick();
      }
    }
    if (corralMs.length === 0) throw new Error(`no corral request succeeded (${corralErrors} errors)`);
    if (naiveMs.length === 0) throw new Error(`no naive request succeeded (${naiveErrors} errors)`);
    // The same client, pausing after each answer (corral and naive alternate, one request each).
    const pacedCorral: number[] = [];
    const pacedNaive: number[] = [];
    const paced = ctx.progress.counter(`latency: corral and naive, ${thinkMs} ms between requests`, pacedRequests * 2);
    await waitAllIdle(ctx);
    for (let i = 0; i < pacedRequests; i += 1) {
      const answer = await execute(ctx);
      if (answer.hello) pacedCorral.push(answer.ms);
      else corralErrors += 1;
      paced.tick();
      await new Promise((r) => setTimeout(r, thinkMs));
      const other = await naive();
      if (naiveOk(other)) pacedNaive.push(other.ms);
      else naiveErrors += 1;
      paced.tick();
      await new Promise((r) => setTimeout(r, thinkMs));
    }
    paced.done();
    const result: LatencyResult = {
      requests,
      warmup,
      blockSize,
      corral: summarize(corralMs),
      naive: summarize(naiveMs),
      corralErrors,
      naiveErrors,
      paced: pacedCorral.length > 0 && pacedNaive.length > 0 ? { thinkMs, requests: pacedRequests, corral: summarize(pacedCorral), naive: summarize(pacedNaive) } : null,
    };
    counter.done(`corral p50 ${result.corral.p50.toFixed(1)} ms, naive p50 ${result.naive.p50.toFixed(1)} ms`);
    return result;
  },

  render(r, env) {
    return reportBody(r, env.resultOf(overhead)?.router);
  },

  targets(r) {
    const low = lowLoad(r);
    const vsNaive = ratio(low.naive.p50, low.corral.p50);
    return [
      { target: `p50 ≤ ${LATENCY_TARGETS.p50Ms} ms (low load)`, measured: formatMs(low.corral.p50), met: atMost(low.corral.p50, LATENCY_TARGETS.p50Ms) },
      { target: `≥ ${LATENCY_TARGETS.vsNaive}× better than naive (p50, low load)`, measured: formatRatio(vsNaive), met: atLeast(vsNaive, LATENCY_TARGETS.vsNaive) },
    ];
  },
};
