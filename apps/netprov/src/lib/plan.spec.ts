import type { KernelState, LinkState } from './kernel-state';
import { PROGRESS_MARKER } from './ip';
import { DOOMED_GROUP, names, OWN_GROUP, READY_ALIAS } from './names';
import type { SlotSpec } from './plan';
import { planDown, planNetns, readyLines } from './plan-netns';
import { planTap } from './plan-tap';

const n = names('crl-');

function link(name: string, over: Partial<LinkState> = {}): LinkState {
  const kind = name.startsWith('crl-t') ? 'tun' : name.startsWith('crl-v') ? 'veth' : 'bridge';
  return { name, kind, tunType: kind === 'tun' ? 'tap' : '', up: true, group: OWN_GROUP, alias: '', peerNetnsId: null, ipv4: [], ...over };
}

function state(links: LinkState[], netns: [string, number | null][] = []): KernelState {
  const addressOwner = new Map<string, string>();
  for (const l of links) for (const a of l.ipv4) addressOwner.set(a.replace(/\/\d+$/, ''), l.name);
  return { links: new Map(links.map((l) => [l.name, l])), addressOwner, netns: new Map(netns) };
}

function slots(count: number, base = '10.0.0.'): SlotSpec[] {
  return Array.from({ length: count }, (_, i) => ({ index: i, id: `h:${i}`, ip: `${base}${i + 1}` }));
}

describe('names', () => {
  it('recognises its own names only', () => {
    expect([n.indexOf('t', 'crl-t12'), n.indexOf('t', 'crl-t012'), n.indexOf('t', 'crl-tx'), n.indexOf('v', 'crl-t1'), n.indexOf('n', 'crl-n0')]).toEqual([12, null, null, null, 0]);
    expect([n.maxIndex, names('abcde-').maxIndex]).toEqual([9_999_999_999, 99_999_999]);
    expect(() => names('Crl-')).toThrow(/--prefix "Crl-" must be/);
    expect(() => names('toolong-')).toThrow(/must be/);
  });
});

describe('planTap', () => {
  it('creates every slot of an empty host in one batch, with progress markers', () => {
    const plan = planTap(state([]), n, slots(500));
    expect(plan.created).toHaveLength(500);
    expect(plan.batch.slice(0, 3)).toEqual(['tuntap add dev crl-t0 mode tap', 'addr add 10.0.0.1/32 dev crl-t0', `link set dev crl-t0 up group ${OWN_GROUP}`]);
    expect(plan.batch.filter((l) => l === PROGRESS_MARKER)).toHaveLength(2);
  });

  it('changes nothing when everything is in place', () => {
    const plan = planTap(state([link('crl-t0', { ipv4: ['10.0.0.1/32'] }), link('crl-t1', { ipv4: ['10.0.0.2/32'] })]), n, slots(2));
    expect(plan.batch).toEqual([]);
    expect([plan.created, plan.repaired, plan.removed]).toEqual([[], [], []]);
  });

  it('removes first (one group delete), flushes, then repairs and creates', () => {
    const s = state(
      [
        link('crl-t0', { ipv4: ['10.0.0.2/32'] }), // the address slot 1 wants
        link('crl-t1', { up: false }),
        link('crl-t5', { ipv4: ['10.0.0.9/32'] }),
        link('crl-v3'),
      ],
      [['crl-n3', 4]],
    );
    const plan = planTap(s, n, slots(3));
    expect(plan.batch).toEqual([
      `link set dev crl-t5 group ${DOOMED_GROUP}`,
      `link set dev crl-v3 group ${DOOMED_GROUP}`,
      `link del group ${DOOMED_GROUP}`,
      'netns del crl-n3',
      'addr flush dev crl-t0',
      'addr add 10.0.0.1/32 dev crl-t0',
      'addr add 10.0.0.2/32 dev crl-t1',
      `link set dev crl-t1 up group ${OWN_GROUP}`,
      'tuntap add dev crl-t2 mode tap',
      'addr add 10.0.0.3/32 dev crl-t2',
      `link set dev crl-t2 up group ${OWN_GROUP}`,
    ]);
    expect([plan.created, plan.repaired, plan.removed, plan.guard]).toEqual([[2], [0, 1], [3, 5], false]);
  });

  it.each([
    [[link('crl-t1', { kind: 'bridge', tunType: '' })], /an interface named crl-t1 \(bridge\) exists and netprov did not make it/],
    [[link('crl-t1', { kind: 'tun', tunType: 'tun' })], /crl-t1 \(tun\)/],
    [[link('eth0', { ipv4: ['10.0.0.2/24'] })], /10\.0\.0\.2 is already on eth0, which netprov did not make/],
    [[link('eth9', { group: DOOMED_GROUP })], /eth9 is in link group/],
  ])('refuses a clash with what it did not make (%#)', (links, message) => {
    expect(() => planTap(state(links), n, slots(3))).toThrow(message);
  });
});

