/** A run's figures as the page shows them: wall time, CPU time, peak memory. */
export function figures(result: { durationMs: number; cpuMs: number; memoryBytes: number }): [string, string, string] {
  return [`${result.durationMs} ms`, `CPU ${result.cpuMs} ms`, `${(result.memoryBytes / (1024 * 1024)).toFixed(1)} MB`];
}
