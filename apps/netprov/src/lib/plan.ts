import type { KernelState, LinkState } from './kernel-state';
import { PlanError } from './loopback';
import { DOOMED_GROUP, OWN_GROUP, type Names } from './names';

/** A slot as a kernel backend wants it. */
export interface SlotSpec {
  index: number;
  id: string;
  ip: string;
}

/** What `up` or `down` will change, computed from the kernel's state before anything is changed. */
export interface SlotPlan {
  backend: 'tap' | 'netns';
  desired: SlotSpec[];
  /** Slot indexes made from nothing, fixed in place, and removed. */
  created: number[];
  repaired: number[];
  removed: number[];
  /** Host-side changes, in order, for one `ip -batch -`: removals first, then repairs and creations. */
  batch: string[];
  /** netns backend: slots whose namespace needs its policy installed (and then marking ready). */
  needPolicy: SlotSpec[];
  /** Whether the host-side guard of the netns backend should exist after this plan (null: leave it). */
  guard: boolean | null;
}

export const PROGRESS_EVERY = 250;

/** The objects netprov made, found by name (prefix) and kind. */
export interface Ours {
  taps: Map<number, LinkState>;
  veths: Map<number, LinkState>;
  netns: Map<number, string>;
}

export function findOurs(state: KernelState, n: Names): Ours {
  const ours: Ours = { taps: new Map(), veths: new Map(), netns: new Map() };
  for (const link of state.links.values()) {
    const tap = n.indexOf('t', link.name);
    if (tap !== null && link.kind === 'tun' && link.tunType === 'tap') ours.taps.set(tap, link);
    const veth = n.indexOf('v', link.name);
    if (veth !== null && link.kind === 'veth') ours.veths.set(veth, link);
  }
  for (const name of state.netns.keys()) {
    const index = n.indexOf('n', name);
    if (index !== null) ours.netns.set(index, name);
  }
  return ours;
}

function isOurs(ours: Ours, name: string): boolean {
  for (const link of [...ours.taps.values(), ...ours.veths.values()]) if (link.name === name) return true;
  return false;
}

/**
 * Refuses, before anything changes, a plan that would touch what netprov did not make: a device
 * with one of netprov's names but of another kind, an address held by a foreign device, or a
 * foreign device in the group netprov deletes.
 * @throws PlanError
 */
export function checkClashes(state: KernelState, ours: Ours, desired: readonly SlotSpec[], wantedNames: (i: number) => string[]): void {
  for (const slot of desired) {
    for (const name of wantedNames(slot.index)) {
      const link = state.links.get(name);
      if (link && !isOurs(ours, name)) {
        throw new PlanError(`an interface named ${name} (${link.kind || 'no kind'}) exists and netprov did not make it; remove it, or choose another --prefix.`);
      }
    }
    const owner = state.addressOwner.get(slot.ip);
    if (owner && !isOurs(ours, owner)) {
      throw new PlanError(`${slot.ip} is already on ${owner}, which netprov did not make; choose another --cidr.`);
    }
  }
  for (const link of state.links.values()) {
    if (link.group === DOOMED_GROUP && !isOurs(ours, link.name)) {
      throw new PlanError(`${link.name} is in link group ${DOOMED_GROUP}, which netprov uses to delete its own devices; move it to another group.`);
    }
  }
}

/**
 * Lines that delete `devices` in one request (a group delete: one grace period for all). When
 * they are every device in netprov's own group (down, a change of backend), that group is
 * deleted as it is; otherwise they are moved to the doomed group first.
 */
export function deleteDevices(state: KernelState, devices: readonly string[]): string[] {
  if (devices.length === 0) return [];
  const removing = new Set(devices);
  const own = [...state.links.values()].filter((l) => l.group === OWN_GROUP);
  const wholeGroup = own.length > 0 && own.every((l) => removing.has(l.name));
  const rest = wholeGroup ? devices.filter((d) => state.links.get(d)?.group !== OWN_GROUP) : devices;
  return [
    ...(wholeGroup ? [`link del group ${OWN_GROUP}`] : []),
    ...(rest.length > 0 ? [...rest.map((d) => `link set dev ${d} group ${DOOMED_GROUP}`), `link del group ${DOOMED_GROUP}`] : []),
  ];
}

/** The lines that make an existing device carry exactly `ip`/32, up, in netprov's group. */
export function repairLines(link: LinkState, ip: string): { flush: string[]; fix: string[] } {
  const flush: string[] = [];
  const fix: string[] = [];
  const want = `${ip}/32`;
  if (!(link.ipv4.length === 1 && link.ipv4[0] === want)) {
    if (link.ipv4.length > 0) flush.push(`addr flush dev ${link.name}`);
    fix.push(`addr add ${want} dev ${link.name}`);
  }
  if (!link.up || link.group !== OWN_GROUP) fix.push(`link set dev ${link.name} up group ${OWN_GROUP}`);
  return { flush, fix };
}

export function sortedIndexes(map: Map<number, unknown>, from = 0): number[] {
  return [...map.keys()].filter((i) => i >= from).sort((a, b) => a - b);
}
