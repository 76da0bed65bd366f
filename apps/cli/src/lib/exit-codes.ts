import { constants } from 'node:os';
import type { ExecutionResult, TestsSummary } from '@corral/contracts';

/**
 * What `corral` exits with, apart from the program's own exit code (documented in the CLI's
 * README and `corral --help`). The shell's conventions: 124 is timeout(1)'s, 128+N a signal's.
 */
export const EXIT = {
  /** `corral test`: every case passed; `corral status`: the router answered. */
  ok: 0,
  /** `corral test`: at least one case did not pass. */
  failed: 1,
  /** Bad flags or arguments, a file that cannot be read: the usage is printed. */
  usage: 2,
  /** The service did not run it: unreachable, a 4xx/5xx answer (no_capacity, unauthorized…). */
  service: 3,
  /** The program passed its wall-time limit. */
  timeout: 124,
  /** The program passed its CPU, memory or output limit. */
  limit: 125,
  /** Ctrl-C: the call was abandoned (and so the program stopped by the router). */
  interrupted: 130,
} as const;

/** The exit code of `corral run` for a program's result: its own code, or one of the above. */
export function exitCodeOf(result: Pick<ExecutionResult, 'status' | 'exitCode' | 'signal'>): number {
  if (result.status === 'timeout') return EXIT.timeout;
  if (result.status === 'cpu_limit' || result.status === 'memory_limit' || result.status === 'output_limit') return EXIT.limit;
  if (result.exitCode !== null) return result.exitCode;
  const number = result.signal ? (constants.signals as Record<string, number | undefined>)[result.signal] : undefined;
  return number === undefined ? 1 : 128 + number;
}

/** The exit code of `corral test`: 0 only when every case was accepted. */
export function testsExitCode(summary: Pick<TestsSummary, 'total' | 'accepted'>): number {
  return summary.accepted === summary.total ? EXIT.ok : EXIT.failed;
}
