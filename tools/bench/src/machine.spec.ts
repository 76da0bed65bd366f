import { parseCpuModel, parseMemTotalBytes, parseRedisVersion } from './machine';

describe('parseCpuModel', () => {
  it('takes the first "model name"', () => {
    const text = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n';
    expect(parseCpuModel(text)).toBe('AMD EPYC 7B13');
  });

  it('falls back to what ARM calls it, then to unknown', () => {
    expect(parseCpuModel('processor : 0\nHardware : BCM2835\n')).toBe('BCM2835');
    expect(parseCpuModel('')).toBe('unknown');
  });
});

describe('parseMemTotalBytes', () => {
  it('reads MemTotal in bytes', () => {
    expect(parseMemTotalBytes('MemTotal:       24684436 kB\nMemFree:  1 kB\n')).toBe(24_684_436 * 1024);
    expect(parseMemTotalBytes('MemFree: 1 kB\n')).toBeNull();
  });
});

describe('parseRedisVersion', () => {
  it('extracts the version', () => {
    expect(parseRedisVersion('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1')).toBe('7.0.15');
    expect(parseRedisVersion('')).toBe('unknown');
  });
});
