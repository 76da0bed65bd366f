import type { RunningSandbox } from '@corral/contracts';
import { overBudget } from './budget';
import { nextSampleAt } from './watchdog';

const sandbox: RunningSandbox = { slotId: 's', token: 't', pid: 1, pgid: 1, cpuBaseMs: 30, cpuMs: 500, memoryMb: 64, startedAt: 0 };
const MiB = 1024 * 1024;

describe('overBudget', () => {
  it('counts CPU from the job start, not the boot', () => {
    expect(overBudget(sandbox, { cpuMs: 520, rssBytes: 50 * MiB }, 96)).toBeNull();
    expect(overBudget(sandbox, { cpuMs: 540, rssBytes: 50 * MiB }, 96)).toEqual({ reason: 'cpu_limit', used: 510, budget: 500 });
  });

  it('allows the runtime its own footprint above memoryMb', () => {
    expect(overBudget(sandbox, { cpuMs: 0, rssBytes: 160 * MiB }, 96)).toBeNull();
    expect(overBudget(sandbox, { cpuMs: 0, rssBytes: 161 * MiB, }, 96)).toMatchObject({ reason: 'memory_limit', budget: 160 * MiB });
  });
});

describe('nextSampleAt', () => {
  const cg = { version: 1 as const, dirs: [], cpuFile: '', procsFile: '', freezeFile: '' };
  it('samples a sandbox without a cgroup every tick (its memory is only bounded by sampling)', () => {
    expect(nextSampleAt(1000, sandbox, { cpuMs: 40, rssBytes: 1 }, 100, 2)).toBe(1000);
  });
  it('looks less often at a sandbox far from its CPU budget, never less than once a second', () => {
    const withCgroup = { ...sandbox, cgroup: cg, cpuMs: 60_000 };
    expect(nextSampleAt(1000, withCgroup, { cpuMs: 30, rssBytes: null }, 100, 2)).toBe(2000);
    // 400 ms left on 2 cores: it cannot be over before 200 ms; one tick of margin
    expect(nextSampleAt(1000, { ...withCgroup, cpuMs: 400 }, { cpuMs: 30, rssBytes: null }, 100, 2)).toBe(1100);
    expect(nextSampleAt(1000, { ...withCgroup, cpuMs: 100 }, { cpuMs: 120, rssBytes: null }, 100, 2)).toBe(1000);
  });
});
