/** The targets of the project's issue "Speed", and how a measurement is checked against them. */
export const TARGETS = {
  /** Hello-world p50 through the router at low load, ms. */
  latencyP50Ms: 5,
  /** naive p50 / corral p50, at least. */
  latencyVsNaive: 10,
  /** corral executions/s / bare `node -e 0` rate, at least. */
  throughputRatio: 0.85,
  /** warm sandbox RSS / idle bare node RSS, at most. */
  bootRssRatio: 1.15,
  /** router p50 − direct p50, ms, at most. */
  routerOverheadMs: 1,
  /** good requests' p99 with hostile load / without, at most. */
  mixedP99Ratio: 3,
  /** The jail layers' cost: jailed / unjailed sandbox boot (wall to ready, and CPU), at most. */
  jailBootRatio: 1.15,
  /** Watchdog CPU share of one core with 1000 idle and a few busy sandboxes, at most. */
  watchdogCoreShare: 0.01,
  /** Watchdog resident memory, MiB, at most. */
  watchdogRssMiB: 60,
  /** netprov up and down of 1000 tap slots, ms, at most. */
  netprovMs: 1000,
} as const;

export interface TargetCheck {
  /** e.g. "p50 ≤ 5 ms". */
  target: string;
  /** e.g. "38.2 ms". */
  measured: string;
  /** null when the measurement could not be made. */
  met: boolean | null;
}

export function atMost(value: number | null, limit: number): boolean | null {
  return value === null || !Number.isFinite(value) ? null : value <= limit;
}

export function atLeast(value: number | null, limit: number): boolean | null {
  return value === null || !Number.isFinite(value) ? null : value >= limit;
}

export function verdict(met: boolean | null): string {
  if (met === null) return 'not measured';
  return met ? 'met' : 'missed';
}
