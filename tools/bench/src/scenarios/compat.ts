import { performance } from 'node:perf_hooks';
import {
  DEFAULT_EXECUTION_LIMITS,
  DEFAULT_SUBMISSION_LIMITS,
  JUDGE0_DEFAULT_FIELDS,
  judge0Config,
  judge0Languages,
  judge0Render,
  parseJudge0Submission,
  parsePistonExecute,
  parseSubmission,
  pistonAnswer,
  type ExecutionResult,
  type PistonRuntime,
} from '@corral/contracts';
import { formatMs, formatMsDelta } from '../format';
import { pairedDifferences, summarize, type Summary } from '../stats';
import { atMost, type TargetCheck } from '../targets';
import { execute, HELLO_CODE, HELLO_OUTPUT, waitAllIdle } from './context';
import type { Scenario, ScenarioContext } from './scenario';

/** An adapter's p50 − the native call's p50 (paired), ms, at most. */
export const COMPAT_TARGET_MS = 1;

const PISTON_BODY = JSON.stringify({ language: 'javascript', version: '*', files: [{ content: HELLO_CODE }] });
const JUDGE0_BODY = JSON.stringify({ source_code: HELLO_CODE, language_id: 63 });

type Kind = 'native' | 'piston' | 'judge0';

export interface CompatResult {
  requests: number;
  warmup: number;
  native: Summary;
  piston: Summary;
  judge0: Summary;
  /** piston[i] − native[i], judge0[i] − native[i] over the rounds (each round runs the three on an idle pool). */
  pistonDiff: Summary;
  judge0Diff: Summary;
  errors: number;
  /** CPU of each API's own request and answer handling in one process, µs per request (median of rounds). */
  mappingUs: Record<Kind, number>;
}

/** One hello world through `kind`'s API: its round trip, or null when the answer is not the hello world's. */
async function once(ctx: ScenarioContext<'stack'>, kind: Kind): Promise<number | null> {
  if (kind === 'native') {
    const answer = await execute(ctx);
    return answer.hello ? answer.ms : null;
  }
  const started = performance.now();
  const answer = kind === 'piston' ? await ctx.http.post(`${ctx.stack.url}/api/v2/execute`, PISTON_BODY) : await ctx.http.post(`${ctx.stack.url}/submissions?wait=true`, JUDGE0_BODY);
  const ms = performance.now() - started;
  const body = JSON.parse(answer.body.toString('utf8')) as { run?: { stdout?: string }; stdout?: string; status?: { id?: number } };
  const hello = kind === 'piston' ? answer.status === 200 && body.run?.stdout === HELLO_OUTPUT : answer.status === 201 && body.stdout === HELLO_OUTPUT && body.status?.id === 3;
  return hello ? ms : null;
}

const LIMITS = { ...DEFAULT_EXECUTION_LIMITS, ...DEFAULT_SUBMISSION_LIMITS };
const RUNTIME: PistonRuntime = { language: 'javascript', version: '24.0.0', aliases: ['js'], runtime: 'node' };
const RESULT: ExecutionResult = { id: '5f0b9a52-7d3c-4a36-9e5c-0b3c1f7a2d11', status: 'ok', exitCode: 0, signal: null, stdout: HELLO_OUTPUT, stderr: '', truncated: false, durationMs: 9, cpuMs: 8.5, memoryBytes: 45_000_000 };
const JUDGE0 = judge0Config(LIMITS, { maxBatch: 100, maxQueue: 1000, callbacks: false, callbackTries: 5, callbackTimeoutS: 5 });
const LANGUAGES = judge0Languages('24.0.0');
const RESULT_BODY = JSON.stringify(RESULT);

/** Each API's own work on one request in the router, without the network: parse its body into a job, and answer the worker's result its way. */
const MAPPINGS: Record<Kind, () => string> = {
  // The native route parses and validates, then streams the worker's bytes.
  native: () => (parseSubmission(JSON.parse(HELLO_BODY_NATIVE), LIMITS), RESULT_BODY),
  piston: () => {
    const { runtime } = parsePistonExecute(JSON.parse(PISTON_BODY), () => RUNTIME, LIMITS);
    return JSON.stringify(pistonAnswer(runtime, JSON.parse(RESULT_BODY) as ExecutionResult));
  },
  judge0: () => {
    const { echo } = parseJudge0Submission(JSON.parse(JUDGE0_BODY), { base64: false, wait: true, config: JUDGE0, limits: LIMITS });
    const tag = JSON.stringify(echo);
    const view = { token: RESULT.id, state: 'done' as const, createdAt: '', finishedAt: '', result: JSON.parse(RESULT_BODY) as ExecutionResult, echo };
    return tag + JSON.stringify(judge0Render(view, JUDGE0_DEFAULT_FIELDS, false, LANGUAGES));
  },
};
const HELLO_BODY_NATIVE = JSON.stringify({ code: HELLO_CODE });

/** µs per call of `work`: the median of 7 rounds of 2000 calls. */
function microseconds(work: () => string): number {
  const rounds: number[] = [];
  for (let r = 0; r < 7; r += 1) {
    const started = performance.now();
    for (let i = 0; i < 2000; i += 1) work();
    rounds.push(((performance.now() - started) * 1000) / 2000);
  }
  return rounds.sort((a, b) => a - b)[3] as number;
}

