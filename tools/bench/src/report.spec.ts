import { renderReport, formatDate, type ReportInput } from './report';
import { latency as latencyScenario } from './scenarios/latency';
import { mixed as mixedScenario } from './scenarios/mixed';
import { sectionOf, type Need, type RenderEnv, type Scenario } from './scenarios/scenario';
import { summarize } from './stats';

/** A scenario's report part, in a run on 2 cores where no other scenario ran. */
function section<R>(scenario: Scenario<R, Need>, result: R) {
  const env: RenderEnv = { cores: 2, resultOf: () => undefined };
  return sectionOf(scenario, result, env);
}

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

const latency = section(latencyScenario, {
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
    const mixed = section(mixedScenario, {
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

describe('formatDate', () => {
  it('prints UTC to the minute', () => {
    expect(formatDate(new Date('2025-01-02T03:04:59.999Z'))).toBe('2025-01-02 03:04 UTC');
  });
});
