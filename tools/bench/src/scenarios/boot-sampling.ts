import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BASE_RLIMITS, BOOTSTRAP_PATH, jailedProgramArgs, JAILED_NODE, resolveSandboxNode, resolveSpawnHelper, Sandbox, type SandboxOptions } from '@corral/sandbox';
import { runNodeMeasured, runSpawnHelper, startIdleNode } from '../baselines';
import type { Cleanup } from '../cleanup';
import { machineBusyMs, mainThreadCpuMs, readMemory, readStat, threadsCpuMs, type Memory } from '../procfs';
import type { Progress } from '../progress';
import { summarize, type Summary } from '../stats';

export interface BootVariantResult {
  label: string;
  /** What is different about this variant (its Sandbox options). */
  description: string;
  samples: number;
  /** From `new Sandbox()` to `ready`. */
  readyMs: Summary;
  /** CPU of every thread of the sandbox process when sampled (booted, waiting for its job). */
  cpuMs: Summary;
  /** The main thread alone (what /proc/<pid>/schedstat and Sandbox.cpuUsedMs() see). */
  mainThreadCpuMs: Summary;
  rssKb: Summary;
  rssAnonKb: Summary;
  rssFileKb: Summary;
  pssKb: Summary | null;
  /** The processes between the harness and the runtime: corral-spawn, and a jail's own (bubblewrap) when there is one. */
  launcherRssKb: Summary | null;
  /** Their CPU when sampled (live processes only: one that set up the jail and ended is not counted). */
  launcherCpuMs: Summary | null;
}

/**
 * `node -e 0` behind every layer of a jailed variant, against `node -e 0` under corral-spawn
 * alone: what the jail costs a process that does nothing, with nothing of corral's own (no
 * bootstrap, no runtime flags, no worker). No execution behind every layer can cost less.
 */
export interface JailFloor {
  /** The variant whose jail it is. */
  label: string;
  runs: number;
  /** User + system CPU of every process below corral-spawn (from its wait4; bubblewrap's too), ms. */
  bareCpuMs: Summary;
  jailedCpuMs: Summary;
  bareWallMs: Summary;
  jailedWallMs: Summary;
  /** Busy time of all cores (/proc/stat) across the runs, per run, ms: the kernel's deferred teardown included. */
  bareMachineMs: number;
  jailedMachineMs: number;
}

export interface BootResult {
  samples: number;
  /** Both the warm sandbox and the idle bare node are sampled this long after they were started. */
  sampleAfterMs: number;
  variants: BootVariantResult[];
  /** `node -e 0`: whole-life CPU (user + system, every thread, from wait4) and wall time. */
  bareCpuMs: Summary;
  bareWallMs: Summary;
  bareMaxRssKb: Summary;
  /** Idle `node -e "setInterval(()=>{},1e9)"`, sampled like the sandbox. */
  idleCpuMs: Summary;
  idleRssKb: Summary;
  idleRssAnonKb: Summary;
  idleRssFileKb: Summary;
  idlePssKb: Summary | null;
  /** Only when a variant runs behind bubblewrap. */
  floor: JailFloor | null;
}

/**
 * One way of booting a sandbox, to compare with others side by side: a label and the Sandbox
 * options that differ from the defaults (e.g. `{ jail: … }` for extra jail layers).
 */
export interface BootVariant {
  label: string;
  description?: string;
  /**
   * Fields that differ from `sandboxOptions`' defaults; a function gives every sandbox options of
   * its own (a jail whose cgroup is named per sandbox, say). `sample` counts from 0; warm-up is −1.
   */
  options?: Partial<SandboxOptions> | ((sample: number) => Partial<SandboxOptions>);
}

function optionsFor(variant: BootVariant, cwd: string, sample: number): SandboxOptions {
  const extra = typeof variant.options === 'function' ? variant.options(sample) : variant.options;
  return sandboxOptions(cwd, extra);
}

