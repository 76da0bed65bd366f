import { readdirSync, readFileSync } from 'node:fs';

/** Pure parsers of /proc files, and small readers built on them (Linux only). */

/** CPU time a task has run, in ns: the first field of /proc/<pid>/schedstat. @throws on malformed text */
export function parseSchedstatRuntimeNs(text: string): number {
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (!/^\d+$/.test(first)) throw new Error(`malformed schedstat: ${JSON.stringify(text.slice(0, 40))}`);
  return Number(first);
}

/**
 * A "Name:   123 kB" field of /proc/<pid>/status or smaps_rollup, in kB; null when absent
 * (a kernel thread has no VmRSS).
 */
export function parseKbField(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

export interface ProcStat {
  state: string;
  ppid: number;
  /** user and system CPU of the whole process, in clock ticks (USER_HZ, 100 on Linux). */
  utimeTicks: number;
  stimeTicks: number;
  /** CPU of the children it has waited for (and theirs), in clock ticks. */
  cutimeTicks: number;
  cstimeTicks: number;
}

/** /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('malformed stat: no command name');
  // after ") ": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt(10) cminflt(11) majflt(12) cmajflt(13)
  // utime(14) stime(15) cutime(16) cstime(17)
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): string => {
    const value = fields[n - 3];
    if (value === undefined) throw new Error(`malformed stat: no field ${n}`);
    return value;
  };
  return {
    state: field(3),
    ppid: Number(field(4)),
    utimeTicks: Number(field(14)),
    stimeTicks: Number(field(15)),
    cutimeTicks: Number(field(16)),
    cstimeTicks: Number(field(17)),
  };
}

/** CPU of every live thread of `pid`, summed, in ms (ns precision; threads that already ended are not counted). */
export function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += parseSchedstatRuntimeNs(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1'));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e6;
}

/** CPU of the main thread only, in ms (what /proc/<pid>/schedstat says). */
export function mainThreadCpuMs(pid: number): number {
  return parseSchedstatRuntimeNs(readFileSync(`/proc/${pid}/schedstat`, 'latin1')) / 1e6;
}

export interface Memory {
  vmRssKb: number;
  rssAnonKb: number;
  rssFileKb: number;
  /** Proportional set size: shared pages split among the processes sharing them. */
  pssKb: number | null;
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  let pssKb: number | null = null;
  try {
    pssKb = parseKbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'), 'Pss');
  } catch {
    // older kernels, or no permission
  }
  return {
    vmRssKb: parseKbField(status, 'VmRSS') ?? 0,
    rssAnonKb: parseKbField(status, 'RssAnon') ?? 0,
    rssFileKb: parseKbField(status, 'RssFile') ?? 0,
    pssKb,
  };
}

export function readStat(pid: number): ProcStat {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
}

/** Busy and total CPU time of the whole machine from the "cpu" line of /proc/stat, in clock ticks. */
export function parseCpuTotals(procStat: string): { busyTicks: number; totalTicks: number; irqTicks: number } {
  const line = procStat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error('no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busyTicks = user + nice + system + irq + softirq + steal;
  return { busyTicks, totalTicks: busyTicks + idle + iowait, irqTicks: irq + softirq };
}

/** Clock ticks per second of the utime/stime fields (USER_HZ); 100 on every usual Linux. */
export const CLOCK_TICKS = 100;

/** CPU of a process in ms from /proc/<pid>/stat: its own, and that of the children it has reaped. */
export function processCpu(pid: number | 'self'): { ownMs: number; childrenMs: number } {
  const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  const ms = 1000 / CLOCK_TICKS;
  return { ownMs: (stat.utimeTicks + stat.stimeTicks) * ms, childrenMs: (stat.cutimeTicks + stat.cstimeTicks) * ms };
}

/** Busy CPU of the whole machine so far (all cores), in ms. */
export function machineBusyMs(): number {
  return (parseCpuTotals(readFileSync('/proc/stat', 'latin1')).busyTicks * 1000) / CLOCK_TICKS;
}

/** Time all cores spent in hard and soft interrupts so far (charged to no process), in ms. */
export function machineIrqMs(): number {
  return (parseCpuTotals(readFileSync('/proc/stat', 'latin1')).irqTicks * 1000) / CLOCK_TICKS;
}

/** CPU so far of the kernel's own threads (kthreadd and its children: kworkers, ksoftirqd…), in ms; those that ended are not counted. */
export function kernelThreadsMs(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'latin1'));
      if (entry === '2' || stat.ppid === 2) ticks += stat.utimeTicks + stat.stimeTicks;
    } catch {
      // gone meanwhile
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Live children of `ppid` whose command name is `name`. */
export function childrenNamed(ppid: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (parseStat(stat).ppid !== ppid) continue;
      if (readFileSync(`/proc/${entry}/comm`, 'latin1').trim() === name) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** usage_usec from a cgroup v2 cpu.stat, in µs; null when absent. */
export function parseCpuStatUsageUsec(text: string): number | null {
  const match = /^usage_usec\s+(\d+)$/m.exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * A reader of the CPU used so far by every process that ever ran in cgroup `relative` (and its
 * children, removed ones included), in ms: cgroup v1 cpuacct or v2 cpu.stat. Null when there is
 * no such cgroup.
 */
export function cgroupCpuReader(relative: string): (() => number) | null {
  const v1 = `/sys/fs/cgroup/cpuacct/${relative}/cpuacct.usage`;
  const v2 = `/sys/fs/cgroup/${relative}/cpu.stat`;
  try {
    readFileSync(v1, 'latin1');
    return () => Number(readFileSync(v1, 'latin1').trim()) / 1e6;
  } catch {
    // not cgroup v1
  }
  try {
    if (parseCpuStatUsageUsec(readFileSync(v2, 'latin1')) === null) return null;
    return () => (parseCpuStatUsageUsec(readFileSync(v2, 'latin1')) ?? Number.NaN) / 1000;
  } catch {
    return null;
  }
}
