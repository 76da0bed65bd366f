#!/usr/bin/env node
/**
 * `npm run bench`: starts what it measures (the stack, the baselines), runs every scenario of
 * the issue "Speed" side by side with its baseline, and writes BENCHMARKS.md. Traffic goes to
 * 127.0.0.0/8 only; every process it starts is stopped at the end, on failure and on Ctrl-C.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hasRedisServer, randomLoopbackBase, REDIS_INSTALL_HINT, REPO_ROOT, serviceEntry, SERVICES, startStack, type Stack } from '@corral/devkit';
import { Registry } from '@corral/registry';
import { BOOTSTRAP_PATH, prepareJail, resolveSandboxNode, resolveSpawnHelper } from '@corral/sandbox';
import { isFullRun, parseArgs, USAGE, type BenchArgs, type ScenarioId } from './args';
import { startNaiveServer } from './baselines';
import { Cleanup, onInterrupt } from './cleanup';
import { ForeignLoadMonitor } from './foreign-load';
import { formatDuration, textTable } from './format';
import { HttpClient } from './http';
import { backgroundLoad, collectMachineInfo } from './machine';
import { makePlan } from './plan';
import { Progress } from './progress';
import { renderReport } from './report';
import { benchNetprov } from './netprov';
import { runBootScenario, type BootVariant } from './scenarios/boot';
import { runWatchdogScenario } from './scenarios/watchdog';
import { jailChecks, netprovSection, watchdogSection } from './sections-ops';
import type { StackContext } from './scenarios/context';
import { runLatency } from './scenarios/latency';
import { runMixed } from './scenarios/mixed';
import { runOverhead } from './scenarios/overhead';
import { runThroughput } from './scenarios/throughput';
import { bootSection, latencySection, mixedSection, overheadSection, throughputSection, type Section } from './sections';
import { verdict } from './targets';

const TITLES: Record<ScenarioId, string> = {
  latency: '1. Hello-world latency at low load',
  throughput: '2. Sustained throughput at saturation',
  boot: '3. Sandbox boot',
  overhead: '4. Router overhead',
  mixed: '5. Mixed load',
  watchdog: '6. Watchdog overhead',
  netprov: '7. netprov: 1000 tap slots',
};

/** The order scenarios run in: boot first (nothing else running), the hostile programs last. */
const RUN_ORDER: readonly ScenarioId[] = ['boot', 'watchdog', 'netprov', 'latency', 'overhead', 'throughput', 'mixed'];

/** Scenarios that run before (and without) the stack. */
const OFF_STACK: readonly ScenarioId[] = ['boot', 'watchdog', 'netprov'];

function preflight(): { nodePath: string } {
  const nodePath = resolveSandboxNode(process.env['CORRAL_SANDBOX_NODE'] || undefined);
  resolveSpawnHelper();
  for (const name of SERVICES) {
    if (!existsSync(serviceEntry(name))) throw new Error(`${relative(REPO_ROOT, serviceEntry(name))} is missing: run \`npm run build\` first.`);
  }
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HINT);
  return { nodePath };
}

/**
 * The sandbox as the worker boots it when root (every layer this host allows: bubblewrap, a uid,
 * a cgroup), side by side with the default (the permission model and rlimits only).
 */
