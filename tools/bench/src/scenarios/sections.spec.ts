import { renderReport } from '../report';
import { summarize } from '../stats';
import { boot } from './boot';
import type { BootResult, JailFloor } from './boot-sampling';
import { latency as latencyScenario } from './latency';
import { mixed as mixedScenario } from './mixed';
import { overhead as overheadScenario, type OverheadResult } from './overhead';
import { sectionOf, type Need, type RenderEnv, type Scenario } from './scenario';
import { throughput as throughputScenario, type ThroughputResult } from './throughput';

/** A scenario's report part, in a run on 2 cores where the scenarios in `others` ran too. */
function section<R>(scenario: Scenario<R, Need>, result: R, others: Partial<Record<string, unknown>> = {}) {
  const env: RenderEnv = { cores: 2, resultOf: <T>(s: Scenario<T, Need>) => others[s.id] as T | undefined };
  return sectionOf(scenario, result, env);
}

/** A report of `sections` alone, to see how a table reads in it. */
function report(sections: ReturnType<typeof section>[]): string {
  const machine = { cpuModel: 'x', cores: 2, ramBytes: 1, kernel: 'Linux', servicesNode: 'v20', sandboxNode: 'v24', redis: '7', commit: '0'.repeat(40), dirty: false };
  return renderReport({ generatedAt: new Date(0), mode: 'full', command: 'npm run bench', durationSeconds: 1, machine, setup: [], sections, failures: [] });
}

/** A throughput result: 4 slots, 8 clients, one round; `overrides` replace whole fields. */
function throughputResult(overrides: Partial<ThroughputResult> = {}): ThroughputResult {
  return {
    slots: 4,
    clients: 8,
    bareConcurrency: 2,
    rounds: 1,
    roundSeconds: 4,
    warmupSeconds: 1,
    corralRates: [40],
    bareRates: [50],
    corralErrors: {},
    corralCpu: { executions: 100, perExecutionMs: [['sandboxes', 60], ['router', 5]], machinePerExecutionMs: 80, busyShare: 0.95 },
    bareCpu: { executions: 120, perExecutionMs: [['node -e 0', 50]], machinePerExecutionMs: 55, busyShare: 0.6 },
    ...overrides,
  };
}

/** A jail floor of 2 runs: bare 30 ms, jailed 42 ms of machine CPU. */
function floorFixture(): JailFloor {
  const at = (v: number) => summarize([v, v]);
  return { label: 'jailed', runs: 2, bareCpuMs: at(30), jailedCpuMs: at(38), bareWallMs: at(31), jailedWallMs: at(40), bareMachineMs: 30, jailedMachineMs: 42 };
}

