import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionRecord, TestsResult } from '@corral/contracts';
import { formatMs, formatRate, formatRatio } from '../format';
import { ratio, summarize, type Summary } from '../stats';
import { atMost, type TargetCheck } from '../targets';
import { execute, HELLO_CODE, HELLO_OUTPUT, waitAllIdle } from './context';
import type { Scenario, ScenarioContext } from './scenario';

/** Single executions' p99 beside a judge's submission ÷ alone, at most (a judge beside interactive calls). */
export const JUDGING_P99_RATIO = 3;

export interface JudgingResult {
  singles: number;
  thinkMs: number;
  tests: number;
  /** A single execution's latency with nothing else running, and beside a judge's submission. */
  alone: Summary;
  beside: Summary;
  aloneErrors: number;
  besideErrors: number;
  /** The judge's submissions sent while the singles ran beside them: wall time each, and tests per second. */
  judgeSubmissions: number;
  judgeMs: Summary;
  judgeTestsPerSecond: number;
  judgeWrong: number;
  /** `wait: false` then polling every `pollMs` until done, against the blocking call. */
  asyncJobs: number;
  pollMs: number;
  asyncMs: Summary;
  syncMs: Summary;
}

async function singles(ctx: ScenarioContext<'stack'>, label: string, count: number, thinkMs: number): Promise<{ ms: number[]; errors: number }> {
  const ms: number[] = [];
  let errors = 0;
  const counter = ctx.progress.counter(`judging: ${count} single executions ${label}, ${thinkMs} ms apart`, count);
  for (let i = 0; i < count; i += 1) {
    const answer = await execute(ctx);
    if (answer.hello) ms.push(answer.ms);
    else errors += 1;
    counter.tick();
    await sleep(thinkMs);
  }
  counter.done();
  return { ms, errors };
}