function bootVariants(nodePath: string, cleanup: Cleanup): BootVariant[] {
  const jail = prepareJail({
    mode: 'auto',
    hostId: `bench-${process.pid}`,
    nodePath,
    bootstrapPath: BOOTSTRAP_PATH,
    uidBase: 200_000,
    useCgroups: true,
    pidsMax: 64,
    tmpMb: 16,
    nprocMax: 64,
  });
  cleanup.add('the benchmark cgroups', () => jail.release());
  const layers = Object.entries(jail.layers).map(([layer, state]) => `${layer}: ${state}`).join('; ');
  return [
    { label: 'default', description: 'the permission model, an empty environment and the baseline rlimits under corral-spawn; no further jail layers' },
    { label: 'jailed', description: `every layer this host allows, as the worker boots it (${layers})`, options: (sample) => ({ jail: jail.spec(0, `bench-${process.pid}-${sample + 1}`, 128 + 96) }) },
  ];
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
  const client = new HttpClient();
  cleanup.add('the HTTP client', () => client.close());
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
  const wanted = new Set(args.only);
  progress.say(
    `${args.quick ? 'quick' : 'full'} run of ${RUN_ORDER.filter((id) => wanted.has(id)).length} scenario(s) on ${machine.cores} × ${machine.cpuModel}; ` +
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

  const sections = new Map<ScenarioId, Section>();
  const failures: { title: string; message: string }[] = [];
  const attempt = async (id: ScenarioId, run: () => Promise<Section>): Promise<void> => {
    if (!wanted.has(id) || interrupted) return;
    progress.say(`── ${TITLES[id]}`);
    try {
      const from = monitor.checkpoint();
      const section = await run();
      section.othersCpuShare = monitor.shareSince(from);
      sections.set(id, section);
    } catch (err) {
      if (interrupted) return;
      const message = (err as Error).message;
      failures.push({ title: TITLES[id], message });
      progress.say(`${TITLES[id]} failed: ${message}`);
      if (id !== 'boot') showLogs();
    }
  };

  const loopbackBase = randomLoopbackBase();
  const setup = [
    `The harness itself is the load generator (one node process, node:http with keep-alive connections) and runs on the same ${machine.cores} cores as everything it measures.`,
    `Sandbox runtime: ${relative(REPO_ROOT, nodePath) || nodePath} (${machine.sandboxNode}); the naive baseline and \`node -e 0\` use the same binary.`,
  ];
  let stackDown: string | null = null;
  let othersDuringRun = 0;
  // The services' logs: the last lines, for when something fails, and the worker's sandbox layers for the report.
  const recentLogs: string[] = [];
  let sandboxLayers: string | null = null;
  const serviceLog = (line: string): void => {
    recentLogs.push(line);
    if (recentLogs.length > 100) recentLogs.shift();
    if (line.includes('"sandbox layers"')) {
      try {
        const layers = (JSON.parse(line) as { layers?: Record<string, string> }).layers ?? {};
        sandboxLayers = Object.entries(layers).map(([layer, state]) => `${layer}: ${state}`).join('; ');
      } catch {
        // not JSON after all
      }
    }
  };
  const showLogs = (): void => {
    if (recentLogs.length === 0) return;
    progress.say(`the services' last log lines:\n${recentLogs.slice(-20).join('\n')}`);
  };
  const runOnStack = async (): Promise<void> => {
    const naive = wanted.has('latency') || wanted.has('overhead') ? await startNaiveServer(nodePath, cleanup) : null;
    progress.say(`starting the stack: ${plan.slots} slots from ${loopbackBase}, a private redis-server, netprov, worker, watchdog, router…`);
    const stackStarted = performance.now();
    const stack: Stack = await startStack({
      slots: plan.slots,
      loopbackBase,
      output: serviceLog,
      onUnexpectedExit: (service, code) => {
        stackDown = `${service} exited unexpectedly (${code})`;
        progress.say(stackDown);
      },
    });
    cleanup.add('the stack', () => stack.stop());
    progress.say(`stack ready at ${stack.url} in ${((performance.now() - stackStarted) / 1000).toFixed(1)} s`);
    setup.unshift(
      `Stack: ${plan.slots} slots (loopback backend, ${loopbackBase} on), router, worker, watchdog and a private redis-server, each its own process as ` +
        `deployed (startStack from @corral/devkit), default configuration, LOG_LEVEL=${process.env['LOG_LEVEL'] || 'info'} (the logs go to the harness, which keeps the last lines).`,
    );
    setup.splice(1, 0, `The worker's sandbox layers: ${sandboxLayers ?? 'not logged by this worker (the permission model, an empty environment and rlimits under corral-spawn)'}.`);
    const registry = await Registry.connect({ url: stack.redisUrl, prefix: stack.prefix });
    cleanup.add('the Redis connection', () => registry.close());
    const ctx: StackContext = { client, progress, plan, stack, registry, nodePath };
    const guarded = (run: () => Promise<Section>) => async (): Promise<Section> => {
      if (stackDown) throw new Error(`the stack is down: ${stackDown}`);
      const section = await run();
      if (stackDown) throw new Error(`the stack went down during the run: ${stackDown}`);
      return section;
    };
    await attempt('latency', guarded(async () => latencySection(await runLatency(ctx, (naive as { url: string }).url))));
    await attempt('overhead', guarded(async () => overheadSection(await runOverhead(ctx, (naive as { url: string }).url))));
    await naive?.stop();
    await attempt('throughput', guarded(async () => throughputSection(await runThroughput(ctx), machine.cores)));
    await attempt('mixed', guarded(async () => mixedSection(await runMixed(ctx))));
  };

  try {
    await attempt('boot', async () => {
      const result = await runBootScenario({ ...plan.boot, variants: bootVariants(nodePath, cleanup), progress, cleanup });
      const section = bootSection(result);
      section.checks.push(...jailChecks(result));
      return section;
    });
    await attempt('watchdog', async () => watchdogSection(await runWatchdogScenario({ ...plan.watchdog, progress, cleanup })));
    await attempt('netprov', async () => {
      if (process.getuid?.() !== 0) throw new Error('needs root (tap devices inside a network namespace of its own)');
      return netprovSection(await benchNetprov({ ...plan.netprov, progress: (line) => progress.say(`netprov: ${line}`) }));
    });

    const onStack = RUN_ORDER.filter((id) => !OFF_STACK.includes(id) && wanted.has(id));
    if (!interrupted && onStack.length > 0) {
      try {
        await runOnStack();
      } catch (err) {
        if (!interrupted) {
          // The stack (or the naive server) could not start: what needs it is not measured.
          const message = (err as Error).message;
          progress.say(`cannot run the scenarios that need the stack: ${message}`);
          showLogs();
          for (const id of onStack) {
            if (!sections.has(id) && !failures.some((f) => f.title === TITLES[id])) failures.push({ title: TITLES[id], message });
          }
        }
      }
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
  setup.push(
    `Processes not started by the benchmark kept ${Math.round(loadBefore * 100)} % of the cores busy in the second before the run and ` +
      `${Math.round(othersDuringRun * 100)} % during it (from /proc; per scenario in the summary).`,
  );

  // Scenario 1 is back to back; scenario 4 measured the same request on an idle pool: say so next to it.
  const overheadResult = sections.get('overhead');
  const routerRow = overheadResult?.tables[0]?.rows[1];
  if (routerRow) {
    sections.get('latency')?.notes.push(
      `For comparison: the same request through the router when every slot is idle before it (no sandbox booting in the background; scenario 4) has p50 ${routerRow[2]}, p90 ${routerRow[3]}, p99 ${routerRow[4]}.`,
    );
  }

  const durationSeconds = (performance.now() - started) / 1000;
  const ordered = (['latency', 'throughput', 'boot', 'overhead', 'mixed', 'watchdog', 'netprov'] as const).flatMap((id) => sections.get(id) ?? []);
  const text = renderReport({
    generatedAt,
    mode: args.quick ? 'quick' : 'full',
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    durationSeconds,
    machine,
    setup,
    sections: ordered,
    failures,
  });
  const path = reportPath(args);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);

  const rows = ordered.flatMap((s) => s.checks.map((c) => [s.title, c.target, c.measured, verdict(c.met)]));
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
