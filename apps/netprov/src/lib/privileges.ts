import { readFileSync, readlinkSync } from 'node:fs';
import { detectFirewall, which, type FirewallTool } from './firewall';
import { PlanError } from './loopback';
import { NETNS_DIR } from './names';

/**
 * What a kernel backend needs before it changes anything; each failure is bad input (exit 2)
 * with the remedy in the message, found before any change is made.
 */
export interface Needs {
  backend: 'tap' | 'netns';
  /** Only reads state (ls, --dry-run): no root needed. */
  readOnly: boolean;
  uid?: number;
}

/** @returns the firewall tool for the netns backend (null for tap) @throws PlanError */
export function checkNeeds({ backend, readOnly, uid = process.getuid?.() ?? 0 }: Needs): FirewallTool | null {
  if (!which('ip')) throw new PlanError(`the ${backend} backend needs iproute2's "ip" on PATH (Debian: apt-get install -y iproute2).`);
  if (readOnly) return null;
  if (uid !== 0) {
    const what = backend === 'tap' ? 'creates network devices (CAP_NET_ADMIN)' : 'creates network namespaces and devices (CAP_SYS_ADMIN, CAP_NET_ADMIN)';
    throw new PlanError(`the ${backend} backend ${what}: run netprov as root (ls and --dry-run work without).`);
  }
  if (backend === 'tap') return null;
  const tool = detectFirewall();
  if (!tool) {
    throw new PlanError('the netns backend needs nftables ("nft") or iptables to lock each slot namespace down; netprov installs neither. Debian: apt-get install -y nftables');
  }
  if (!sharesMountNamespaceWithInit()) {
    throw new PlanError(
      'netprov runs in a mount namespace of its own (under "ip netns exec", or a service with private mounts): the namespaces it names in /run/netns would vanish when it exits. ' +
        'Run it in the host\'s mount namespace; to run it inside another network namespace use "nsenter --net=/run/netns/NAME".',
    );
  }
  return tool;
}

/**
 * True unless mounts made under /run/netns by this process would stay in a mount namespace of
 * its own: /run/netns is a slave mount here ("master:" in mountinfo, as under ip netns exec), or
 * (before the first namespace ever) this process's mount namespace is not pid 1's.
 */
export function sharesMountNamespaceWithInit(mountinfo = readOrEmpty('/proc/self/mountinfo')): boolean {
  const entry = mountinfo.split('\n').find((line) => line.split(' ')[4] === NETNS_DIR);
  if (entry) return !/ master:\d+/.test(entry.slice(0, entry.indexOf(' - ')));
  try {
    return readlinkSync('/proc/self/ns/mnt') === readlinkSync('/proc/1/ns/mnt');
  } catch {
    return true; // cannot tell: let ip report what goes wrong
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
