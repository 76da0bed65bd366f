import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionRequest } from '@corral/client';
import { formatMs, formatRatio } from '../format';
import { closedLoop } from '../http';
import { threadsCpuMs } from '../procfs';
import { median, ratio, summarize, type Summary } from '../stats';
import { atMost, type TargetCheck } from '../targets';
import { execute, waitAllIdle } from './context';
import { MIXED_P99_RATIO } from './mixed';
import type { Scenario, ScenarioContext } from './scenario';

/** 1 MiB (the default output cap) written three ways: what each costs the worker. */
const BYTE_PER_WRITE = "for (let i = 0; i < 1 << 20; i++) process.stdout.write('x')";
const PATTERNS: readonly { label: string; code: string }[] = [
  { label: 'one write of 1 MiB', code: "process.stdout.write('x'.repeat(1 << 20))" },
  { label: '1 KiB lines', code: "const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 1024; i++) process.stdout.write(line)" },
  { label: 'a byte per write', code: BYTE_PER_WRITE },
];

/**
 * The worker's CPU for a byte-per-write flood of 1 MiB ÷ for one write of 1 MiB, at most: it
 * reads chunks, not writes (before the relay, a flood like it cost the worker 8.2 s of CPU).
 */
export const OUTPUT_TARGETS = { floodCpuRatio: 5 } as const;

export interface OutputResult {
  jobs: number;
  patterns: { label: string; workerCpuMs: number; durationMs: number; status: string }[];
  /** Hello worlds on the other slots, alone and beside a byte-per-write flood. */
  alone: Summary;
  beside: Summary;
  floods: number;
}

/**
 * The worker's CPU so far, in ms: every thread's scheduler count (ns). /proc/<pid>/stat counts in
 * 10 ms clock ticks, a whole tick of a job of 10-20 ms, and turned the ratio checked below into a
 * ratio of small integers (60/10 = 6.0× one run, 80/20 = 4.0× the run before).
 */
function processCpuMs(pid: number): number {
  return threadsCpuMs(pid);
}

async function helloLoop(ctx: ScenarioContext<'stack'>, requests: number): Promise<number[]> {
  const ms: number[] = [];
  await closedLoop(
    1,
    (seq) => seq < requests,
    async () => {
      const answer = await execute(ctx);
      if (answer.hello) ms.push(answer.ms);
      await sleep(50);
    },
  );
  return ms;
}

/** Scenario 8: output floods, and what they cost the worker and the other slots. */
export const output: Scenario<OutputResult, 'stack'> = {
  id: 'output',
  title: '8. Output floods: what a job’s writes cost the worker',
  needs: ['stack'],

  async run(ctx) {
    const { jobs, helloRequests } = ctx.plan.output;
    const worker = ctx.stack.services.get('worker')?.child.pid;
    if (!worker) throw new Error('no worker process');
    const patterns: OutputResult['patterns'] = [];
    for (const pattern of PATTERNS) {
      const cpu: number[] = [];
      const duration: number[] = [];
      let status = '';
      const counter = ctx.progress.counter(`output: ${pattern.label}`, jobs);
      for (let i = 0; i < jobs; i += 1) {
        await waitAllIdle(ctx);
        const before = processCpuMs(worker);
        const request: ExecutionRequest = { code: pattern.code, timeoutMs: 30_000 };
        const answer = await ctx.corral.execute(request, { raw: true });
        // The replacement sandbox's boot belongs to every job alike: wait for it, then read.
        await waitAllIdle(ctx);
        cpu.push(processCpuMs(worker) - before);
        const body = answer.body as { status?: string; durationMs?: number };
        duration.push(body.durationMs ?? 0);
        status = body.status ?? `http ${answer.status}`;
        counter.tick();
      }
      counter.done(`worker CPU ${median(cpu).toFixed(0)} ms per job`);
      patterns.push({ label: pattern.label, workerCpuMs: median(cpu), durationMs: median(duration), status });
    }
    await waitAllIdle(ctx);
    const alone = await helloLoop(ctx, helloRequests);
    // Floods one after another on one slot while the hello worlds run on the others.
    let flooding = true;
    let floods = 0;
    const flood = (async () => {
      while (flooding) {
        await ctx.corral.execute({ code: BYTE_PER_WRITE, timeoutMs: 30_000 }, { raw: true });
        floods += 1;
      }
    })();
    const beside = await helloLoop(ctx, helloRequests);
    flooding = false;
    await flood;
    return { jobs, patterns, alone: summarize(alone), beside: summarize(beside), floods };
  },

  render(r) {
    return {
      method: [
        `Each way of writing 1 MiB (the default output cap) runs ${r.jobs} times on an idle pool; the worker process's CPU (user + system, from ` +
          '/proc) is read before the request and after the slot is idle again, so each job carries one replacement boot alike. ' +
          'The sandbox writes into pipes of corral-spawn, which moves what they hold to the worker; after a small move a stream is left ' +
          'alone for 2 ms. Then one client sends hello worlds (50 ms apart) alone, and again while byte-per-write floods run one after ' +
          'another on another slot.',
      ],
      tables: [
        {
          headers: ['1 MiB written as', 'worker CPU per job (median)', 'job duration (median)', 'status'],
          rows: r.patterns.map((p) => [p.label, formatMs(p.workerCpuMs), formatMs(p.durationMs), p.status]),
        },
        {
          headers: ['hello worlds on the other slots', 'requests', 'p50', 'p99', 'max'],
          rows: [
            ['alone', String(r.alone.n), formatMs(r.alone.p50), formatMs(r.alone.p99), formatMs(r.alone.max)],
            [`beside ${r.floods} byte-per-write floods`, String(r.beside.n), formatMs(r.beside.p50), formatMs(r.beside.p99), formatMs(r.beside.max)],
            ['beside ÷ alone', '', formatRatio(ratio(r.beside.p50, r.alone.p50)), formatRatio(ratio(r.beside.p99, r.alone.p99)), ''],
          ],
        },
      ],
      notes: [],
    };
  },

  targets(r): TargetCheck[] {
    const flood = r.patterns.find((p) => p.label === 'a byte per write');
    const one = r.patterns.find((p) => p.label === 'one write of 1 MiB');
    const cpu = flood && one ? ratio(flood.workerCpuMs, one.workerCpuMs) : null;
    const p99 = ratio(r.beside.p99, r.alone.p99);
    return [
      {
        target: `worker CPU, 1 MiB a byte per write ÷ in one write ≤ ${OUTPUT_TARGETS.floodCpuRatio}×`,
        measured: formatRatio(cpu),
        met: atMost(cpu, OUTPUT_TARGETS.floodCpuRatio),
      },
      { target: `other slots' hello p99 beside floods ÷ alone ≤ ${MIXED_P99_RATIO}×`, measured: formatRatio(p99), met: atMost(p99, MIXED_P99_RATIO) },
    ];
  },
};
