import { EXIT, exitCodeOf, testsExitCode } from './exit-codes';

describe('exit codes', () => {
  it("corral run: the program's own code, whatever its status", () => {
    expect(exitCodeOf({ status: 'ok', exitCode: 0, signal: null })).toBe(0);
    expect(exitCodeOf({ status: 'error', exitCode: 7, signal: null })).toBe(7);
  });

  it('128 + N for a signal, 1 for a signal without a number', () => {
    expect(exitCodeOf({ status: 'error', exitCode: null, signal: 'SIGKILL' })).toBe(137);
    expect(exitCodeOf({ status: 'error', exitCode: null, signal: 'SIGABRT' })).toBe(134);
    expect(exitCodeOf({ status: 'error', exitCode: null, signal: 'SIGNOPE' })).toBe(1);
  });

  it('124 for a timeout and 125 for the other limits, even when a signal ended it', () => {
    expect(exitCodeOf({ status: 'timeout', exitCode: null, signal: 'SIGKILL' })).toBe(EXIT.timeout);
    for (const status of ['cpu_limit', 'memory_limit', 'output_limit'] as const) expect(exitCodeOf({ status, exitCode: null, signal: 'SIGKILL' })).toBe(EXIT.limit);
  });

  it('corral test: 0 only when every case passed', () => {
    expect(testsExitCode({ total: 3, accepted: 3 })).toBe(0);
    expect(testsExitCode({ total: 3, accepted: 2 })).toBe(1);
  });
});
