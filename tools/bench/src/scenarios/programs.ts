import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionRequest, ExecutionResult } from '@corral/client';
import { formatMs, formatRatio } from '../format';
import { ratio, summarize, type Summary } from '../stats';
import type { TargetCheck } from '../targets';
import { waitAllIdle } from './context';
import type { Scenario } from './scenario';

/** The same answer four ways: one file of JavaScript, one that loads three large built-in modules, a tree of 20 CommonJS files, TypeScript. */
const TWENTY_FILES: ExecutionRequest = {
  files: [
    { name: 'main.js', content: 'let sum = 0; for (let i = 1; i < 20; i++) sum += require(`./lib/m${i}.js`); console.log("hello", sum);' },
    ...Array.from({ length: 19 }, (_, i) => ({ name: `lib/m${i + 1}.js`, content: `module.exports = ${i + 1};` })),
  ],
};
const VARIANTS: readonly { label: string; request: ExecutionRequest }[] = [
  { label: 'one file of JavaScript', request: { code: 'console.log("hello", 190)' } },
  {
    // What node's built-in code cache saves: every built-in module compiled from source when a V8 flag makes V8 reject it (libs/sandbox/src/runtime-flags.spec.ts).
    label: 'one file loading node:http, node:crypto and node:zlib',
    request: { code: "for (const m of ['node:http', 'node:crypto', 'node:zlib']) require(m);\nconsole.log('hello', 190)" },
  },
  { label: '20 files (CommonJS requires)', request: TWENTY_FILES },
  { label: 'TypeScript (one file, type stripping)', request: { language: 'typescript', code: 'const sum: number = 190;\nconsole.log("hello", sum);' } },
];

export interface ProgramsResult {
  requests: number;
  thinkMs: number;
  variants: { label: string; latency: Summary; jobCpu: Summary; errors: number }[];
}

/** Scenario 9: multi-file and TypeScript jobs beside single-file JavaScript, at low load. */
export const programs: Scenario<ProgramsResult, 'stack'> = {
  id: 'programs',
  title: '9. Programs: 20 files and TypeScript beside one file of JavaScript',
  needs: ['stack'],

  async run(ctx) {
    const { requests, thinkMs } = ctx.plan.programs;
    const samples = VARIANTS.map(() => ({ latency: [] as number[], cpu: [] as number[], errors: 0 }));
    const counter = ctx.progress.counter(`programs: ${VARIANTS.length} kinds of job, alternating, ${thinkMs} ms apart`, requests * VARIANTS.length);
    await waitAllIdle(ctx);
    for (let i = 0; i < requests; i += 1) {
      for (const [v, variant] of VARIANTS.entries()) {
        const started = performance.now();
        const answer = await ctx.corral.execute(variant.request, { raw: true });
        const ms = performance.now() - started;
        const body = answer.body as ExecutionResult;
        const sample = samples[v]!;
        if (answer.status === 200 && body.status === 'ok' && body.stdout === 'hello 190\n') {
          sample.latency.push(ms);
          sample.cpu.push(body.cpuMs);
        } else sample.errors += 1;
        counter.tick();
        await sleep(thinkMs);
      }
    }
    counter.done();
    return {
      requests,
      thinkMs,
      variants: VARIANTS.map((v, i) => ({ label: v.label, latency: summarize(samples[i]!.latency), jobCpu: summarize(samples[i]!.cpu), errors: samples[i]!.errors })),
    };
  },

  render(r) {
    const base = r.variants[0]!;
    return {
      method: [
        `One client sends the same answer as ${r.variants.length} kinds of job, alternating, ${r.thinkMs} ms apart, ${r.requests} of each: one file of JavaScript, ` +
          'one that first loads `node:http`, `node:crypto` and `node:zlib` (built-in modules no sandbox loads at boot: from node\'s code cache), ' +
          'a tree of 20 CommonJS files (the entry requires the other 19), and one file of TypeScript (`language: "typescript"`, run as ' +
          '`node main.ts` runs it: the runtime strips the types). Every job runs in a warm sandbox; its files arrive with the job. ' +
          "Latency is the client's round trip; job CPU is the result's `cpuMs` (the sandbox's CPU after it became ready).",
      ],
      tables: [
        {
          headers: ['job', 'requests', 'p50', 'p90', 'p99', 'job CPU p50', 'p50 ÷ one file', 'errors'],
          rows: r.variants.map((v) => [
            v.label,
            String(v.latency.n),
            formatMs(v.latency.p50),
            formatMs(v.latency.p90),
            formatMs(v.latency.p99),
            formatMs(v.jobCpu.p50),
            formatRatio(ratio(v.latency.p50, base.latency.p50)),
            String(v.errors),
          ]),
        },
      ],
      notes: [
        'TypeScript arrives stripped of its types by the worker (libs/sandbox/src/typescript.ts): the sandbox does not load the runtime’s own ' +
          'stripper, a WebAssembly build of swc that costs about 65 ms of CPU in every process that strips (as it does for `node main.ts`).',
      ],
    };
  },

  targets(): TargetCheck[] {
    return [];
  },
};