describe('sections', () => {
  it('latency: misses the p50 target above 5 ms and the naive target below 10×', () => {
    const s = section(latencyScenario, { requests: 2, warmup: 0, blockSize: 2, corral: summarize([20, 20]), naive: summarize([60, 60]), corralErrors: 1, naiveErrors: 0, paced: null });
    expect(s.checks.map((c) => [c.measured, c.met])).toEqual([
      ['20.0 ms', false],
      ['3.00×', false],
    ]);
  });

  it('latency: checks the targets on the paced run when there is one', () => {
    const s = section(latencyScenario, {
      requests: 2,
      warmup: 0,
      blockSize: 2,
      corral: summarize([50, 50]),
      naive: summarize([60, 60]),
      corralErrors: 0,
      naiveErrors: 0,
      paced: { thinkMs: 100, requests: 2, corral: summarize([4, 4]), naive: summarize([60, 60]) },
    });
    expect(s.checks.map((c) => [c.measured, c.met])).toEqual([
      ['4.00 ms', true],
      ['15.0×', true],
    ]);
  });

  it('throughput: compares medians over rounds', () => {
    const s = section(throughputScenario, throughputResult({ rounds: 3, corralRates: [40, 45, 41], bareRates: [50, 50, 49], corralErrors: { '503': 2 } }));
    expect(s.checks[0]).toEqual({ target: '≥ 0.85 × the bare spawn rate', measured: '0.82×', met: false });
    expect(s.notes.join(' ')).toContain('503 × 2');
  });

  it('throughput: accounts for the CPU per execution, with what no component explains', () => {
    const s = section(
      throughputScenario,
      throughputResult({
        corralCpu: {
          executions: 100,
          perExecutionMs: [['sandboxes', 60], ['router', 5]],
          machinePerExecutionMs: 80,
          irqPerExecutionMs: 8,
          kernelThreadsPerExecutionMs: 4,
          busyShare: 0.95,
        },
      }),
    );
    const [corral] = s.extraTables ?? [];
    expect(corral?.headers[0]).toBe('corral (100 in the windows)');
    expect(corral?.rows).toEqual([
      ['sandboxes', '60.0 ms', '75 %'],
      ['router', '5.00 ms', '6 %'],
      ['other (kernel, interrupts, processes not listed)', '15.0 ms', '19 %'],
      ['of that: interrupts and softirq (/proc/stat)', '8.00 ms', '10 %'],
      ["of that: the kernel's own threads (kworkers, ksoftirqd…)", '4.00 ms', '5 %'],
      ['all 2 cores (/proc/stat), 95 % busy', '80.0 ms', '100 %'],
    ]);
    expect(s.extraTables?.[1]?.rows.map((row) => row[0])).not.toContain('of that: interrupts and softirq (/proc/stat)');
    expect(report([s])).toContain('| sandboxes | 60.0 ms | 75 % |');
    expect(s.notes.join('\n')).not.toMatch(/The floor/);
  });

  it("throughput: quotes the jail's floor of scenario 3 beside the CPU target when that ran", () => {
    const result = throughputResult({ bareCpu: { executions: 120, perExecutionMs: [['node -e 0', 40]], machinePerExecutionMs: 40, busyShare: 0.6 } });
    const s = section(throughputScenario, result, { boot: { floor: floorFixture() } });
    expect(s.notes.at(-1)).toMatch(/costs 1\.40× the machine CPU of a bare one \(\+12\.0 ms a process\).*bare `node -e 0` \(40\.0 ms\).*less than 1\.30× of it/);
  });

  it('boot: checks the RSS ratio of every variant', () => {
    const one = summarize([1000, 1000]);
    const variant = (label: string, rss: number): BootResult['variants'][number] => ({
      label,
      description: '',
      samples: 2,
      readyMs: one,
      cpuMs: one,
      mainThreadCpuMs: one,
      rssKb: summarize([rss, rss]),
      rssAnonKb: one,
      rssFileKb: one,
      pssKb: null,
      launcherRssKb: null,
      launcherCpuMs: null,
    });
    const s = section(boot, {
      samples: 2,
      sampleAfterMs: 300,
      variants: [variant('default', 44_000), variant('bwrap', 48_000)],
      bareCpuMs: one,
      bareWallMs: one,
      bareMaxRssKb: one,
      idleCpuMs: one,
      idleRssKb: summarize([40_000, 40_000]),
      idleRssAnonKb: one,
      idleRssFileKb: one,
      idlePssKb: null,
      floor: null,
    });
    expect(s.checks.map((c) => [c.target, c.measured, c.met])).toEqual([
      ['warm sandbox (default) RSS ≤ 1.15 × idle bare node', '1.10×', true],
      ['warm sandbox (bwrap) RSS ≤ 1.15 × idle bare node', '1.20×', false],
    ]);
  });

  it('overhead: the difference of the p50s is checked against 1 ms', () => {
    const s = section(overheadScenario, {
      requests: 2,
      warmup: 0,
      direct: summarize([10, 10]),
      router: summarize([10.6, 10.6]),
      claimMs: summarize([0.3, 0.3]),
      pairedDiff: summarize([0.6, 0.6]),
      errors: 0,
    });
    expect(s.checks[0]).toMatchObject({ measured: '+0.60 ms', met: true });
    expect(s.notes).toEqual([]);
  });

  it('overhead: the bare hop is shown as a floor, and with the claim it bounds what the router can add', () => {
    const s = section(overheadScenario, {
      requests: 2,
      warmup: 0,
      direct: summarize([8, 8]),
      router: summarize([13, 13]),
      claimMs: summarize([0.5, 0.5]),
      pairedDiff: summarize([5, 5]),
      hop: summarize([1.5, 1.5]),
      errors: 0,
    });
    expect(s.tables[0]!.rows.at(-1)).toEqual(['floor: one bare HTTP hop (express in another process, answering at once)', '2', '1.50 ms', '1.50 ms', '1.50 ms', '1.50 ms']);
    expect(s.notes[0]).toContain('cannot add less than about 2.00 ms');
    expect(s.checks[0]).toMatchObject({ met: false });
  });

  it('mixed: the p99 ratio is checked against 3×, and hostile outcomes are told', () => {
    const s = section(mixedScenario, {
      concurrency: 3,
      thinkMs: 100,
      requests: 10,
      hostileEvery: 10,
      hostileCpuMs: 200,
      clean: summarize([10, 10]),
      mixed: summarize([10, 40]),
      hostileOutcomes: { cpu_limit: 1 },
      hostileMs: null,
      cleanErrors: 0,
      mixedErrors: 0,
      cleanRate: 20,
      mixedRate: 15,
    });
    expect(s.checks[0]).toMatchObject({ measured: '3.97×', met: false });
    expect(s.notes[0]).toContain('cpu_limit × 1');
  });
});

