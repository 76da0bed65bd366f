import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { SandboxCgroupFiles } from '@corral/contracts';

/** Where one sandbox's cgroup files are, for the worker (CPU at hand-over) and the watchdog (CPU, kill). */
export type SandboxCgroup = SandboxCgroupFiles;

/** The cgroup hierarchy corral uses on this host, or the reason it cannot use one. */
export type CgroupHost =
  | {
      ok: true;
      version: 1 | 2;
      describe: string;
      /** Paths of a sandbox's cgroup (corral-spawn creates and removes it). */
      sandbox(name: string): SandboxCgroup;
      /** Files to write before the sandbox joins: memory and pids limits. */
      limits(cg: SandboxCgroup, memoryBytes: number, pidsMax: number): [string, string][];
      /** What corral-spawn reports at the end: CPU of the tree, OOM kills. */
      reports(cg: SandboxCgroup): [string, string][];
      /**
       * Removes sandbox cgroups left by an earlier run (killing what is in them): those that
       * `isStale` accepts by name (all, when not given); returns how many.
       */
      sweep(isStale?: (name: string) => boolean): number;
      /** Removes this host's cgroup folders that hold no process; what is still in use stays. */
      release(): void;
      /** This host's folders, and the folders above them that other hosts share. */
      folders: { own: readonly string[]; shared: readonly string[] };
    }
  | { ok: false; reason: string };

const ROOT = '/sys/fs/cgroup';

/**
 * TCP buffers a sandbox may pin (two sockets of its own on its loopback, written to and never
 * read). cgroup v1 counts them only against this limit of its own; v2 counts them in memory.max.
 */
export const TCP_MEMORY_BYTES = 16 * 1024 * 1024;
const V1_CONTROLLERS = ['memory', 'pids', 'cpuacct', 'freezer'] as const;

/** CPU the sandbox's whole process tree has used, in ms; null when unreadable. */
export function readCgroupCpuMs(cg: Pick<SandboxCgroup, 'version' | 'cpuFile'>): number | null {
  try {
    const text = readFileSync(cg.cpuFile, 'latin1');
    if (cg.version === 1) return Number(text.trim()) / 1e6;
    const match = /^usage_usec (\d+)$/m.exec(text);
    return match ? Number(match[1]) / 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Kills every process of a sandbox so that none can fork while the others die: v2 cgroup.kill
 * does it atomically; v1 freezes the cgroup, kills each member, then thaws it.
 * @returns how many processes were signalled (v2: 1 when the kill was written)
 */
export function killCgroup(cg: SandboxCgroup): number {
  if (cg.killFile) {
    writeFileSync(cg.killFile, '1');
    return 1;
  }
  writeFileSync(cg.freezeFile, 'FROZEN');
  let killed = 0;
  try {
    for (const line of readFileSync(cg.procsFile, 'latin1').split('\n')) {
      const pid = Number(line);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
          killed += 1;
        } catch {
          // already gone
        }
      }
    }
  } finally {
    writeFileSync(cg.freezeFile, 'THAWED');
  }
  return killed;
}

/**
 * Removes the sandbox cgroups under `base` that hold no process, then the given folders if
 * empty. Sandboxes killed a moment ago may still be leaving theirs: it retries for up to
 * `waitMs` (it runs at shutdown, so it may block).
 */
function removeUpwards(base: string, dirs: string[], waitMs = 2000): void {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let left = 0;
    try {
      for (const entry of readdirSync(base, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        try {
          rmdirSync(join(base, entry.name));
        } catch {
          left += 1; // still in use
        }
      }
    } catch {
      // gone already
    }
    if (left === 0 || Date.now() > deadline) break;
    sleepSync(20);
  }
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (another host's folder, or still busy), or gone already
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The pids in a cgroup.procs file. */
function members(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, 'latin1').split('\n').map(Number).filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

/**
 * Kills what is in each sandbox cgroup under `dir` that `isStale` accepts, waits (up to a
 * second) for it to be gone, and removes the cgroup. Used at start-up, so it may block.
 */
function removeTree(dir: string, isStale: (name: string) => boolean = () => true): number {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isStale(entry.name)) continue;
    const child = join(dir, entry.name);
    removed += removeTree(child);
    const procs = join(child, 'cgroup.procs');
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const pids = members(procs);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      try {
        rmdirSync(child);
        removed += 1;
        break;
      } catch {
        sleepSync(10); // the killed processes leave the cgroup as they exit
      }
    }
  }
  return removed;
}

