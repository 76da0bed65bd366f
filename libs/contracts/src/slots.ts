/** Every slot is in exactly one of these states at any time. */
export const SLOT_STATES = ['idle', 'busy', 'booting', 'dead'] as const;
export type SlotState = (typeof SLOT_STATES)[number];

/** What a busy slot is doing. */
export const SLOT_PHASES = ['claimed', 'running'] as const;
export type SlotPhase = (typeof SLOT_PHASES)[number];

/** How a slot's address is provided. */
export const BACKENDS = ['loopback', 'tap', 'netns'] as const;
export type Backend = (typeof BACKENDS)[number];

/** A slot as netprov provisions it: an address of its own on one host. */
export interface SlotAddress {
  id: string;
  ip: string;
  /** netns backend: the slot's network namespace (e.g. /run/netns/crl-n3); its sandboxes run inside. */
  netns?: string;
}

/** A slot as the registry knows it. */
export interface SlotRecord extends SlotAddress {
  host: string;
  backend: Backend;
  state: SlotState;
  /** The worker's port on `ip`, once a worker serves the slot. */
  port: number | null;
  /** The warm or running sandbox's pid, when there is one. */
  pid: number | null;
  /** While busy: `claimed` (a router holds it, the job not yet started) or `running`. */
  phase?: SlotPhase;
  updatedAt: number;
}

/** A claim on an idle slot: the one-time token that lets a router hand the slot's worker one job. */
export interface Lease {
  slotId: string;
  host: string;
  ip: string;
  port: number;
  token: string;
}

/** Where one sandbox's cgroup files are (written by the worker, read by the watchdog). */
export interface SandboxCgroupFiles {
  version: 1 | 2;
  /** The cgroup directories (v1: one per controller; v2: one). */
  dirs: string[];
  /** v1 cpuacct.usage (ns); v2 cpu.stat (usage_usec line). */
  cpuFile: string;
  /** cgroup.procs of a directory holding every process of the sandbox. */
  procsFile: string;
  /** v1 freezer.state; v2 cgroup.freeze. */
  freezeFile: string;
  /** v2 only: cgroup.kill. */
  killFile?: string;
}

/** A sandbox that is running a job, as the watchdog sees it. */
export interface RunningSandbox {
  slotId: string;
  token: string;
  /** The runtime process (behind bubblewrap's, when jailed). */
  pid: number;
  /** Leader of the sandbox's process group (bubblewrap, or the runtime itself). */
  pgid: number;
  /** The sandbox's cgroup, when the host gives it one: CPU of the whole tree, freeze-then-kill. */
  cgroup?: SandboxCgroupFiles;
  /** CPU used before the job began (its boot), in ms: of the cgroup when there is one, else of `pid`. */
  cpuBaseMs: number;
  /** The job's CPU budget in ms. */
  cpuMs: number;
  /** The job's memory budget in MiB. */
  memoryMb: number;
  startedAt: number;
}

export interface PoolCounts {
  total: number;
  idle: number;
  busy: number;
  booting: number;
  dead: number;
}

export interface PoolSnapshot extends PoolCounts {
  slots: SlotRecord[];
  /**
   * Every slot in exactly one state, none lost (idle but unlisted, busy without a lease, busy
   * past its lease, running without the watchdog's entry) or doubled.
   */
  consistent: boolean;
  /** What the consistency check found, one line each. */
  problems: string[];
}

/** What a worker host tells about itself while it runs: its jail and its runtime. */
export interface HostInfo {
  id: string;
  /** The jail policy and what it gave: one line per layer, on or off and why. */
  jail: { mode: 'auto' | 'required' | 'off'; layers: Record<string, string>; off: string[] };
  /** The sandbox runtime's version (`node --version`). */
  runtime: string;
  /** The packages its sandboxes may import. */
  packages: { name: string; version: string }[];
  updatedAt: number;
}

/** What a router answers to GET /v1/pool: the registry's snapshot, the worker hosts, and that router's queue length. */
export type PoolAnswer = PoolSnapshot & { queued: number; hosts: HostInfo[] };

/** Slot ids are `<host>:<index>`; the index orders slots within a host. */
export function slotId(host: string, index: number): string {
  return `${host}:${index}`;
}
