import { parseCidr, slotAddresses, usableCount } from './cidr';

describe('parseCidr', () => {
  it('takes private ranges and skips the network and broadcast addresses', () => {
    const c = parseCidr('172.16.0.0/12');
    expect(usableCount(c)).toBe(2 ** 20 - 2);
    expect(slotAddresses(c, 3)).toEqual(['172.16.0.1', '172.16.0.2', '172.16.0.3']);
    expect(slotAddresses(parseCidr('10.0.0.0/30'), 2)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(slotAddresses(parseCidr('192.168.1.7/32'), 1)).toEqual(['192.168.1.7']);
    expect(slotAddresses(parseCidr('10.255.255.0/24'), 254).at(-1)).toBe('10.255.255.254');
  });

  it.each([
    ['172.16.0.0', /not an IPv4 range in CIDR notation/],
    ['172.16.0.0/', /not an IPv4 range/],
    ['172.16.0.0/33', /not an IPv4 range/],
    ['172.16.0.256/24', /not an IPv4 range/],
    [' 10.0.0.0/8', /not an IPv4 range/],
    ['10.0.0.1/8', /host bits set; did you mean 10\.0\.0\.0\/8\?/],
    ['8.8.8.0/24', /not inside a private range/],
    ['10.0.0.0/7', /not inside a private range/],
    ['172.0.0.0/11', /not inside a private range/],
    ['127.0.0.0/8', /not inside a private range/],
    ['192.169.0.0/16', /not inside a private range/],
  ])('rejects %j', (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
  });

  it('names the source of the range and says how many addresses fit', () => {
    expect(() => parseCidr('x', 'CORRAL_CIDR')).toThrow(/^CORRAL_CIDR "x"/);
    expect(() => slotAddresses(parseCidr('10.1.2.0/29'), 7)).toThrow('--count 7 does not fit: --cidr 10.1.2.0/29 has 6 usable addresses.');
  });
});
