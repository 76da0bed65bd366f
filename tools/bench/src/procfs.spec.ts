import { parseCpuStatUsageUsec, parseCpuTotals, parseKbField, parseSchedstatRuntimeNs, parseStat } from './procfs';

describe('parseSchedstatRuntimeNs', () => {
  it('reads the run time, the first of three fields', () => {
    expect(parseSchedstatRuntimeNs('38412345 1234 56\n')).toBe(38_412_345);
  });

  it('refuses malformed text', () => {
    expect(() => parseSchedstatRuntimeNs('')).toThrow(/malformed/);
    expect(() => parseSchedstatRuntimeNs('abc 1 2')).toThrow(/malformed/);
  });
});

describe('parseKbField', () => {
  const status = ['Name:\tnode', 'VmPeak:\t  1100000 kB', 'VmRSS:\t   45120 kB', 'RssAnon:\t   20000 kB', 'RssFile:\t   25120 kB', ''].join('\n');

  it('reads a kB field by exact name', () => {
    expect(parseKbField(status, 'VmRSS')).toBe(45_120);
    expect(parseKbField(status, 'RssFile')).toBe(25_120);
    expect(parseKbField('Rss:   100 kB\nPss:    42 kB\n', 'Pss')).toBe(42);
  });

  it('is null when the field is absent (kernel threads have no VmRSS)', () => {
    expect(parseKbField('Name:\tkthreadd\n', 'VmRSS')).toBeNull();
  });
});

describe('parseStat', () => {
  it('counts fields after the last parenthesis, so odd command names do not shift them', () => {
    const text = '4242 (no de) (x)) S 4200 4242 4242 0 -1 4194560 1500 0 0 0 37 5 0 0 20 0 11 0 123 1000 11000\n';
    expect(parseStat(text)).toEqual({ state: 'S', ppid: 4200, utimeTicks: 37, stimeTicks: 5, cutimeTicks: 0, cstimeTicks: 0 });
  });

  it('reads the CPU of reaped children', () => {
    const text = '10 (node) S 1 10 10 0 -1 0 0 0 0 0 120 30 4000 2500 20 0 11 0 1 1 1\n';
    expect(parseStat(text)).toMatchObject({ utimeTicks: 120, stimeTicks: 30, cutimeTicks: 4000, cstimeTicks: 2500 });
  });

  it('refuses text without a command name or too few fields', () => {
    expect(() => parseStat('4242 S 1')).toThrow(/malformed/);
    expect(() => parseStat('4242 (node) S 1 2')).toThrow(/no field 14/);
  });
});

describe('parseCpuTotals', () => {
  it('adds user, nice, system, irq, softirq and steal as busy; idle and iowait to the total only', () => {
    const text = 'cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 50 2 25 500 10 1 1 5 0 0\nintr 1\n';
    expect(parseCpuTotals(text)).toEqual({ busyTicks: 170, totalTicks: 1190, irqTicks: 5 });
  });

  it('refuses text without the cpu line', () => {
    expect(() => parseCpuTotals('intr 1\n')).toThrow(/no cpu line/);
  });
});

describe('parseCpuStatUsageUsec', () => {
  it('reads usage_usec of a cgroup v2 cpu.stat', () => {
    expect(parseCpuStatUsageUsec('usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n')).toBe(123_456);
    expect(parseCpuStatUsageUsec('user_usec 1\n')).toBeNull();
  });
});
