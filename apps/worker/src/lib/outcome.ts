import type { ExecutionResult, ExecutionStatus, KillReason } from '@corral/contracts';
import type { RunResult } from '@corral/sandbox';

/** V8's last words when a heap limit is reached; checked only when the process aborted. */
const HEAP_OOM = /Reached heap limit|JavaScript heap out of memory/;

function diedOfHeapLimit(run: RunResult): boolean {
  const aborted = run.exit.signal === 'SIGABRT' || run.exit.signal === 'SIGTRAP' || run.exit.exitCode === 134;
  return aborted && HEAP_OOM.test(run.stderr.subarray(-4096).toString('latin1'));
}

/**
 * What became of a job: a budget this side enforced wins, then the reason the watchdog
 * recorded before its kill, then the cgroup's OOM kill or the runtime's own heap-limit abort,
 * then the exit code.
 */
export function decideStatus(run: RunResult, watchdogReason: KillReason | null): ExecutionStatus {
  if (run.killedFor) return run.killedFor;
  if (watchdogReason) return watchdogReason;
  if (run.exit.oomKilled || diedOfHeapLimit(run)) return 'memory_limit';
  return run.exit.exitCode === 0 ? 'ok' : 'error';
}

export function toExecutionResult(id: string, run: RunResult, watchdogReason: KillReason | null): ExecutionResult {
  return {
    id,
    status: decideStatus(run, watchdogReason),
    exitCode: run.exit.exitCode,
    signal: run.exit.signal,
    stdout: run.stdout.toString('utf8'),
    stderr: run.stderr.toString('utf8'),
    truncated: run.truncated,
    durationMs: Math.round(run.durationMs * 10) / 10,
    cpuMs: Math.round(run.cpuMs * 10) / 10,
    memoryBytes: run.memoryBytes,
    ...(run.files ? { files: run.files } : {}),
  };
}
