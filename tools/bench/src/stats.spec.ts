import { median, pairedDifferences, percentile, percentileOfSorted, rateInWindow, ratio, sorted, summarize } from './stats';

describe('percentile', () => {
  it('interpolates linearly between the nearest ranks', () => {
    const values = [10, 20, 30, 40];
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 100)).toBe(40);
    expect(percentile(values, 50)).toBe(25);
    expect(percentile(values, 25)).toBeCloseTo(17.5);
  });

  it('does not care about the input order and leaves the input alone', () => {
    const values = [3, 1, 2];
    expect(percentile(values, 50)).toBe(2);
    expect(values).toEqual([3, 1, 2]);
  });

  it('gives the only value for every percentile of one sample', () => {
    expect(percentile([7], 0)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });

  it('p99 of 1..100 sits just below the maximum', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 99)).toBeCloseTo(99.01);
    expect(percentile(values, 90)).toBeCloseTo(90.1);
  });

  it('refuses an empty list and a percentile outside 0–100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], -1)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('median and sorted', () => {
  it('takes the middle, or the mean of the two middles', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('drops NaN and sorts numerically', () => {
    expect(sorted([10, Number.NaN, 9, 100])).toEqual([9, 10, 100]);
  });
});

describe('summarize', () => {
  it('reports count, extremes, mean, quartiles and IQR', () => {
    const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s).toMatchObject({ n: 9, min: 1, max: 9, mean: 5, p25: 3, p50: 5, p75: 7, iqr: 4 });
    expect(s.p90).toBeCloseTo(8.2);
    expect(s.p99).toBeCloseTo(8.92);
  });

  it('refuses no values', () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe('ratio', () => {
  it('divides', () => {
    expect(ratio(50, 5)).toBe(10);
  });

  it('is null when it would be meaningless', () => {
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(Number.NaN, 1)).toBeNull();
    expect(ratio(1, Number.POSITIVE_INFINITY)).toBeNull();
  });
});

describe('pairedDifferences', () => {
  it('subtracts element by element over the shorter length', () => {
    expect(pairedDifferences([5, 7, 9], [1, 2])).toEqual([4, 5]);
  });
});

describe('rateInWindow', () => {
  it('counts what ended inside the half-open window, per second', () => {
    expect(rateInWindow([999, 1000, 1500, 2999, 3000], 1000, 3000)).toBe(1.5);
  });

  it('refuses an empty window', () => {
    expect(() => rateInWindow([], 5, 5)).toThrow(RangeError);
  });
});
