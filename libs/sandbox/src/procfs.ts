import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** What the worker reads of a sandbox's processes in /proc (Linux only); every reader returns a neutral value for a process that is gone. */

/** A process's CPU time in ms, every thread, from the scheduler (ns precision); 0 when it is gone. */
export function schedstatMs(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
      } catch {
        // the thread ended
      }
    }
  } catch {
    return 0;
  }
  return total;
}

/** The children of a process (its main thread's). */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim();
    return text ? text.split(' ').map(Number) : [];
  } catch {
    return [];
  }
}

/** CPU of a process and its descendants, in ms (at most 64 processes are looked at). */
export function treeCpuMs(root: number): number {
  let total = 0;
  const queue = [root];
  for (let seen = 0; queue.length > 0 && seen < 64; seen += 1) {
    const pid = queue.shift() as number;
    total += schedstatMs(pid);
    queue.push(...childrenOf(pid));
  }
  return total;
}

/**
 * The sandbox's own process behind bubblewrap's two (its monitor and the namespace's init):
 * the first descendant that is not bubblewrap. (Node names its main thread "MainThread", so
 * the runtime cannot be found by the name "node".)
 */
export function findRuntimePid(leader: number): number {
  const queue = [leader];
  for (let seen = 0; queue.length > 0 && seen < 16; seen += 1) {
    const pid = queue.shift() as number;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'latin1').trim() !== 'bwrap') return pid;
    } catch {
      // gone, or not ours to read
    }
    queue.push(...childrenOf(pid));
  }
  return leader;
}

/** A process's peak resident memory (VmHWM) in kB; null when it is gone. */
export function peakRssKb(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Sets the nice value of every thread of a process (root only; nothing when not allowed or gone). */
export function setThreadsPriority(pid: number, nice: number): void {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), nice);
  } catch {
    // not allowed (not root), or gone
  }
}