async function post<T>(ctx: ScenarioContext<'stack'>, path: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${ctx.stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

/** Scenario 10: a judge's submission of many tests beside a client of single executions, and background jobs against the blocking call. */
export const judging: Scenario<JudgingResult, 'stack'> = {
  id: 'judging',
  title: '10. Judging and background work: 200 tests beside single executions; wait: false against the blocking call',
  needs: ['stack'],

  async run(ctx) {
    const { singles: count, thinkMs, tests, asyncJobs, pollMs } = ctx.plan.judging;
    await waitAllIdle(ctx);
    const alone = await singles(ctx, 'alone', count, thinkMs);

    // The judge sends one submission of `tests` tests after another while the singles run.
    await waitAllIdle(ctx);
    const submission = { code: HELLO_CODE, tests: Array.from({ length: tests }, () => ({ expected: HELLO_OUTPUT })) };
    let stop = false;
    const judgeMs: number[] = [];
    let judgeTests = 0;
    let judgeWrong = 0;
    const judge = (async () => {
      while (!stop) {
        const started = performance.now();
        const answer = await post<TestsResult>(ctx, '/v1/executions', submission);
        judgeMs.push(performance.now() - started);
        if (answer.status !== 200) throw new Error(`the judge's submission answered ${answer.status}`);
        judgeTests += answer.body.summary.total;
        judgeWrong += answer.body.summary.total - answer.body.summary.accepted;
      }
    })();
    await sleep(200);
    const beside = await singles(ctx, `beside a judge sending ${tests} tests at a time`, count, thinkMs);
    stop = true;
    await judge;
    const judgeSeconds = judgeMs.reduce((a, b) => a + b, 0) / 1000;

    // Background: submit, poll until done; against the blocking call, alternating.
    await waitAllIdle(ctx);
    const asyncMs: number[] = [];
    const syncMs: number[] = [];
    const counter = ctx.progress.counter(`judging: ${asyncJobs} background jobs polled every ${pollMs} ms, alternating with blocking calls`, asyncJobs);
    for (let i = 0; i < asyncJobs; i += 1) {
      const started = performance.now();
      const accepted = await post<{ id: string }>(ctx, '/v1/executions', { code: HELLO_CODE, wait: false });
      if (accepted.status !== 202) throw new Error(`wait: false answered ${accepted.status}`);
      for (;;) {
        const record = (await (await fetch(`${ctx.stack.url}/v1/executions/${accepted.body.id}`)).json()) as ExecutionRecord;
        if (record.state === 'done') break;
        await sleep(pollMs);
      }
      asyncMs.push(performance.now() - started);
      const sync = await execute(ctx);
      if (sync.hello) syncMs.push(sync.ms);
      counter.tick();
      await sleep(thinkMs);
    }
    counter.done();

    return {
      singles: count,
      thinkMs,
      tests,
      alone: summarize(alone.ms),
      beside: summarize(beside.ms),
      aloneErrors: alone.errors,
      besideErrors: beside.errors,
      judgeSubmissions: judgeMs.length,
      judgeMs: summarize(judgeMs),
      judgeTestsPerSecond: judgeSeconds > 0 ? judgeTests / judgeSeconds : 0,
      judgeWrong,
      asyncJobs,
      pollMs,
      asyncMs: summarize(asyncMs),
      syncMs: summarize(syncMs),
    };
  },

  render(r) {
    return {
      method: [
        `One client sends ${r.singles} single hello-world executions, ${r.thinkMs} ms apart, first with nothing else running, then while a second client ` +
          `(a judge) sends one submission of ${r.tests} tests (the same program, each test with its expected output) after another. ` +
          'The router runs a submission’s tests a few at a time, and background work (tests, `wait: false`) claims a slot only while another stays idle ' +
          'and no client waits, so that a single execution finds a warm slot at once; the judge’s tests per second are what that costs it. ' +
          `Then ${r.asyncJobs} executions sent with \`wait: false\` and polled every ${r.pollMs} ms until done, alternating with the blocking call.`,
      ],
      tables: [
        {
          headers: ['single executions', 'requests', 'p50', 'p90', 'p99', 'max', 'p99 ÷ alone', 'errors'],
          rows: [
            ['alone', String(r.alone.n), formatMs(r.alone.p50), formatMs(r.alone.p90), formatMs(r.alone.p99), formatMs(r.alone.max), formatRatio(1), String(r.aloneErrors)],
            [
              `beside ${r.tests} tests at a time`,
              String(r.beside.n),
              formatMs(r.beside.p50),
              formatMs(r.beside.p90),
              formatMs(r.beside.p99),
              formatMs(r.beside.max),
              formatRatio(ratio(r.beside.p99, r.alone.p99)),
              String(r.besideErrors),
            ],
          ],
        },
        {
          headers: ['the judge', 'submissions', 'wall time p50', 'tests per second', 'not accepted'],
          rows: [[`${r.tests} tests each`, String(r.judgeSubmissions), formatMs(r.judgeMs.p50), formatRate(r.judgeTestsPerSecond), String(r.judgeWrong)]],
        },
        {
          headers: ['hello world', 'requests', 'p50', 'p90', 'p99', 'p50 ÷ blocking'],
          rows: [
            ['blocking call', String(r.syncMs.n), formatMs(r.syncMs.p50), formatMs(r.syncMs.p90), formatMs(r.syncMs.p99), formatRatio(1)],
            [`wait: false, polled every ${r.pollMs} ms`, String(r.asyncMs.n), formatMs(r.asyncMs.p50), formatMs(r.asyncMs.p90), formatMs(r.asyncMs.p99), formatRatio(ratio(r.asyncMs.p50, r.syncMs.p50))],
          ],
        },
      ],
      notes: [
        'A background execution pays for its queue (BullMQ on the registry’s Redis: an add, a worker’s fetch, the record’s three scripts) and the poll interval; ' +
          'it is meant for work that should outlive the client’s connection, not for speed.',
      ],
    };
  },

  targets(r): TargetCheck[] {
    const p99 = ratio(r.beside.p99, r.alone.p99);
    return [{ target: `single executions' p99 beside ${r.tests} tests ≤ ${JUDGING_P99_RATIO} × alone`, measured: formatRatio(p99), met: atMost(p99, JUDGING_P99_RATIO) }];
  },
};
