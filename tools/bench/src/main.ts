#!/usr/bin/env node
/**
 * `npm run bench`: starts what it measures (the stack, the baselines), runs every scenario side
 * by side with its baseline, and writes BENCHMARKS.md. Traffic goes to 127.0.0.0/8 only; every
 * process it starts is stopped at the end, on failure and on Ctrl-C.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hasRedisServer, randomLoopbackBase, REDIS_INSTALL_HINT, REPO_ROOT, serviceEntry, SERVICES } from '@corral/devkit';
import { resolveSandboxNode, resolveSpawnHelper } from '@corral/sandbox';
import { isFullRun, parseArgs, USAGE, type BenchArgs, type ScenarioId } from './args';
import { Cleanup, onInterrupt } from './cleanup';
import { ForeignLoadMonitor } from './foreign-load';
import { formatDuration, textTable } from './format';
import { Harness, NeedUnavailable } from './harness';
import { HttpClient } from './http';
import { backgroundLoad, collectMachineInfo } from './machine';
import { makePlan } from './plan';
import { Progress } from './progress';
import { renderReport } from './report';
import { inReportOrder, SCENARIOS } from './scenarios/all';
import { sectionOf, type Need, type RenderEnv, type Scenario } from './scenarios/scenario';
import { verdict } from './targets';

function preflight(): { nodePath: string } {
  const nodePath = resolveSandboxNode(process.env['CORRAL_SANDBOX_NODE'] || undefined);
  resolveSpawnHelper();
  for (const name of SERVICES) {
    if (!existsSync(serviceEntry(name))) throw new Error(`${relative(REPO_ROOT, serviceEntry(name))} is missing: run \`npm run build\` first.`);
  }
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HINT);
  return { nodePath };
}

function reportPath(args: BenchArgs): string {
  if (args.out) return resolve(args.out);
  return isFullRun(args) ? join(REPO_ROOT, 'BENCHMARKS.md') : join(REPO_ROOT, 'tmp', 'bench', 'BENCHMARKS.md');
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const started = performance.now();
  const generatedAt = new Date();
  const progress = new Progress();
  const cleanup = new Cleanup();
  const http = new HttpClient();
  cleanup.add('the HTTP client', () => http.close());
  let interrupted = false;
  let stoppedAfterInterrupt: Promise<void> = Promise.resolve();
  onInterrupt(async (signal) => {
    interrupted = true;
    progress.say(`${signal}: stopping everything the benchmark started…`);
    stoppedAfterInterrupt = cleanup.runAll((m) => progress.say(m));
    await stoppedAfterInterrupt;
    progress.say('stopped');
    process.exit(130);
  });

  let nodePath: string;
  try {
    ({ nodePath } = preflight());
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 1;
  }
  const machine = collectMachineInfo(REPO_ROOT, nodePath);
  const plan = makePlan(args.quick, machine.cores);
  const selected = SCENARIOS.filter((s) => args.only.includes(s.id));
  progress.say(
    `${args.quick ? 'quick' : 'full'} run of ${selected.length} scenario(s) on ${machine.cores} × ${machine.cpuModel}; ` +
      `services on node ${machine.servicesNode}, sandboxes on ${machine.sandboxNode}`,
  );

  const loadBefore = await backgroundLoad(1000, machine.cores);
  if (loadBefore > 0.1) {
    progress.say(`warning: something else keeps ${Math.round(loadBefore * 100)} % of the cores busy; the figures will be noisy`);
  }

  const monitor = new ForeignLoadMonitor(machine.cores);
  monitor.start();
  cleanup.add('the load monitor', () => monitor.stop());
  const wholeRun = monitor.checkpoint();

  const harness = new Harness({ plan, progress, cleanup, nodePath, cores: machine.cores, http }, { loopbackBase: randomLoopbackBase(), sandboxNode: machine.sandboxNode });
  const results = new Map<ScenarioId, { result: unknown; othersCpuShare: number }>();
  const failures: { title: string; message: string }[] = [];

  const attempt = async (scenario: Scenario<unknown, Need>): Promise<void> => {
    const blocked = harness.unavailable(scenario.needs);
    if (blocked !== null) return void failures.push({ title: scenario.title, message: blocked });
    const needsStack = scenario.needs.includes('stack');
    try {
      const ctx = await harness.context(scenario.needs);
      progress.say(`── ${scenario.title}`);
      if (needsStack && harness.stackDown) throw new Error(`the stack is down: ${harness.stackDown}`);
      const from = monitor.checkpoint();
      const result = await scenario.run(ctx);
      if (needsStack && harness.stackDown) throw new Error(`the stack went down during the run: ${harness.stackDown}`);
      results.set(scenario.id, { result, othersCpuShare: monitor.shareSince(from) });
    } catch (err) {
      if (interrupted) return;
      const message = (err as Error).message;
      if (err instanceof NeedUnavailable) {
        failures.push({ title: scenario.title, message: err.reason });
        progress.say(message);
      } else {
        failures.push({ title: scenario.title, message });
        progress.say(`${scenario.title} failed: ${message}`);
      }
      if (scenario.id !== 'boot') harness.showLogs();
    }
  };

  let othersDuringRun = 0;
  try {
    for (const [i, scenario] of selected.entries()) {
      if (interrupted) break;
      await attempt(scenario);
      await harness.release(selected.slice(i + 1));
    }
  } finally {
    othersDuringRun = monitor.shareSince(wholeRun);
    if (!interrupted) {
      progress.say('stopping everything the benchmark started…');
      await cleanup.runAll((m) => progress.say(m));
    }
  }
  if (interrupted) {
    await stoppedAfterInterrupt;
    return 130;
  }
  const setup = [
    ...harness.setup(),
    `Processes not started by the benchmark kept ${Math.round(loadBefore * 100)} % of the cores busy in the second before the run and ` +
      `${Math.round(othersDuringRun * 100)} % during it (from /proc; per scenario in the summary).`,
  ];

  const durationSeconds = (performance.now() - started) / 1000;
  const env: RenderEnv = { cores: machine.cores, resultOf: <R>(s: Scenario<R, Need>) => results.get(s.id)?.result as R | undefined };
  const sections = inReportOrder(SCENARIOS.filter((s) => results.has(s.id))).map((s) => {
    const { result, othersCpuShare } = results.get(s.id) as { result: unknown; othersCpuShare: number };
    return sectionOf(s, result, env, othersCpuShare);
  });
  const text = renderReport({
    generatedAt,
    mode: args.quick ? 'quick' : 'full',
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    durationSeconds,
    machine,
    setup,
    sections,
    failures,
  });
  const path = reportPath(args);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);

  const rows = sections.flatMap((s) => s.checks.map((c) => [s.title, c.target, c.measured, verdict(c.met)]));
  for (const f of failures) rows.push([f.title, '', 'failed', 'not measured']);
  process.stdout.write(`\n${textTable({ headers: ['scenario', 'target', 'measured', 'result'], align: ['left', 'left', 'right', 'left'], rows })}\n\n`);
  progress.say(`wrote ${relative(process.cwd(), path) || path} (${formatDuration(durationSeconds)})`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
