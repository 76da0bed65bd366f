import type { KillReason, RunningSandbox } from '@corral/contracts';

/** One sample of a sandbox process. */
export interface Sample {
  /** CPU time since the sandbox started, ms (its cgroup's, or its runtime process's). */
  cpuMs: number;
  /** Resident memory, bytes; null when its cgroup enforces memory itself. */
  rssBytes: number | null;
}

const MiB = 1024 * 1024;

/**
 * Whether a running sandbox is over a budget: CPU beyond what it had at the job's start plus
 * the job's `cpuMs`, or resident memory beyond the job's `memoryMb` plus the runtime's own
 * footprint (`rssOverheadMb`), which catches Buffers and ArrayBuffers outside the V8 heap.
 */
export function overBudget(sandbox: RunningSandbox, sample: Sample, rssOverheadMb: number): { reason: KillReason; used: number; budget: number } | null {
  const cpuUsed = sample.cpuMs - sandbox.cpuBaseMs;
  if (cpuUsed > sandbox.cpuMs) return { reason: 'cpu_limit', used: Math.round(cpuUsed), budget: sandbox.cpuMs };
  const rssBudget = (sandbox.memoryMb + rssOverheadMb) * MiB;
  if (sample.rssBytes !== null && sample.rssBytes > rssBudget) return { reason: 'memory_limit', used: sample.rssBytes, budget: rssBudget };
  return null;
}
