import { hostGuardNft, forEachLimited } from './firewall';
import { names } from './names';
import { checkNeeds, sharesMountNamespaceWithInit } from './privileges';

describe('checkNeeds', () => {
  it('asks for root before any change, but not to read', () => {
    expect(() => checkNeeds({ backend: 'tap', readOnly: false, uid: 1000 })).toThrow(/the tap backend creates network devices \(CAP_NET_ADMIN\): run netprov as root/);
    expect(() => checkNeeds({ backend: 'netns', readOnly: false, uid: 1000 })).toThrow(/CAP_SYS_ADMIN/);
    expect(checkNeeds({ backend: 'netns', readOnly: true, uid: 1000 })).toBeNull();
  });
});

describe('sharesMountNamespaceWithInit', () => {
  const line = (tags: string) => `157 102 254:0 /run/netns /run/netns rw,relatime ${tags}- ext4 /dev/vda rw`;
  it('is false where /run/netns is a slave mount (ip netns exec)', () => {
    expect(sharesMountNamespaceWithInit(line('master:1 '))).toBe(false);
    expect(sharesMountNamespaceWithInit(line('shared:1 '))).toBe(true);
    expect(sharesMountNamespaceWithInit(line(''))).toBe(true);
  });
});

describe('firewall', () => {
  it('guards the host against every veth of the prefix, and removes the guard atomically', () => {
    const guard = hostGuardNft(names('crl-'), true);
    expect(guard).toContain('table inet crl_netprov_guard {}\ndelete table inet crl_netprov_guard\n');
    expect(guard).toMatch(/hook input priority -10; policy accept; iifname "crl-v\*" drop;/);
    expect(guard).toMatch(/hook forward .* iifname "crl-v\*" drop; oifname "crl-v\*" drop;/);
    expect(hostGuardNft(names('crl-'), false)).toBe('table inet crl_netprov_guard {}\ndelete table inet crl_netprov_guard\n');
  });

  it('forEachLimited keeps at most `limit` tasks running and reports each', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
    }, (d) => done.push(d));
    expect(peak).toBe(3);
    expect(done).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await expect(forEachLimited([1, 2], 2, async (x) => { if (x === 2) throw new Error('boom'); }, () => undefined)).rejects.toThrow('boom');
  });
});
