import type { KernelState } from './kernel-state';
import { PROGRESS_MARKER } from './ip';
import { INNER_IFNAME, OWN_GROUP, READY_ALIAS, type Names } from './names';
import { checkClashes, deleteDevices, findOurs, PROGRESS_EVERY, repairLines, sortedIndexes, type SlotPlan, type SlotSpec } from './plan';

/**
 * The netns backend: slot i is the network namespace `<prefix>n<i>` joined to the host by the
 * veth pair `<prefix>v<i>` (host end: the slot's address as a /32, up, no IPv6) ↔ `eth0` (inside:
 * down, no address) with the default-deny policy loaded inside; the host end's alias says
 * READY_ALIAS once the policy is in. A slot that is not complete (a crash half-way) is rebuilt
 * from scratch; a complete one with a wrong address, down or out of group is fixed in place.
 * Everything else of netprov's (taps, slots beyond the count) is removed.
 * @throws PlanError on a clash with what netprov did not make
 */
export function planNetns(state: KernelState, n: Names, desired: readonly SlotSpec[]): SlotPlan {
  const ours = findOurs(state, n);
  checkClashes(state, ours, desired, (i) => [n.veth(i)]);
  const count = desired.length;
  const removeDevices = [...sortedIndexes(ours.taps).map(n.tap), ...sortedIndexes(ours.veths, count).map(n.veth)];
  const removeNetns = sortedIndexes(ours.netns, count).map((i) => ours.netns.get(i) as string);

  const flushes: string[] = [];
  const changes: string[] = [];
  const created: number[] = [];
  const repaired: number[] = [];
  const needPolicy: SlotSpec[] = [];
  for (const slot of desired) {
    const veth = n.veth(slot.index);
    const netns = n.netns(slot.index);
    const link = ours.veths.get(slot.index);
    const nsExists = ours.netns.has(slot.index);
    const complete = link && nsExists && link.peerNetnsId !== null && state.netns.get(netns) === link.peerNetnsId && link.alias === READY_ALIAS;
    if (complete) {
      const { flush, fix } = repairLines(link, slot.ip);
      if (flush.length + fix.length === 0) continue;
      repaired.push(slot.index);
      flushes.push(...flush);
      changes.push(...fix);
    } else {
      (link || nsExists ? repaired : created).push(slot.index);
      if (link) removeDevices.push(veth);
      if (nsExists) removeNetns.push(netns);
      needPolicy.push(slot);
      changes.push(
        `netns add ${netns}`,
        `link add name ${veth} type veth peer name ${INNER_IFNAME} netns ${netns}`,
        `link set dev ${veth} addrgenmode none`,
        `addr add ${slot.ip}/32 dev ${veth}`,
        `link set dev ${veth} up group ${OWN_GROUP}`,
      );
    }
    if ((created.length + repaired.length) % PROGRESS_EVERY === 0) changes.push(PROGRESS_MARKER);
  }
  return {
    backend: 'netns',
    desired: [...desired],
    created,
    repaired,
    removed: [...new Set([...ours.taps.keys(), ...sortedIndexes(ours.veths, count), ...sortedIndexes(ours.netns, count)])].sort((a, b) => a - b),
    batch: [...deleteDevices(state, removeDevices), ...removeNetns.map((ns) => `netns del ${ns}`), ...flushes, ...changes],
    needPolicy,
    guard: true,
  };
}

/** After the policies are in: mark each finished slot's host end ready (one more batch). */
export function readyLines(n: Names, slots: readonly SlotSpec[]): string[] {
  return slots.map((s) => `link set dev ${n.veth(s.index)} alias ${READY_ALIAS}`);
}

/** `down`: every device and namespace of netprov's (prefix), and nothing else. */
export function planDown(state: KernelState, n: Names, backend: 'tap' | 'netns'): SlotPlan {
  const ours = findOurs(state, n);
  const removeDevices = [...sortedIndexes(ours.taps).map(n.tap), ...sortedIndexes(ours.veths).map(n.veth)];
  const removeNetns = sortedIndexes(ours.netns).map((i) => ours.netns.get(i) as string);
  return {
    backend,
    desired: [],
    created: [],
    repaired: [],
    removed: [...new Set([...ours.taps.keys(), ...ours.veths.keys(), ...ours.netns.keys()])].sort((a, b) => a - b),
    batch: [...deleteDevices(state, removeDevices), ...removeNetns.map((ns) => `netns del ${ns}`)],
    needPolicy: [],
    guard: false,
  };
}