/** A Sandbox with the worker's heap and baseline rlimits and no further jail layers. */
export const DEFAULT_BOOT_VARIANTS: readonly BootVariant[] = [
  { label: 'default', description: 'the permission model, an empty environment and the baseline rlimits under corral-spawn; no further jail layers' },
];

/** The worker's default heap (CORRAL_DEFAULT_MEMORY_MB) and baseline rlimits (apps/worker). */
const DEFAULT_HEAP_MB = 128;

/**
 * The one place where the benchmark builds Sandbox options: the defaults the worker uses,
 * then `overrides` (fields the constructor gains later pass through untouched).
 */
export function sandboxOptions(cwd: string, overrides: Partial<SandboxOptions> = {}): SandboxOptions {
  return {
    nodePath: resolveSandboxNode(process.env['CORRAL_SANDBOX_NODE'] || undefined),
    helperPath: resolveSpawnHelper(),
    bootstrapPath: BOOTSTRAP_PATH,
    heapMb: DEFAULT_HEAP_MB,
    cwd,
    rlimits: BASE_RLIMITS,
    ...overrides,
  };
}

export interface BootOptions {
  variants?: readonly BootVariant[];
  samples: number;
  /** Every process is sampled this long after it was started. */
  sampleAfterMs: number;
  progress: Progress;
  cleanup: Cleanup;
}

interface SandboxSample {
  readyMs: number;
  cpuMs: number;
  mainThreadCpuMs: number;
  memory: Memory;
  launcherRssKb: number | null;
  launcherCpuMs: number | null;
}

/** The processes between the harness and `pid` (corral-spawn, and a jail's own when there is one). */
function launcherChain(pid: number): number[] {
  const chain: number[] = [];
  let current = readStat(pid).ppid;
  while (current > 1 && current !== process.pid && chain.length < 8) {
    chain.push(current);
    current = readStat(current).ppid;
  }
  return chain;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return '?';
  }
}

/** Boots one sandbox, samples it `sampleAfterMs` after it was started, and kills it. */
export async function sampleSandbox(options: SandboxOptions, sampleAfterMs: number, cleanup: Cleanup): Promise<SandboxSample> {
  const started = performance.now();
  const sandbox = new Sandbox(options);
  const unregister = cleanup.add('a sandbox', async () => {
    sandbox.kill();
    await sandbox.exited;
  });
  try {
    await sandbox.ready;
    const readyMs = performance.now() - started;
    const pid = sandbox.pid;
    if (pid === null) throw new Error('the sandbox is ready but has no pid');
    await sleep(Math.max(0, started + sampleAfterMs - performance.now()));
    const chain = launcherChain(pid);
    const launcherRssKb = chain.length > 0 ? chain.reduce((sum, p) => sum + readMemory(p).vmRssKb, 0) : null;
    const launcherCpuMs = chain.length > 0 ? chain.reduce((sum, p) => sum + threadsCpuMs(p), 0) : null;
    if (chain.length > 0 && !chain.map(comm).some((name) => name.startsWith('corral-spawn'))) {
      throw new Error(`unexpected process tree above the sandbox: ${chain.map(comm).join(' < ')}`);
    }
    return { readyMs, cpuMs: threadsCpuMs(pid), mainThreadCpuMs: mainThreadCpuMs(pid), memory: readMemory(pid), launcherRssKb, launcherCpuMs };
  } finally {
    sandbox.kill();
    await sandbox.exited;
    unregister();
  }
}

