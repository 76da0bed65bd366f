import type { KernelState } from './kernel-state';
import { PROGRESS_MARKER } from './ip';
import { OWN_GROUP, type Names } from './names';
import { checkClashes, deleteDevices, findOurs, PROGRESS_EVERY, repairLines, sortedIndexes, type SlotPlan, type SlotSpec } from './plan';

/**
 * The tap backend: slot i is the tap device `<prefix>t<i>`, up, in netprov's link group, carrying
 * exactly the slot's address as a /32. Anything else of netprov's (taps beyond the count, the
 * netns backend's veths and namespaces) is removed.
 * @throws PlanError on a clash with what netprov did not make
 */
export function planTap(state: KernelState, n: Names, desired: readonly SlotSpec[]): SlotPlan {
  const ours = findOurs(state, n);
  checkClashes(state, ours, desired, (i) => [n.tap(i)]);
  const count = desired.length;
  const removedTaps = sortedIndexes(ours.taps, count);
  const removeDevices = [...removedTaps.map(n.tap), ...sortedIndexes(ours.veths).map(n.veth)];
  const removeNetns = sortedIndexes(ours.netns).map((i) => ours.netns.get(i) as string);

  const flushes: string[] = [];
  const changes: string[] = [];
  const created: number[] = [];
  const repaired: number[] = [];
  for (const slot of desired) {
    const name = n.tap(slot.index);
    const link = ours.taps.get(slot.index);
    if (!link) {
      created.push(slot.index);
      changes.push(`tuntap add dev ${name} mode tap`, `addr add ${slot.ip}/32 dev ${name}`, `link set dev ${name} up group ${OWN_GROUP}`);
    } else {
      const { flush, fix } = repairLines(link, slot.ip);
      if (flush.length + fix.length === 0) continue;
      repaired.push(slot.index);
      flushes.push(...flush);
      changes.push(...fix);
    }
    if ((created.length + repaired.length) % PROGRESS_EVERY === 0) changes.push(PROGRESS_MARKER);
  }
  return {
    backend: 'tap',
    desired: [...desired],
    created,
    repaired,
    removed: [...new Set([...removedTaps, ...ours.veths.keys(), ...ours.netns.keys()])].sort((a, b) => a - b),
    batch: [...deleteDevices(state, removeDevices), ...removeNetns.map((ns) => `netns del ${ns}`), ...flushes, ...changes],
    needPolicy: [],
    guard: ours.veths.size + ours.netns.size > 0 ? false : null,
  };
}