describe('planNetns', () => {
  const complete = (i: number, over: Partial<LinkState> = {}) =>
    link(`crl-v${i}`, { ipv4: [`10.0.0.${i + 1}/32`], alias: READY_ALIAS, peerNetnsId: 10 + i, ...over });

  it('creates namespace, veth, address, then the policy and the ready mark', () => {
    const plan = planNetns(state([]), n, slots(1));
    expect(plan.batch).toEqual([
      'netns add crl-n0',
      'link add name crl-v0 type veth peer name eth0 netns crl-n0',
      'link set dev crl-v0 addrgenmode none',
      'addr add 10.0.0.1/32 dev crl-v0',
      `link set dev crl-v0 up group ${OWN_GROUP}`,
    ]);
    expect(plan.needPolicy.map((s) => s.index)).toEqual([0]);
    expect(readyLines(n, plan.needPolicy)).toEqual([`link set dev crl-v0 alias ${READY_ALIAS}`]);
    expect(plan.guard).toBe(true);
  });

  it('fixes a complete slot in place, rebuilds an unfinished one, removes extras and taps', () => {
    const s = state(
      [complete(0, { up: false }), complete(1, { alias: '' }), complete(2, { peerNetnsId: 99 }), complete(4), link('crl-t7')],
      [['crl-n0', 10], ['crl-n1', 11], ['crl-n2', 12], ['crl-n4', 14], ['crl-n5', null]],
    );
    const plan = planNetns(s, n, slots(4));
    expect([plan.created, plan.repaired, plan.removed]).toEqual([[3], [0, 1, 2], [4, 5, 7]]);
    expect(plan.needPolicy.map((x) => x.index)).toEqual([1, 2, 3]);
    expect(plan.batch.slice(0, 9)).toEqual([
      `link set dev crl-t7 group ${DOOMED_GROUP}`,
      `link set dev crl-v4 group ${DOOMED_GROUP}`,
      `link set dev crl-v1 group ${DOOMED_GROUP}`,
      `link set dev crl-v2 group ${DOOMED_GROUP}`,
      `link del group ${DOOMED_GROUP}`,
      'netns del crl-n4',
      'netns del crl-n5',
      'netns del crl-n1',
      'netns del crl-n2',
    ]);
    expect(plan.batch).toContain(`link set dev crl-v0 up group ${OWN_GROUP}`);
  });

  it('down removes all of its own, of both backends', () => {
    const plan = planDown(state([complete(0), link('crl-t3'), link('crl-t4', { group: 0 }), link('eth0', { group: 0 })], [['crl-n0', 10], ['other', 1]]), n, 'netns');
    // netprov's whole group at once; a device that never got into it (a crash) through the doomed group
    expect(plan.batch).toEqual([`link del group ${OWN_GROUP}`, `link set dev crl-t4 group ${DOOMED_GROUP}`, `link del group ${DOOMED_GROUP}`, 'netns del crl-n0']);
    expect(plan.removed).toEqual([0, 3, 4]);
    // A foreign device in netprov's group: never deleted with it.
    const careful = planDown(state([link('crl-t3'), link('eth0')]), n, 'tap');
    expect(careful.batch).toEqual([`link set dev crl-t3 group ${DOOMED_GROUP}`, `link del group ${DOOMED_GROUP}`]);
  });
});