describe('sections that refer to each other or to another check', () => {
  const overheadResult: OverheadResult = {
    requests: 2,
    warmup: 0,
    direct: summarize([8, 8]),
    router: summarize([12.5, 13.5]),
    claimMs: summarize([0.5, 0.5]),
    pairedDiff: summarize([5, 5]),
    errors: 0,
  };
  const latencyResult = { requests: 3, warmup: 1, blockSize: 3, corral: summarize([40, 50, 60]), naive: summarize([60, 61, 62]), corralErrors: 0, naiveErrors: 0, paced: null };

  it("latency: quotes the router overhead scenario's idle-pool figures when that ran, and nothing when not", () => {
    expect(section(latencyScenario, latencyResult, { overhead: overheadResult }).notes).toEqual([
      'For comparison: the same request through the router when every slot is idle before it (no sandbox booting in the background; scenario 4) has p50 13.0 ms, p90 13.4 ms, p99 13.5 ms.',
    ]);
    expect(section(latencyScenario, latencyResult).notes).toEqual([]);
  });

  it('boot: checks the jail layers against the default sandbox when both were measured', () => {
    const at = (ms: number) => summarize([ms, ms]);
    const variant = (label: string, readyMs: number, cpuMs: number): BootResult['variants'][number] => ({
      label,
      description: '',
      samples: 2,
      readyMs: at(readyMs),
      cpuMs: at(cpuMs),
      mainThreadCpuMs: at(cpuMs),
      rssKb: at(40_000),
      rssAnonKb: at(1),
      rssFileKb: at(1),
      pssKb: null,
      launcherRssKb: null,
      launcherCpuMs: label === 'jailed' ? at(10) : null,
    });
    const one = at(1);
    const s = section(boot, {
      samples: 2,
      sampleAfterMs: 300,
      variants: [variant('default', 100, 100), variant('jailed', 120, 100)],
      bareCpuMs: one,
      bareWallMs: one,
      bareMaxRssKb: one,
      idleCpuMs: one,
      idleRssKb: at(40_000),
      idleRssAnonKb: one,
      idleRssFileKb: one,
      idlePssKb: null,
      floor: null,
    });
    expect(s.checks.slice(2).map((c) => [c.target, c.measured, c.met])).toEqual([
      ['jailed ÷ default boot, wall to ready ≤ 1.15×', '1.20×', false],
      ['jailed ÷ default boot, CPU (with launchers) ≤ 1.15×', '1.10×', true],
    ]);
  });

  it("boot: the jail's floor is a table of its own, jailed ÷ bare by machine CPU", () => {
    const at = (v: number) => summarize([v, v]);
    const floor = { ...floorFixture(), bareMachineMs: 32, jailedMachineMs: 44 };
    const variant = { label: 'default', description: '', samples: 2, readyMs: at(50), cpuMs: at(50), mainThreadCpuMs: at(50), rssKb: at(40_000), rssAnonKb: at(1), rssFileKb: at(1), pssKb: null, launcherRssKb: null, launcherCpuMs: null };
    const base = { samples: 2, sampleAfterMs: 300, variants: [variant], bareCpuMs: at(1), bareWallMs: at(1), bareMaxRssKb: at(1), idleCpuMs: at(1), idleRssKb: at(40_000), idleRssAnonKb: at(1), idleRssFileKb: at(1), idlePssKb: null };
    const s = section(boot, { ...base, floor });
    expect(s.extraTables?.[0]?.rows).toEqual([
      ['under corral-spawn alone', '2', '31.0 ms', '30.0 ms', '0.00 ms', '32.0 ms', '1.00×'],
      ['behind every layer (jailed)', '2', '40.0 ms', '38.0 ms', '0.00 ms', '44.0 ms', '1.38×'],
    ]);
    expect(s.notes[0]).toMatch(/^The jail's floor: 2 runs each/);
    expect(section(boot, { ...base, floor: null }).extraTables ?? []).toEqual([]);
  });
});

