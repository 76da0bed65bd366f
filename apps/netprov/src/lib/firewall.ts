import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { NETNS_DIR, type Names } from './names';

/**
 * The netns backend's policy, with nftables when `nft` is installed, else iptables (never
 * installed by netprov; without either the backend refuses to start):
 * - inside every slot namespace, default deny: input, forward and output drop everything but
 *   the namespace's own loopback (IPv4 and IPv6; with nftables ARP too);
 * - on the host, a guard: nothing that arrives from a slot's veth is delivered to the host or
 *   forwarded anywhere, and nothing is forwarded into one (the router reaches a slot's address,
 *   which is the host's own, never the inside of the namespace).
 */
export type FirewallTool = 'nft' | 'iptables';

/** The executable's path when `command` is on PATH. */
export function which(command: string, path = process.env['PATH'] ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not here
    }
  }
  return null;
}

export function detectFirewall(): FirewallTool | null {
  if (which('nft')) return 'nft';
  if (which('iptables') && which('ip6tables') && which('iptables-restore') && which('ip6tables-restore')) return 'iptables';
  return null;
}

const SLOT_TABLE = 'corral_slot';
/** Loaded inside each slot namespace; replaces an older copy atomically (one transaction). */
export const SLOT_POLICY_NFT = `table inet ${SLOT_TABLE} {}
delete table inet ${SLOT_TABLE}
table inet ${SLOT_TABLE} {
  chain input { type filter hook input priority 0; policy drop; iifname "lo" accept; }
  chain forward { type filter hook forward priority 0; policy drop; }
  chain output { type filter hook output priority 0; policy drop; oifname "lo" accept; }
}
table arp ${SLOT_TABLE} {}
delete table arp ${SLOT_TABLE}
table arp ${SLOT_TABLE} {
  chain input { type filter hook input priority 0; policy drop; }
  chain output { type filter hook output priority 0; policy drop; }
}
`;
/** The same for iptables-restore and ip6tables-restore (the whole filter table of the namespace). */
export const SLOT_POLICY_IPTABLES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
COMMIT
`;

/** The host-side guard's nftables script: (re)defines it, or removes it when `present` is false. */
export function hostGuardNft(n: Names, present: boolean): string {
  const t = `inet ${n.guardTable}`;
  const veths = `"${n.prefix}v*"`;
  const reset = `table ${t} {}\ndelete table ${t}\n`;
  if (!present) return reset;
  return `${reset}table ${t} {
  chain input { type filter hook input priority -10; policy accept; iifname ${veths} drop; }
  chain forward { type filter hook forward priority -10; policy accept; iifname ${veths} drop; oifname ${veths} drop; }
}
`;
}

/**
 * execa, loaded on first use: only the netns backend's firewall runs commands through it, and
 * loading its modules costs a CLI run ~140 ms (a third of `up` of 1000 taps).
 */
async function loadExeca(): Promise<typeof import('execa').execa> {
  return (await import('execa')).execa;
}

/** Runs a command inside the named namespace (nsenter when there, else ip netns exec). */
async function inNetns(netns: string, command: string, args: string[], input: string): Promise<void> {
  const execa = await loadExeca();
  if (which('nsenter')) await execa('nsenter', [`--net=${join(NETNS_DIR, netns)}`, '--', command, ...args], { input });
  else await execa('ip', ['netns', 'exec', netns, command, ...args], { input });
}

/** Loads the default-deny policy inside one slot namespace. */
export async function installSlotPolicy(tool: FirewallTool, netns: string): Promise<void> {
  if (tool === 'nft') return inNetns(netns, 'nft', ['-f', '-'], SLOT_POLICY_NFT);
  await inNetns(netns, 'iptables-restore', ['-w'], SLOT_POLICY_IPTABLES);
  await inNetns(netns, 'ip6tables-restore', ['-w'], SLOT_POLICY_IPTABLES);
}

async function iptables(bin: string, args: string[]): Promise<boolean> {
  const execa = await loadExeca();
  return (await execa(bin, ['-w', ...args], { reject: false })).exitCode === 0;
}

/** Installs (present) or removes the host-side guard. */
export async function setHostGuard(tool: FirewallTool, n: Names, present: boolean): Promise<void> {
  const execa = await loadExeca();
  if (tool === 'nft') {
    await execa('nft', ['-f', '-'], { input: hostGuardNft(n, present) });
    return;
  }
  const base = n.prefix.slice(0, -1).toUpperCase();
  const chains = { INPUT: `${base}-NETPROV-IN`, FORWARD: `${base}-NETPROV-FWD` } as const;
  const veths = `${n.prefix}v+`;
  for (const bin of ['iptables', 'ip6tables']) {
    for (const [hook, chain] of Object.entries(chains)) {
      if (present) {
        await iptables(bin, ['-N', chain]); // fails when it exists: fine
        await execa(bin, ['-w', '-F', chain]);
        await execa(bin, ['-w', '-A', chain, '-i', veths, '-j', 'DROP']);
        if (hook === 'FORWARD') await execa(bin, ['-w', '-A', chain, '-o', veths, '-j', 'DROP']);
        if (!(await iptables(bin, ['-C', hook, '-j', chain]))) await execa(bin, ['-w', '-I', hook, '1', '-j', chain]);
      } else {
        while (await iptables(bin, ['-D', hook, '-j', chain])) {
          // every jump to the chain
        }
        if (await iptables(bin, ['-F', chain])) await iptables(bin, ['-X', chain]);
      }
    }
  }
}

/** Runs `task` over `items`, at most `limit` at once; `onDone` after each. Rejects with the first failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>, onDone: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  let failed: unknown = null;
  const lane = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
        onDone(++done);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failed !== null) throw failed;
}
