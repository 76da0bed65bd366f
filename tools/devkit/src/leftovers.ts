import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A process as /proc names it: its pid and its start time, so that a reused pid is not taken for it. */
export interface ProcessId {
  pid: number;
  startTicks: number;
  comm: string;
}

function stat(pid: number): { ppid: number; startTicks: number; comm: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return { ppid: Number(fields[1]), startTicks: Number(fields[19]), comm: text.slice(text.indexOf('(') + 1, close) };
  } catch {
    return null;
  }
}

/** `root` and every process below it now. */
export function processTree(root: number): ProcessId[] {
  const parents = new Map<number, number>();
  const info = new Map<number, { startTicks: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (!s) continue;
    parents.set(Number(entry), s.ppid);
    info.set(Number(entry), s);
  }
  const below = (pid: number): boolean => {
    for (let at: number | undefined = pid; at !== undefined && at > 0; at = parents.get(at)) if (at === root) return true;
    return false;
  };
  return [...info.entries()].filter(([pid]) => below(pid)).map(([pid, s]) => ({ pid, ...s }));
}

/** Those of `processes` still running (zombies count: nobody reaped them). */
export function stillRunning(processes: readonly ProcessId[]): ProcessId[] {
  return processes.filter((p) => stat(p.pid)?.startTicks === p.startTicks);
}

/** The cgroup folders of host `hostId` that exist (v1: one per controller; v2: one). */
export function hostCgroupFolders(hostId: string): string[] {
  const root = '/sys/fs/cgroup';
  const candidates = existsSync(join(root, 'cgroup.controllers'))
    ? [join(root, 'corral', hostId)]
    : readdirSync(root).map((controller) => join(root, controller, 'corral', hostId));
  return candidates.filter((dir) => existsSync(dir));
}

/** True when something listens on TCP `port` (any address, IPv4 or IPv6). */
export function listensOn(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    // local_address is "ADDR:PORT"; state 0A is LISTEN.
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${hex}`) && state === '0A') return true;
    }
  }
  return false;
}
