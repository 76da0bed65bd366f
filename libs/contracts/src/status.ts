/** What became of an execution that ran. */
export const EXECUTION_STATUSES = [
  'ok', // exit code 0
  'error', // non-zero exit, uncaught exception, or killed by something that is not a budget
  'timeout', // wall-time limit reached
  'cpu_limit', // CPU budget exceeded (killed by the watchdog)
  'memory_limit', // heap or memory budget exceeded
  'output_limit', // stdout + stderr exceeded the output cap
] as const;

export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Why a trusted component killed a sandbox; written to Redis before the kill. */
export type KillReason = Extract<ExecutionStatus, 'cpu_limit' | 'memory_limit' | 'timeout' | 'output_limit'>;

export const KILL_REASONS: readonly KillReason[] = ['cpu_limit', 'memory_limit', 'timeout', 'output_limit'];

export function isKillReason(value: unknown): value is KillReason {
  return typeof value === 'string' && (KILL_REASONS as readonly string[]).includes(value);
}
