/** Pure statistics over samples (milliseconds, rates, bytes: any numbers). */

export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  /** p75 − p25. */
  iqr: number;
}

/** Ascending copy; NaN is dropped. */
export function sorted(values: readonly number[]): number[] {
  return values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0–100) of ascending `values`, linearly interpolated between the two
 * nearest ranks (the common "type 7" definition: p0 is the minimum, p100 the maximum).
 * @throws RangeError on an empty list or a p outside 0–100
 */
export function percentileOfSorted(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0–100`);
  const rank = (p / 100) * (values.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = values[lower] as number;
  const high = values[upper] as number;
  return low + (high - low) * (rank - lower);
}

/** The `p`-th percentile of `values` in any order. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted(sorted(values), p);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Count, extremes, mean, quartiles, p90, p99 and the IQR. @throws RangeError on no values */
export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  if (s.length === 0) throw new RangeError('summary of no values');
  const at = (p: number): number => percentileOfSorted(s, p);
  const p25 = at(25);
  const p75 = at(75);
  return {
    n: s.length,
    min: s[0] as number,
    max: s[s.length - 1] as number,
    mean: s.reduce((sum, v) => sum + v, 0) / s.length,
    p25,
    p50: at(50),
    p75,
    p90: at(90),
    p99: at(99),
    iqr: p75 - p25,
  };
}

/** `numerator / denominator`, or null when the denominator is 0 or either is not finite. */
export function ratio(numerator: number, denominator: number): number | null {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return null;
  return numerator / denominator;
}

/** Element-wise a[i] − b[i] over the common length (paired samples, e.g. A/B interleaved). */
export function pairedDifferences(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.min(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) out.push((a[i] as number) - (b[i] as number));
  return out;
}

/** Completions per second of events that ended inside [from, to) (ms timestamps). */
export function rateInWindow(endTimes: readonly number[], from: number, to: number): number {
  if (!(to > from)) throw new RangeError('the window must have a positive length');
  let count = 0;
  for (const t of endTimes) if (t >= from && t < to) count += 1;
  return count / ((to - from) / 1000);
}
