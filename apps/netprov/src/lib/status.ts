import { slotId, type SlotRecord } from '@corral/contracts';
import type { Cidr } from './cidr';
import { formatIpv4 } from './ipv4';
import type { KernelState, LinkState } from './kernel-state';
import { OWN_GROUP, READY_ALIAS, type Names } from './names';
import { findOurs } from './plan';

/** One row of `ls` for a kernel backend: what the kernel has, and what the registry says. */
export interface SlotStatus {
  id: string;
  ip: string;
  device: string | null;
  netns: string | null;
  /** ok, missing, down, no-address, wrong-address, incomplete (tap) or not-ready (netns). */
  link: string;
  state: string;
  port: number | null;
  pid: number | null;
}

function linkHealth(link: LinkState | undefined, ip: string | undefined, ready: boolean | null): string {
  if (!link) return 'missing';
  if (ready === false) return 'not-ready';
  if (link.ipv4.length === 0) return 'no-address';
  if (ip !== undefined && !(link.ipv4.length === 1 && link.ipv4[0] === `${ip}/32`)) return 'wrong-address';
  if (!link.up) return 'down';
  if (link.group !== OWN_GROUP) return 'incomplete';
  return 'ok';
}

/** Every slot of this host the kernel or the registry knows of, by index. */
export function slotStatus(
  state: KernelState,
  n: Names,
  backend: 'tap' | 'netns',
  host: string,
  cidr: Cidr,
  registry: readonly SlotRecord[] | null,
): SlotStatus[] {
  const ours = findOurs(state, n);
  const records = new Map<number, SlotRecord>();
  for (const r of registry ?? []) records.set(Number(r.id.slice(r.id.lastIndexOf(':') + 1)), r);
  const devices = backend === 'tap' ? ours.taps : ours.veths;
  const indexes = new Set<number>([...records.keys(), ...devices.keys(), ...(backend === 'netns' ? ours.netns.keys() : [])]);
  return [...indexes]
    .sort((a, b) => a - b)
    .map((index) => {
      const link = devices.get(index);
      const record = records.get(index);
      // The address the slot should have: the registry's, else the index-th of the range.
      const ip = record?.ip ?? (cidr.first + index <= cidr.last ? formatIpv4(cidr.first + index) : undefined);
      const netns = backend === 'netns' ? (ours.netns.get(index) ?? null) : null;
      const ready = backend === 'netns' ? Boolean(link && netns && link.alias === READY_ALIAS && link.peerNetnsId === state.netns.get(netns)) : null;
      return {
        id: record?.id ?? slotId(host, index),
        ip: ip ?? link?.ipv4[0]?.replace(/\/\d+$/, '') ?? '-',
        device: link?.name ?? null,
        netns,
        link: backend === 'netns' && !netns ? 'missing' : linkHealth(link, ip, ready),
        state: record?.state ?? (registry ? 'unpublished' : '-'),
        port: record?.port ?? null,
        pid: record?.pid ?? null,
      };
    });
}
