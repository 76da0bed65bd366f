import { formatIpv4, parseIpv4 } from './ipv4';
import { planLoopback } from './loopback';

describe('ipv4', () => {
  it('round-trips addresses', () => {
    for (const ip of ['0.0.0.0', '127.77.0.1', '255.255.255.255', '10.1.2.3']) expect(formatIpv4(parseIpv4(ip)!)).toBe(ip);
  });
  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'a.b.c.d', '1.2.3.-4', ' 1.2.3.4'])('rejects %j', (text) => {
    expect(parseIpv4(text)).toBeNull();
  });
});

describe('planLoopback', () => {
  it('numbers slots from the base, carrying across octets', () => {
    const plan = planLoopback('h', 1000, '127.77.0.1');
    expect(plan).toHaveLength(1000);
    expect(plan[0]).toEqual({ id: 'h:0', ip: '127.77.0.1' });
    expect(plan[999]).toEqual({ id: 'h:999', ip: '127.77.3.232' });
    expect(new Set(plan.map((s) => s.ip)).size).toBe(1000);
  });

  it.each([
    [0, '127.77.0.1', /at least 1/],
    [1.5, '127.77.0.1', /at least 1/],
    [4, '127.77.0', /not an IPv4 address/],
    [4, '10.0.0.1', /outside 127/],
    [4, '127.0.0.0', /outside 127/],
    [3, '127.255.255.253', /does not fit: from 127.255.255.253 there are 2/],
  ])('rejects count %p from %p', (count, base, message) => {
    expect(() => planLoopback('h', count, base)).toThrow(message);
  });
});
