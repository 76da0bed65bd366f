import { assertLoopbackUrl, isLoopbackIPv4 } from './loopback';

describe('isLoopbackIPv4', () => {
  it('accepts every address of 127.0.0.0/8', () => {
    for (const host of ['127.0.0.1', '127.77.0.1', '127.255.255.254', '127.0.0.0']) expect(isLoopbackIPv4(host)).toBe(true);
  });

  it('refuses other addresses, names and malformed input', () => {
    for (const host of ['10.0.0.1', '172.16.0.1', '192.168.1.1', '128.0.0.1', '1.127.0.0', 'localhost', '127.0.0', '127.0.0.256', '127.0.0.1.5', '::1', '', '127.0.0.0x1']) {
      expect(isLoopbackIPv4(host)).toBe(false);
    }
  });
});

describe('assertLoopbackUrl', () => {
  it('returns the parsed URL for loopback targets', () => {
    expect(assertLoopbackUrl('http://127.77.0.3:7070/internal/v1/run').port).toBe('7070');
  });

  it('throws for anything else', () => {
    expect(() => assertLoopbackUrl('http://10.1.2.3:80/')).toThrow(/127\.0\.0\.0\/8/);
    expect(() => assertLoopbackUrl('http://localhost:8080/')).toThrow(/localhost/);
    expect(() => assertLoopbackUrl('https://127.0.0.1/')).toThrow(/https:/);
  });
});
