import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '@corral/devkit';
import { formatMs } from '../format';
import { summarize, type Summary } from '../stats';
import { atMost, type TargetCheck } from '../targets';
import { HELLO, HELLO_CODE, HELLO_OUTPUT, waitAllIdle } from './context';
import type { Scenario } from './scenario';

/** The built `corral` command (apps/cli), as `npx corral` runs it. */
const CLI = join(REPO_ROOT, 'apps', 'cli', 'bin', 'corral.js');
/** What the command may add to a bare node process making the same call, at the median. */
const MAX_EXTRA_P50_MS = 150;

/** The bare baseline: node, one fetch of the same request, its stdout printed; nothing else loaded. */
function bareScript(url: string): string {
  return `fetch(${JSON.stringify(`${url}/v1/executions`)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(JSON.stringify(HELLO))} })
    .then((r) => r.json()).then((j) => { process.stdout.write(j.stdout); process.exitCode = j.exitCode; });`;
}

export interface CliResult {
  requests: number;
  thinkMs: number;
  cli: Summary;
  bare: Summary;
  client: Summary;
  errors: { cli: number; bare: number; client: number };
}

/** A process to its exit, as a shell sees it. Resolves with its time, or null when it did not print hello and exit 0. */
function timeProcess(nodePath: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(nodePath, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', () => resolve(null));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && out === HELLO_OUTPUT ? performance.now() - started : null);
    });
  });
}

/** Scenario 11: the `corral` command beside one call of @corral/client, hello world, alternating. */
export const cli: Scenario<CliResult, 'stack'> = {
  id: 'cli',
  title: '11. The corral command: `corral run` beside a bare node fetch and a client call',
  needs: ['stack'],

  async run(ctx) {
    const { requests, thinkMs } = ctx.plan.cli;
    const dir = mkdtempSync(join(tmpdir(), 'corral-bench-cli-'));
    ctx.cleanup.add('the CLI bench folder', async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'hello.js');
    writeFileSync(file, HELLO_CODE);
    const samples = { cli: [] as number[], bare: [] as number[], client: [] as number[] };
    const errors = { cli: 0, bare: 0, client: 0 };
    const counter = ctx.progress.counter(`cli: corral run, a bare node fetch and a client call, alternating, ${thinkMs} ms apart`, requests * 3);
    const processes = {
      cli: [CLI, 'run', file, '--url', ctx.stack.url],
      bare: ['-e', bareScript(ctx.stack.url)],
    };
    await waitAllIdle(ctx);
    for (let i = 0; i < requests; i += 1) {
      for (const how of ['cli', 'bare'] as const) {
        const ms = await timeProcess(ctx.nodePath, processes[how]);
        if (ms === null) errors[how] += 1;
        else samples[how].push(ms);
        counter.tick();
        await sleep(thinkMs);
      }
      const started = performance.now();
      const answer = await ctx.corral.execute(HELLO, { raw: true });
      if (answer.ok && answer.body.stdout === HELLO_OUTPUT) samples.client.push(performance.now() - started);
      else errors.client += 1;
      counter.tick();
      await sleep(thinkMs);
    }
    counter.done();
    if (samples.cli.length === 0) throw new Error(`corral run never printed hello and exited 0 (${errors.cli} runs): is apps/cli built?`);
    if (samples.bare.length === 0) throw new Error(`the bare node fetch never printed hello (${errors.bare} runs)`);
    if (samples.client.length === 0) throw new Error(`no client call answered hello (${errors.client} calls)`);
    return { requests, thinkMs, cli: summarize(samples.cli), bare: summarize(samples.bare), client: summarize(samples.client), errors };
  },

  render(r) {
    const row = (label: string, s: Summary, errors: number): string[] => [label, String(s.n), formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), String(errors)];
    return {
      method: [
        `Hello world ${r.requests} times each way, alternating, ${r.thinkMs} ms apart, against the same stack: \`corral run hello.js\` as a new ` +
          'process (node starting, the command loading, reading the file, one call, printing, exiting: what a shell waits for); the ' +
          'baseline, a bare `node -e` that makes the same call with fetch and prints its stdout (node starting, nothing else loaded); and ' +
          'one `execute` call of @corral/client from the running harness (no process at all).',
      ],
      tables: [
        {
          headers: ['how', 'runs', 'p50', 'p90', 'p99', 'errors'],
          rows: [
            row('corral run (whole process)', r.cli, r.errors.cli),
            row('node -e fetch (baseline process)', r.bare, r.errors.bare),
            row('client execute (no process)', r.client, r.errors.client),
          ],
        },
      ],
      notes: [
        "corral run − node -e is what the command itself costs (commander, the client, reading the file); node -e − client execute is node's own start.",
      ],
    };
  },

  targets(r): TargetCheck[] {
    const extra = r.cli.p50 - r.bare.p50;
    return [
      {
        target: `corral run p50 − node -e fetch p50 ≤ ${MAX_EXTRA_P50_MS} ms`,
        measured: formatMs(extra),
        met: atMost(extra, MAX_EXTRA_P50_MS),
      },
    ];
  },
};