function summarizeSandbox(variant: BootVariant, samples: readonly SandboxSample[]): BootVariantResult {
  const pss = samples.map((s) => s.memory.pssKb).filter((v): v is number => v !== null);
  const launcher = samples.map((s) => s.launcherRssKb).filter((v): v is number => v !== null);
  const launcherCpu = samples.map((s) => s.launcherCpuMs).filter((v): v is number => v !== null);
  return {
    label: variant.label,
    description: variant.description ?? '',
    samples: samples.length,
    readyMs: summarize(samples.map((s) => s.readyMs)),
    cpuMs: summarize(samples.map((s) => s.cpuMs)),
    mainThreadCpuMs: summarize(samples.map((s) => s.mainThreadCpuMs)),
    rssKb: summarize(samples.map((s) => s.memory.vmRssKb)),
    rssAnonKb: summarize(samples.map((s) => s.memory.rssAnonKb)),
    rssFileKb: summarize(samples.map((s) => s.memory.rssFileKb)),
    pssKb: pss.length === samples.length ? summarize(pss) : null,
    launcherRssKb: launcher.length === samples.length ? summarize(launcher) : null,
    launcherCpuMs: launcherCpu.length === samples.length ? summarize(launcherCpu) : null,
  };
}

/** One run, timed, with the busy time of all cores across it. */
async function withMachineCpu<T>(run: () => Promise<T>): Promise<{ result: T; machineMs: number }> {
  const before = machineBusyMs();
  const result = await run();
  return { result, machineMs: machineBusyMs() - before };
}

/**
 * The jail's floor (see JailFloor): `runs` pairs, one process at a time, the order alternating;
 * null when no variant runs behind bubblewrap.
 */
async function measureJailFloor(
  variants: readonly BootVariant[],
  cwd: string,
  runs: number,
  helperPath: string,
  nodePath: string,
  progress: Progress,
): Promise<JailFloor | null> {
  const variant = variants.find((v) => optionsFor(v, cwd, -1).jail?.bwrap);
  if (!variant) return null;
  const bare = (): Promise<SpawnRun> => runNodeMeasured(helperPath, nodePath, ['-e', '0']);
  const jailed = (i: number): Promise<SpawnRun> => {
    const options = optionsFor(variant, cwd, 1000 + i);
    return runSpawnHelper(options.helperPath, jailedProgramArgs(options, [JAILED_NODE, '-e', '0']), 4, options.cwd);
  };
  await bare();
  await jailed(-1);
  const bares: SpawnRun[] = [];
  const jaileds: SpawnRun[] = [];
  let bareMachineMs = 0;
  let jailedMachineMs = 0;
  const counter = progress.counter(`the jail's floor: node -e 0 bare and behind every layer of the ${variant.label} variant`, runs);
  for (let i = 0; i < runs; i += 1) {
    for (const which of i % 2 === 0 ? (['bare', 'jailed'] as const) : (['jailed', 'bare'] as const)) {
      const { result, machineMs } = await withMachineCpu(() => (which === 'bare' ? bare() : jailed(i)));
      if (result.exitCode !== 0) throw new Error(`node -e 0 (${which}) exited with ${result.exitCode ?? `signal ${result.signal}`}`);
      if (which === 'bare') {
        bares.push(result);
        bareMachineMs += machineMs;
      } else {
        jaileds.push(result);
        jailedMachineMs += machineMs;
      }
    }
    counter.tick();
  }
  const floor: JailFloor = {
    label: variant.label,
    runs,
    bareCpuMs: summarize(bares.map((r) => r.cpuMs)),
    jailedCpuMs: summarize(jaileds.map((r) => r.cpuMs)),
    bareWallMs: summarize(bares.map((r) => r.wallMs)),
    jailedWallMs: summarize(jaileds.map((r) => r.wallMs)),
    bareMachineMs: bareMachineMs / runs,
    jailedMachineMs: jailedMachineMs / runs,
  };
  counter.done(`bare ${floor.bareMachineMs.toFixed(1)} ms, jailed ${floor.jailedMachineMs.toFixed(1)} ms of machine CPU per run`);
  return floor;
}

type SpawnRun = Awaited<ReturnType<typeof runNodeMeasured>>;

/**
 * CPU and resident memory of a warm sandbox (one per variant) against `node -e 0` (CPU) and an
 * idle bare node (RSS) of the same runtime. Samples interleave the variants and the baselines,
 * one process at a time.
 */
