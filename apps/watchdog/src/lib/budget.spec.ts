import type { RunningSandbox } from '@corral/contracts';
import { overBudget } from './budget';

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
