/** A target check of a scenario (each scenario keeps its own targets), and how a figure is checked against a limit. */
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
