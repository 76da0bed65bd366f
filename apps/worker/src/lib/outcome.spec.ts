import type { RunResult } from '@corral/sandbox';
import { decideStatus, toExecutionResult } from './outcome';

function run(overrides: Partial<Omit<RunResult, 'exit'>> & { exit?: Partial<RunResult['exit']> } = {}): RunResult {
  const { exit, ...rest } = overrides;
  return {
    exit: { exitCode: 0, signal: null, cpuUs: 1000, maxRssKb: 40_000, oomKilled: false, cgroupCpuUs: null, ...exit },
    stdout: Buffer.from('out'),
    stderr: Buffer.from(''),
    truncated: false,
    killedFor: null,
    durationMs: 12.345,
    cpuMs: 3.21,
    memoryBytes: 40_000 * 1024,
    ...rest,
  };
}

describe('decideStatus', () => {
  it('maps exit codes', () => {
    expect(decideStatus(run(), null)).toBe('ok');
    expect(decideStatus(run({ exit: { exitCode: 3 } }), null)).toBe('error');
    expect(decideStatus(run({ exit: { exitCode: null, signal: 'SIGKILL' } }), null)).toBe('error');
  });

  it('prefers the budget this side enforced, then the watchdog reason', () => {
    const killed = run({ exit: { exitCode: null, signal: 'SIGKILL' }, killedFor: 'timeout' });
    expect(decideStatus(killed, 'cpu_limit')).toBe('timeout');
    expect(decideStatus(run({ exit: { exitCode: null, signal: 'SIGKILL' } }), 'cpu_limit')).toBe('cpu_limit');
    expect(decideStatus(run({ killedFor: 'output_limit', truncated: true }), null)).toBe('output_limit');
  });

  it("recognises the cgroup's OOM kill and V8's heap-limit abort, and only an abort", () => {
    const oom = Buffer.from('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory');
    expect(decideStatus(run({ exit: { exitCode: null, signal: 'SIGABRT' }, stderr: oom }), null)).toBe('memory_limit');
    expect(decideStatus(run({ exit: { exitCode: null, signal: 'SIGKILL', oomKilled: true } }), null)).toBe('memory_limit');
    // code that merely prints the words has not run out of memory
    expect(decideStatus(run({ exit: { exitCode: 1 }, stderr: oom }), null)).toBe('error');
  });
});

describe('toExecutionResult', () => {
  it('builds the API answer with rounded figures', () => {
    expect(toExecutionResult('id1', run(), null)).toEqual({
      id: 'id1',
      status: 'ok',
      exitCode: 0,
      signal: null,
      stdout: 'out',
      stderr: '',
      truncated: false,
      durationMs: 12.3,
      cpuMs: 3.2,
      memoryBytes: 40_960_000,
    });
  });
});
