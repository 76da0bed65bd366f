import { renderReport, formatDate, type ReportInput } from './report';
import { latencySection, mixedSection, overheadSection, throughputSection, bootSection } from './sections';
import { summarize } from './stats';
import type { BootResult } from './results';

const machine = {
  cpuModel: 'AMD EPYC 7B13',
  cores: 2,
  ramBytes: 24 * 1024 ** 3,
  kernel: 'Linux 6.1.0',
  servicesNode: 'v20.19.0',
  sandboxNode: 'v24.11.0',
  redis: '7.0.15',
  commit: '0123456789abcdef0123456789abcdef01234567',
  dirty: true,
};

const latency = latencySection({
  requests: 3,
  warmup: 1,
  blockSize: 3,
  corral: summarize([4, 5, 6]),
  naive: summarize([60, 61, 62]),
  corralErrors: 0,
  naiveErrors: 0,
  paced: null,
});

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    generatedAt: new Date('2025-11-25T16:04:30Z'),
    mode: 'full',
    command: 'npm run bench',
    durationSeconds: 185,
    machine,
    setup: ['4 slots, LOG_LEVEL=info'],
    sections: [latency],
    failures: [],
    ...overrides,
  };
}

describe('renderReport', () => {
  it('starts with the title, the date, the mode and how long the run took', () => {
    const text = renderReport(input());
    expect(text.startsWith('# Benchmarks\n')).toBe(true);
    expect(text).toContain('on 2025-11-25 16:04 UTC (full run, 3 min 05 s)');
  });

  it('describes the machine, and says when the tree had uncommitted changes', () => {
    const text = renderReport(input());
    for (const line of ['| CPU | AMD EPYC 7B13 |', '| cores | 2 |', '| RAM | 24.0 GiB |', '| kernel | Linux 6.1.0 |', "| services' node | v20.19.0 |", '| sandbox runtime | v24.11.0 |']) {
      expect(text).toContain(line);
    }
    expect(text).toContain('| commit | 0123456789ab + uncommitted changes |');
    expect(renderReport(input({ machine: { ...machine, dirty: false } }))).toContain('| commit | 0123456789ab |');
  });

  it('lists the setup as bullets after the machine', () => {
    const text = renderReport(input());
    expect(text).toContain('## Setup\n\n- 4 slots, LOG_LEVEL=info\n');
    expect(text.indexOf('## Setup')).toBeGreaterThan(text.indexOf('## Machine'));
    expect(renderReport(input({ setup: [] }))).not.toContain('## Setup');
  });

  it('summarises every target with its verdict before the sections', () => {
    const text = renderReport(input());
    const summary = text.indexOf('## Summary');
    expect(summary).toBeGreaterThan(0);
    expect(text).toContain('| Hello-world latency at low load | p50 ≤ 5 ms (low load) | 5.00 ms | met | n/a |');
    expect(text).toContain('| Hello-world latency at low load | ≥ 10× better than naive (p50, low load) | 12.2× | met | n/a |');
    expect(summary).toBeLessThan(text.indexOf('## 1. Hello-world latency'));
  });

  it("says how much of the machine others used during a scenario", () => {
    const text = renderReport(input({ sections: [{ ...latency, othersCpuShare: 0.234 }] }));
    expect(text).toContain('| p50 ≤ 5 ms (low load) | 5.00 ms | met | 23 % |');
    expect(text).toContain('Processes not started by the benchmark used 23 % of the cores while this scenario ran.');
  });

  it('lists scenarios that failed in the summary and at the end', () => {
    const text = renderReport(input({ failures: [{ title: '2. Sustained throughput', message: 'the router\nexited' }] }));
    expect(text).toContain('| 2. Sustained throughput |  | failed to run | not measured |  |');
    expect(text).toContain('- **2. Sustained throughput**: the router exited');
  });

  it('ends with exactly one newline and keeps sections in the given order', () => {
    const mixed = mixedSection({
      concurrency: 3,
      thinkMs: 100,
      requests: 10,
      hostileEvery: 10,
      hostileCpuMs: 200,
      clean: summarize([10, 11]),
      mixed: summarize([10, 40]),
      hostileOutcomes: { cpu_limit: 1 },
      hostileMs: summarize([300]),
      cleanErrors: 0,
      mixedErrors: 0,
      cleanRate: 20,
      mixedRate: 15,
    });
    const text = renderReport(input({ sections: [mixed, latency] }));
    expect(text.endsWith('\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(false);
    expect(text.indexOf('## 5. Mixed load')).toBeLessThan(text.indexOf('## 1. Hello-world'));
  });
});

describe('sections', () => {
  it('latency: misses the p50 target above 5 ms and the naive target below 10×', () => {
    const s = latencySection({ requests: 2, warmup: 0, blockSize: 2, corral: summarize([20, 20]), naive: summarize([60, 60]), corralErrors: 1, naiveErrors: 0, paced: null });
    expect(s.checks.map((c) => [c.measured, c.met])).toEqual([
      ['20.0 ms', false],
      ['3.00×', false],
    ]);
  });

  it('latency: checks the targets on the paced run when there is one', () => {
    const s = latencySection({
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
    const s = throughputSection({
      slots: 4,
      clients: 8,
      bareConcurrency: 2,
      rounds: 3,
      roundSeconds: 4,
      warmupSeconds: 1,
      corralRates: [40, 45, 41],
      bareRates: [50, 50, 49],
      corralErrors: { '503': 2 },
      corralCpu: { executions: 100, perExecutionMs: [['sandboxes', 60], ['router', 5]], machinePerExecutionMs: 80, busyShare: 0.95 },
      bareCpu: { executions: 120, perExecutionMs: [['node -e 0', 50]], machinePerExecutionMs: 55, busyShare: 0.6 },
    }, 2);
    expect(s.checks[0]).toEqual({ target: '≥ 0.85 × the bare spawn rate', measured: '0.82×', met: false });
    expect(s.notes.join(' ')).toContain('503 × 2');
  });

  it('throughput: accounts for the CPU per execution, with what no component explains', () => {
    const s = throughputSection({
      slots: 4,
      clients: 8,
      bareConcurrency: 2,
      rounds: 1,
      roundSeconds: 4,
      warmupSeconds: 1,
      corralRates: [40],
      bareRates: [50],
      corralErrors: {},
      corralCpu: {
        executions: 100,
        perExecutionMs: [['sandboxes', 60], ['router', 5]],
        machinePerExecutionMs: 80,
        irqPerExecutionMs: 8,
        kernelThreadsPerExecutionMs: 4,
        busyShare: 0.95,
      },
      bareCpu: { executions: 120, perExecutionMs: [['node -e 0', 50]], machinePerExecutionMs: 55, busyShare: 0.6 },
    }, 2);
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
    expect(renderReport(input({ sections: [s] }))).toContain('| sandboxes | 60.0 ms | 75 % |');
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
    const s = bootSection({
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
    });
    expect(s.checks.map((c) => [c.target, c.measured, c.met])).toEqual([
      ['warm sandbox (default) RSS ≤ 1.15 × idle bare node', '1.10×', true],
      ['warm sandbox (bwrap) RSS ≤ 1.15 × idle bare node', '1.20×', false],
    ]);
  });

  it('overhead: the difference of the p50s is checked against 1 ms', () => {
    const s = overheadSection({
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
    const s = overheadSection({
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
    const s = mixedSection({
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

describe('formatDate', () => {
  it('prints UTC to the minute', () => {
    expect(formatDate(new Date('2025-01-02T03:04:59.999Z'))).toBe('2025-01-02 03:04 UTC');
  });
});