/**
 * Prepares `corral/<host>` in the host's cgroup hierarchy (v2, or v1 with the memory, pids,
 * cpuacct and freezer controllers). Needs root; says why when it cannot.
 */
export function prepareCgroups(hostId: string): CgroupHost {
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) return prepareV2(hostId);
    if (V1_CONTROLLERS.every((c) => existsSync(join(ROOT, c, 'cgroup.procs')))) return prepareV1(hostId);
    return { ok: false, reason: `no cgroup v2 at ${ROOT} and no v1 hierarchy with ${V1_CONTROLLERS.join(', ')}` };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

function prepareV1(hostId: string): CgroupHost {
  const bases = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, join(ROOT, c, 'corral', hostId)])) as Record<(typeof V1_CONTROLLERS)[number], string>;
  for (const base of Object.values(bases)) mkdirSync(base, { recursive: true });
  const tcpLimit = existsSync(join(bases.memory, 'memory.kmem.tcp.limit_in_bytes'));
  return {
    ok: true,
    version: 1,
    describe: `cgroup v1 (${V1_CONTROLLERS.join(', ')}) under ${join(ROOT, '<controller>', 'corral', hostId)}${tcpLimit ? `, TCP buffers ${TCP_MEMORY_BYTES >> 20} MiB` : ''}`,
    sandbox(name) {
      const dir = (c: (typeof V1_CONTROLLERS)[number]): string => join(bases[c], name);
      return {
        version: 1,
        dirs: V1_CONTROLLERS.map(dir),
        cpuFile: join(dir('cpuacct'), 'cpuacct.usage'),
        procsFile: join(dir('freezer'), 'cgroup.procs'),
        freezeFile: join(dir('freezer'), 'freezer.state'),
      };
    },
    limits(cg, memoryBytes, pidsMax) {
      const [memory, pids] = cg.dirs as [string, string];
      return [
        [join(memory, 'memory.limit_in_bytes'), String(memoryBytes)],
        ...(tcpLimit ? [[join(memory, 'memory.kmem.tcp.limit_in_bytes'), String(TCP_MEMORY_BYTES)] as [string, string]] : []),
        [join(pids, 'pids.max'), String(pidsMax)],
      ];
    },
    reports(cg) {
      const [memory] = cg.dirs as [string];
      return [
        ['cpuNs', cg.cpuFile],
        ['oomKills', `${join(memory, 'memory.oom_control')}:oom_kill`],
      ];
    },
    sweep: (isStale) => Object.values(bases).reduce((n, base) => n + removeTree(base, isStale), 0),
    folders: { own: Object.values(bases), shared: Object.values(bases).map((base) => join(base, '..')) },
    release() {
      for (const base of Object.values(bases)) removeUpwards(base, [base, join(base, '..')]);
    },
  };
}

function prepareV2(hostId: string): CgroupHost {
  const corral = join(ROOT, 'corral');
  const base = join(corral, hostId);
  mkdirSync(base, { recursive: true });
  // Controllers must be enabled on every level above the sandboxes' own cgroups.
  for (const dir of [ROOT, corral, base]) writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +pids +cpu');
  return {
    ok: true,
    version: 2,
    describe: `cgroup v2 under ${base}`,
    sandbox(name) {
      const dir = join(base, name);
      return {
        version: 2,
        dirs: [dir],
        cpuFile: join(dir, 'cpu.stat'),
        procsFile: join(dir, 'cgroup.procs'),
        freezeFile: join(dir, 'cgroup.freeze'),
        killFile: join(dir, 'cgroup.kill'),
      };
    },
    limits(cg, memoryBytes, pidsMax) {
      const [dir] = cg.dirs as [string];
      return [
        [join(dir, 'memory.max'), String(memoryBytes)],
        [join(dir, 'pids.max'), String(pidsMax)],
      ];
    },
    reports(cg) {
      const [dir] = cg.dirs as [string];
      return [
        ['cpuUs', `${cg.cpuFile}:usage_usec`],
        ['oomKills', `${join(dir, 'memory.events')}:oom_kill`],
      ];
    },
    sweep: (isStale) => removeTree(base, isStale),
    folders: { own: [base], shared: [corral] },
    release() {
      removeUpwards(base, [base, corral]);
    },
  };
}
