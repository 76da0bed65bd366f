import { ipJson } from './ip';

/** One network device as `ip -json -details link show` describes it. */
export interface LinkState {
  name: string;
  /** linkinfo kind: "tun" (tun and tap devices), "veth", "dummy", "bridge"…; "" for none. */
  kind: string;
  /** For kind "tun": "tap" or "tun". */
  tunType: string;
  up: boolean;
  group: number | null;
  alias: string;
  /** veth: the namespace id (in this namespace) of the peer's namespace. */
  peerNetnsId: number | null;
  /** IPv4 addresses as "a.b.c.d/len". */
  ipv4: string[];
}

/** What netprov sees of the host's network: devices, their addresses, named namespaces. */
export interface KernelState {
  links: Map<string, LinkState>;
  /** Every IPv4 address on the host → the device that holds it. */
  addressOwner: Map<string, string>;
  /** Named network namespaces (/run/netns) → their id in this namespace, when one is assigned. */
  netns: Map<string, number | null>;
}

interface RawLink {
  ifname: string;
  flags?: string[];
  group?: string;
  ifalias?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { type?: string } };
}
interface RawAddr {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface RawNetns {
  name: string;
  id?: number;
}

function group(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

/** Reads the state with three processes in all (link, addr, netns), whatever the number of devices. */
export async function readKernelState(): Promise<KernelState> {
  const [rawLinks, rawAddrs, rawNetns] = await Promise.all([
    ipJson<RawLink>(['-details', 'link', 'show']),
    ipJson<RawAddr>(['addr', 'show']),
    ipJson<RawNetns>(['netns', 'list']),
  ]);
  const links = new Map<string, LinkState>();
  for (const l of rawLinks) {
    links.set(l.ifname, {
      name: l.ifname,
      kind: l.linkinfo?.info_kind ?? '',
      tunType: l.linkinfo?.info_data?.type ?? '',
      up: l.flags?.includes('UP') ?? false,
      group: group(l.group),
      alias: l.ifalias ?? '',
      peerNetnsId: l.link_netnsid ?? null,
      ipv4: [],
    });
  }
  const addressOwner = new Map<string, string>();
  for (const a of rawAddrs) {
    for (const info of a.addr_info ?? []) {
      if (info.family !== 'inet') continue;
      links.get(a.ifname)?.ipv4.push(`${info.local}/${info.prefixlen}`);
      addressOwner.set(info.local, a.ifname);
    }
  }
  const netns = new Map<string, number | null>();
  for (const n of rawNetns) netns.set(n.name, n.id ?? null);
  return { links, addressOwner, netns };
}
