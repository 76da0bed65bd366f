import { PlanError } from './loopback';

/**
 * How netprov names and marks what it makes, so that it can find exactly its own objects again
 * (and nothing else) from the kernel's state alone:
 * - tap backend: tap device `<prefix>t<index>`;
 * - netns backend: network namespace `<prefix>n<index>` (/run/netns/<name>), joined to the host
 *   by a veth pair whose host end is `<prefix>v<index>` and whose other end is `eth0` inside.
 * Every host-side device of netprov's is put in OWN_GROUP once complete; removal moves devices to
 * DOOMED_GROUP and deletes that group in one netlink request (one RCU grace period for all of
 * them instead of one per device: 1000 devices in a fraction of a second instead of ~20 s).
 */
export const DEFAULT_PREFIX = 'crl-';
/** Link groups (32-bit numbers; "crl" in ASCII, then 1 and 2). */
export const OWN_GROUP = 0x63726c01;
export const DOOMED_GROUP = 0x63726c02;
/** ifalias of a netns slot's host veth once its namespace is complete (policy installed). */
export const READY_ALIAS = 'corral-netprov-ready';
/** The veth end inside a slot's namespace. */
export const INNER_IFNAME = 'eth0';
export const NETNS_DIR = '/run/netns';

const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,4}-$/;
/** Linux interface names have at most 15 characters. */
const IFNAMSIZ = 15;

export type ObjectKind = 't' | 'v' | 'n';

export interface Names {
  prefix: string;
  tap(index: number): string;
  veth(index: number): string;
  netns(index: number): string;
  /** The slot index of one of netprov's names of this kind, or null for any other name. */
  indexOf(kind: ObjectKind, name: string): number | null;
  /** The largest index whose names still fit in an interface name. */
  maxIndex: number;
  /** nftables table name for the host-side guard (no dashes allowed there). */
  guardTable: string;
}

/** @throws PlanError for a prefix that is not 2–6 characters of [a-z0-9] ending in "-" */
export function names(prefix: string = DEFAULT_PREFIX): Names {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new PlanError(`--prefix ${JSON.stringify(prefix)} must be a lower-case letter, up to 4 more letters or digits, then "-" (e.g. ${DEFAULT_PREFIX}).`);
  }
  const patterns = {
    t: new RegExp(`^${prefix}t(0|[1-9]\\d*)$`),
    v: new RegExp(`^${prefix}v(0|[1-9]\\d*)$`),
    n: new RegExp(`^${prefix}n(0|[1-9]\\d*)$`),
  };
  const digits = IFNAMSIZ - prefix.length - 1;
  return {
    prefix,
    tap: (i) => `${prefix}t${i}`,
    veth: (i) => `${prefix}v${i}`,
    netns: (i) => `${prefix}n${i}`,
    indexOf(kind, name) {
      const match = patterns[kind].exec(name);
      return match ? Number(match[1]) : null;
    },
    maxIndex: 10 ** digits - 1,
    guardTable: `${prefix.slice(0, -1)}_netprov_guard`,
  };
}