export async function runBootScenario(options: BootOptions): Promise<BootResult> {
  const variants = options.variants ?? DEFAULT_BOOT_VARIANTS;
  if (variants.length === 0) throw new Error('no sandbox variant to measure');
  const { samples, sampleAfterMs, progress, cleanup } = options;
  const cwd = mkdtempSync(join(tmpdir(), 'corral-bench-'));
  const removeCwd = cleanup.add('the sandbox directory', () => rmSync(cwd, { recursive: true, force: true }));
  try {
    const nodePath = sandboxOptions(cwd).nodePath;
    const helperPath = sandboxOptions(cwd).helperPath;
    const sandboxSamples: SandboxSample[][] = variants.map(() => []);
    const bare: { cpuMs: number; wallMs: number; maxRssKb: number }[] = [];
    const idle: { cpuMs: number; memory: Memory }[] = [];

    // One of each first, unrecorded: page cache and the like.
    for (const variant of variants) await sampleSandbox(optionsFor(variant, cwd, -1), 50, cleanup);
    await runNodeMeasured(helperPath, nodePath, ['-e', '0']);

    const counter = progress.counter(`sandbox boot: ${variants.length} sandbox variant(s), node -e 0, idle node`, samples);
    for (let i = 0; i < samples; i += 1) {
      for (const [v, variant] of variants.entries()) sandboxSamples[v]?.push(await sampleSandbox(optionsFor(variant, cwd, i), sampleAfterMs, cleanup));
      const exit = await runNodeMeasured(helperPath, nodePath, ['-e', '0']);
      if (exit.exitCode !== 0) throw new Error(`node -e 0 exited with ${exit.exitCode ?? `signal ${exit.signal}`}`);
      bare.push({ cpuMs: exit.cpuMs, wallMs: exit.wallMs, maxRssKb: exit.maxRssKb });
      const started = performance.now();
      const node = startIdleNode(nodePath, ['-e', 'setInterval(()=>{},1e9)']);
      const unregister = cleanup.add('an idle node', node.stop);
      try {
        await sleep(Math.max(0, started + sampleAfterMs - performance.now()));
        idle.push({ cpuMs: threadsCpuMs(node.pid), memory: readMemory(node.pid) });
      } finally {
        await node.stop();
        unregister();
      }
      counter.tick();
    }
    const floor = await measureJailFloor(variants, cwd, samples, helperPath, nodePath, progress);
    const idlePss = idle.map((s) => s.memory.pssKb).filter((v): v is number => v !== null);
    const result: BootResult = {
      samples,
      sampleAfterMs,
      variants: variants.map((v, i) => summarizeSandbox(v, sandboxSamples[i] ?? [])),
      bareCpuMs: summarize(bare.map((b) => b.cpuMs)),
      bareWallMs: summarize(bare.map((b) => b.wallMs)),
      bareMaxRssKb: summarize(bare.map((b) => b.maxRssKb)),
      idleCpuMs: summarize(idle.map((s) => s.cpuMs)),
      idleRssKb: summarize(idle.map((s) => s.memory.vmRssKb)),
      idleRssAnonKb: summarize(idle.map((s) => s.memory.rssAnonKb)),
      idleRssFileKb: summarize(idle.map((s) => s.memory.rssFileKb)),
      idlePssKb: idlePss.length === idle.length ? summarize(idlePss) : null,
      floor,
    };
    const first = result.variants[0] as BootVariantResult;
    counter.done(
      `sandbox ${first.cpuMs.p50.toFixed(1)} ms CPU, ${(first.rssKb.p50 / 1024).toFixed(1)} MiB; ` +
        `node -e 0 ${result.bareCpuMs.p50.toFixed(1)} ms CPU; idle node ${(result.idleRssKb.p50 / 1024).toFixed(1)} MiB`,
    );
    return result;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
    removeCwd();
  }
}