const ORDERS: readonly Kind[][] = [
  ['native', 'piston', 'judge0'],
  ['piston', 'judge0', 'native'],
  ['judge0', 'native', 'piston'],
];

function row(label: string, s: Summary, format: (ms: number) => string = formatMs): string[] {
  return [label, String(s.n), format(s.p50), format(s.p90), format(s.p99), format(s.mean)];
}

/**
 * Scenario 11: the hello world through Piston's `POST /api/v2/execute` and Judge0's
 * `POST /submissions?wait=true` beside the native `POST /v1/executions`, in rounds of one of
 * each (the order rotating), each on an idle pool.
 */
export const compat: Scenario<CompatResult, 'stack'> = {
  id: 'compat',
  title: '13. Drop-in APIs: Piston execute and Judge0 wait=true against the native call',
  needs: ['stack'],

  async run(ctx) {
    const { warmup, requests } = ctx.plan.compat;
    const ms: Record<Kind, (number | null)[]> = { native: [], piston: [], judge0: [] };
    const counter = ctx.progress.counter('compat: native, Piston and Judge0 in rotating rounds', (warmup + requests) * 3);
    for (let round = 0; round < warmup + requests; round += 1) {
      for (const kind of ORDERS[round % ORDERS.length] as Kind[]) {
        await waitAllIdle(ctx);
        const took = await once(ctx, kind);
        if (round >= warmup) ms[kind].push(took);
        counter.tick();
      }
    }
    counter.done();
    // A round counts when all three answered the hello world; the differences are paired by round.
    const whole = ms.native.map((_, i) => ms.native[i] !== null && ms.piston[i] !== null && ms.judge0[i] !== null);
    const kept = (kind: Kind): number[] => ms[kind].filter((_, i) => whole[i]) as number[];
    return {
      requests,
      warmup,
      native: summarize(kept('native')),
      piston: summarize(kept('piston')),
      judge0: summarize(kept('judge0')),
      pistonDiff: summarize(pairedDifferences(kept('piston'), kept('native'))),
      judge0Diff: summarize(pairedDifferences(kept('judge0'), kept('native'))),
      errors: whole.filter((w) => !w).length,
      mappingUs: { native: microseconds(MAPPINGS.native), piston: microseconds(MAPPINGS.piston), judge0: microseconds(MAPPINGS.judge0) },
    };
  },

  render(r) {
    return {
      method: [
        `One client sends the hello world ${r.requests} times through each API (after ${r.warmup} rounds of warm-up), in rounds of one of each, ` +
          'the order rotating, every request on an idle pool: the native `POST /v1/executions` (through @corral/client), Piston\'s ' +
          '`POST /api/v2/execute` and Judge0\'s `POST /submissions?wait=true` (`language_id` 63). The adapters parse their API\'s request into ' +
          'corral\'s, run it through the same dispatch, read the worker\'s answer whole and render it their way (the native call streams it); ' +
          'the Judge0 adapter also keeps the record of the token it answers. The difference is paired by round.',
      ],
      tables: [
        {
          headers: ['API', 'requests', 'p50', 'p90', 'p99', 'mean'],
          rows: [row('native POST /v1/executions', r.native), row('Piston POST /api/v2/execute', r.piston), row('Judge0 POST /submissions?wait=true', r.judge0)],
        },
        {
          headers: ['paired difference', 'pairs', 'p50', 'p90', 'p99', 'mean'],
          rows: [row('Piston − native', r.pistonDiff, formatMsDelta), row('Judge0 − native', r.judge0Diff, formatMsDelta)],
        },
        {
          headers: ['API', 'own work per request (in one process)', '− native'],
          rows: (['native', 'piston', 'judge0'] as const).map((k) => [k, `${r.mappingUs[k].toFixed(1)} µs`, k === 'native' ? '' : `+${(r.mappingUs[k] - r.mappingUs.native).toFixed(1)} µs`]),
        },
      ],
      notes: [
        `Rounds where an answer was not the hello world: ${r.errors}.`,
        'The last table times, without the network, what each API does to a request that the others do not: parse and validate the body into a job ' +
          '(Piston: its checks and files; Judge0: its model\'s validations and the attributes kept with the token), and answer the worker\'s result ' +
          '(the native route streams the worker\'s bytes; the adapters parse them and write their own). The end-to-end difference above is that plus noise.',
      ],
    };
  },

  targets(r): TargetCheck[] {
    return [
      { target: `Piston − native, paired p50 ≤ ${COMPAT_TARGET_MS} ms`, measured: formatMsDelta(r.pistonDiff.p50), met: r.pistonDiff.n === 0 ? null : atMost(r.pistonDiff.p50, COMPAT_TARGET_MS) },
      { target: `Judge0 − native, paired p50 ≤ ${COMPAT_TARGET_MS} ms`, measured: formatMsDelta(r.judge0Diff.p50), met: r.judge0Diff.n === 0 ? null : atMost(r.judge0Diff.p50, COMPAT_TARGET_MS) },
    ];
  },
};
