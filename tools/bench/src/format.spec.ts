import {
  escapeCell,
  formatBytes,
  formatDuration,
  formatMedianIqr,
  formatMiB,
  formatMs,
  formatMsDelta,
  formatRate,
  formatRatio,
  markdownTable,
  textTable,
} from './format';

describe('figures', () => {
  it('gives milliseconds a precision that suits their size', () => {
    expect(formatMs(0.4236)).toBe('0.42 ms');
    expect(formatMs(4.2)).toBe('4.20 ms');
    expect(formatMs(42.14)).toBe('42.1 ms');
    expect(formatMs(421.4)).toBe('421 ms');
    expect(formatMs(Number.NaN)).toBe('n/a');
  });

  it('signs differences', () => {
    expect(formatMsDelta(0.84)).toBe('+0.84 ms');
    expect(formatMsDelta(-1.2)).toBe('−1.20 ms');
  });

  it('formats rates, ratios and sizes', () => {
    expect(formatRate(45.25)).toBe('45.3/s');
    expect(formatRate(1234.5)).toBe('1235/s');
    expect(formatRatio(0.912)).toBe('0.91×');
    expect(formatRatio(12.44)).toBe('12.4×');
    expect(formatRatio(null)).toBe('n/a');
    expect(formatMiB(43_305_000)).toBe('41.3 MiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 1024)).toBe('3.0 KiB');
    expect(formatBytes(25_275_957_248)).toBe('23.5 GiB');
  });

  it('formats durations in seconds or minutes', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(-1)).toBe('n/a');
  });

  it('spells out a median with its IQR', () => {
    expect(formatMedianIqr(45.25, 1.5, formatRate)).toBe('45.3/s (IQR 1.5/s)');
  });
});

describe('markdownTable', () => {
  it('renders headers, alignment (first column left, figures right) and rows', () => {
    const text = markdownTable({ headers: ['what', 'p50'], rows: [['corral', '4.20 ms']] });
    expect(text.split('\n')).toEqual(['| what | p50 |', '| --- | ---: |', '| corral | 4.20 ms |']);
  });

  it('honours explicit alignment and pads short rows', () => {
    const text = markdownTable({ headers: ['a', 'b', 'c'], align: ['center', 'left', 'right'], rows: [['x']] });
    expect(text.split('\n')).toEqual(['| a | b | c |', '| :---: | --- | ---: |', '| x |  |  |']);
  });

  it('escapes pipes and flattens line breaks so a cell cannot break the table', () => {
    expect(escapeCell('a|b\nc')).toBe('a\\|b c');
    const text = markdownTable({ headers: ['code'], rows: [['x || y']] });
    expect(text.split('\n')).toHaveLength(3);
    expect(text).toContain('x \\|\\| y');
  });

  it('refuses rows wider than the header and tables without columns', () => {
    expect(() => markdownTable({ headers: ['a'], rows: [['1', '2']] })).toThrow(/2 cells for 1 columns/);
    expect(() => markdownTable({ headers: [], rows: [] })).toThrow();
  });
});

describe('textTable', () => {
  it('pads columns to their widest cell, figures right-aligned', () => {
    const text = textTable({ headers: ['what', 'p50'], rows: [['corral', '4.2 ms'], ['naive', '41.0 ms']] });
    expect(text.split('\n')).toEqual(['what        p50', 'corral   4.2 ms', 'naive   41.0 ms']);
  });
});
