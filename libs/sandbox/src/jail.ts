import { execFileSync } from 'node:child_process';
import { accessSync, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { prepareCgroups, type CgroupHost, type SandboxCgroup } from '@corral/cgroup';
import { isExecutable } from './paths';

/** Paths as the sandbox sees them inside bubblewrap. */
export const JAILED_NODE = '/sandbox/node';
export const JAILED_BOOTSTRAP = '/sandbox/bootstrap.cjs';
/** The job's working directory: its files, and what it writes (a tmpfs of its own, gone with it). */
export const JAILED_WORK = '/work';
/** Where the bootstrap names the job's entry for node (node's main argument, a folder with a package.json). */
export const JAILED_ENTRY = '/run/corral';
/** The package set, at the root so that both require() and import find it from the working directory. */
export const JAILED_PACKAGES = '/node_modules';

/** The bytes of the tmpfs that holds the entry's package.json. */
const ENTRY_TMPFS_BYTES = 64 * 1024;

/** How one sandbox is jailed beyond the permission model; every part is optional. */
export interface JailSpec {
  /** Run inside bubblewrap: new user, mount, pid, ipc, uts, net and cgroup namespaces. */
  bwrap?: {
    path: string;
    libraries: readonly string[];
    tmpBytes: number;
    /** Size of the working directory's tmpfs. */
    workBytes: number;
    /** A `node_modules` folder on the host, bound read-only at JAILED_PACKAGES. */
    packages?: string;
    /** Files bound read-only over /proc files that tell of the host: [file on the host, path in /proc]. */
    procMasks: readonly (readonly [string, string])[];
  };
  /** The sandbox's seccomp filter (corral-spawn's seccomp.c). */
  seccomp?: boolean;
  /** Run as this uid/gid (the worker must be root). */
  uid?: number;
  gid?: number;
  /** A cgroup of its own, with limits written before the sandbox joins it. */
  cgroup?: { cg: SandboxCgroup; limits: [string, string][]; reports: [string, string][] };
  /** rlimits beyond the baseline (nproc needs a uid of the sandbox's own). */
  rlimits?: Readonly<Record<string, number>>;
  /** The slot's network namespace (netns backend): the sandbox runs in it instead of in none. */
  netns?: string;
}

/**
 * /proc files replaced inside bubblewrap (libs/sandbox/proc-masks has one file of each name;
 * `empty` stands for those read as nothing).
 */
export const PROC_MASKS: readonly (readonly [string, string])[] = [
  ['stat', '/proc/stat'],
  ['cpuinfo', '/proc/cpuinfo'],
  ['meminfo', '/proc/meminfo'],
  ['uptime', '/proc/uptime'],
  ['loadavg', '/proc/loadavg'],
  ['version', '/proc/version'],
  ['boot_id', '/proc/sys/kernel/random/boot_id'],
  ...['vmstat', 'diskstats', 'interrupts', 'softirqs', 'swaps', 'zoneinfo', 'buddyinfo', 'schedstat', 'pagetypeinfo', 'partitions', 'modules', 'key-users'].map(
    (name) => ['empty', `/proc/${name}`] as const,
  ),
];

/**
 * How strict the jail is: `auto` takes every OS layer this host allows and says which are off;
 * `required` refuses to run unless every layer root can have is on; `off` keeps only the
 * layers inside the process (permission model, empty environment, rlimits, own session).
 */
export type JailMode = 'auto' | 'required' | 'off';

/** The OS layers `required` insists on (root can have each of them). */
export const OS_LAYERS = ['uid', 'namespaces', 'cgroups', 'seccomp'] as const;

export interface JailRequest {
  mode: JailMode;
  hostId: string;
  nodePath: string;
  bootstrapPath: string;
  bwrapPath?: string;
  /** Sandboxes of slot i run as uid/gid uidBase + i (root only). */
  uidBase: number;
  useCgroups: boolean;
  pidsMax: number;
  tmpMb: number;
  /** Processes per sandbox uid (RLIMIT_NPROC, counts threads). */
  nprocMax: number;
  /** Size of a sandbox's working directory. */
  workMb: number;
  /** A `node_modules` folder every sandbox may import from (reachable by the sandbox uids). */
  packages?: string;
  /** Descriptors per sandbox (RLIMIT_NOFILE), as the baseline rlimits set it. */
  nofileMax: number;
  /** Where the mask files of PROC_MASKS are (by name), as the sandbox uid can read them. */
  procMaskFile: (name: string) => string;
}

/** What this host can give sandboxes, decided once at start-up. */
export interface PreparedJail {
  mode: JailMode;
  /** One line per layer: on, or off and why; the worker logs it once. */
  layers: Record<string, string>;
  /** The OS layers that are off. */
  off: readonly string[];
  /** The host's cgroup folders: this worker's own, and their parents shared with other hosts. */
  cgroupFolders: { own: readonly string[]; shared: readonly string[] };
  /** The jail for one sandbox: its uid is the base + `uidIndex`, its cgroup `name`. */
  spec(uidIndex: number, name: string, memoryLimitMb: number): JailSpec;
  /**
   * Removes cgroups left by sandboxes of workers that are gone (their pid is in the name:
   * `<anything>-<worker pid>-<n>`); returns how many.
   */
  sweep(): number;
  /** Removes this host's cgroup folders (at shutdown). */
  release(): void;
  /** Turns bubblewrap off (after a failed probe), saying why. */
  withoutNamespaces(reason: string): PreparedJail;
}

/** The jail refuses to run: `required` and a layer is off. */
export class JailRequirementError extends Error {
  constructor(readonly missing: Record<string, string>) {
    super(
      `CORRAL_SANDBOX_JAIL=required, but ${Object.entries(missing)
        .map(([layer, why]) => `the ${layer} layer is ${why}`)
        .join('; ')}. Fix that, or set CORRAL_SANDBOX_JAIL=auto to run with the layers this host allows.`,
    );
    this.name = 'JailRequirementError';
  }
}

/** @throws JailRequirementError when the jail is `required` and an OS layer is off */
export function assertRequired(jail: PreparedJail): void {
  if (jail.mode !== 'required' || jail.off.length === 0) return;
  throw new JailRequirementError(Object.fromEntries(jail.off.map((layer) => [layer, jail.layers[layer] ?? 'off'])));
}


function findOnPath(name: string): string | undefined {
  return (process.env['PATH'] ?? '/usr/bin:/bin')
    .split(delimiter)
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

/** The shared libraries a binary loads (ldd), so that bubblewrap can show it those alone. */
export function sharedLibraries(binary: string): string[] {
  const text = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libs.add(match[1]);
  }
  return [...libs];
}

/** bubblewrap's arguments for one sandbox, up to and including `--`. */
export function bwrapArgs(spec: NonNullable<JailSpec['bwrap']>, nodePath: string, bootstrapPath: string, sharedNetwork = false): string[] {
  return [
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    // No network at all, unless the slot has a namespace of its own (already entered by corral-spawn).
    ...(sharedNetwork ? [] : ['--unshare-net']),
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--disable-userns',
    '--die-with-parent',
    '--clearenv',
    '--cap-drop',
    'ALL',
    '--hostname',
    'sandbox',
    '--ro-bind',
    nodePath,
    JAILED_NODE,
    '--ro-bind',
    bootstrapPath,
    JAILED_BOOTSTRAP,
    ...spec.libraries.flatMap((lib) => ['--ro-bind', lib, lib]),
    '--proc',
    '/proc',
    ...spec.procMasks.flatMap(([file, target]) => ['--ro-bind', file, target]),
    '--dev',
    '/dev',
    ...(spec.packages ? ['--ro-bind', spec.packages, JAILED_PACKAGES] : []),
    '--size',
    String(spec.tmpBytes),
    '--tmpfs',
    '/tmp',
    '--size',
    String(spec.workBytes),
    '--tmpfs',
    JAILED_WORK,
    '--size',
    String(ENTRY_TMPFS_BYTES),
    '--tmpfs',
    JAILED_ENTRY,
    '--remount-ro',
    '/',
    '--chdir',
    JAILED_WORK,
    '--',
  ];
}

/** Decides, once, which layers this host can give every sandbox. */
export function prepareJail(request: JailRequest): PreparedJail {
  const layers: Record<string, string> = {
    'permission model': 'on (--permission, read access to the bootstrap only)',
    environment: 'empty',
    rlimits: `core 0, fsize 0, nofile ${request.nofileMax}`,
  };
  if (request.mode === 'off') {
    for (const layer of OS_LAYERS) layers[layer] = 'off (CORRAL_SANDBOX_JAIL=off)';
    return fixed(request.mode, layers, () => ({}), null);
  }
  const root = process.getuid?.() === 0;

  const bwrapPath = request.bwrapPath ?? findOnPath('bwrap');
  let bwrap: JailSpec['bwrap'];
  if (!bwrapPath) {
    layers['namespaces'] = 'off: bubblewrap is not installed (apt-get install -y bubblewrap)';
  } else if (!isExecutable(bwrapPath)) {
    layers['namespaces'] = `off: CORRAL_BWRAP=${bwrapPath} is not an executable file`;
  } else {
    let libraries: string[];
    try {
      libraries = sharedLibraries(request.nodePath);
    } catch {
      libraries = ['/lib', '/lib64', '/usr/lib'].filter((dir) => {
        try {
          accessSync(dir);
          return true;
        } catch {
          return false;
        }
      });
    }
    // Only files this kernel has (bubblewrap cannot bind over a file that does not exist).
    const procMasks = PROC_MASKS.filter(([, target]) => existsSync(target)).map(([name, target]) => [request.procMaskFile(name), target] as const);
    bwrap = {
      path: bwrapPath,
      libraries,
      tmpBytes: request.tmpMb * 1024 * 1024,
      workBytes: request.workMb * 1024 * 1024,
      procMasks,
      ...(request.packages ? { packages: request.packages } : {}),
    };
    layers['namespaces'] = `bubblewrap (${bwrapPath}): user, mount, pid, ipc, uts, net, cgroup; read-only root of the runtime and ${libraries.length} libraries; ${request.tmpMb} MiB /tmp, a ${request.workMb} MiB working directory; ${procMasks.length} /proc files of the host masked`;
  }

  let cgroups: CgroupHost = { ok: false, reason: 'turned off (CORRAL_CGROUPS=off)' };
  if (request.useCgroups) cgroups = root ? prepareCgroups(request.hostId) : { ok: false, reason: 'not root' };
  layers['cgroups'] = cgroups.ok ? `${cgroups.describe}: memory, pids ${request.pidsMax}, CPU accounting` : `off: ${cgroups.reason}`;
  layers['uid'] = root
    ? `uid/gid ${request.uidBase} + 2 × slot index + 0 or 1 (a sandbox's and the one booting beside it differ), no supplementary groups, no new privileges`
    : 'off: not root (sandboxes run as the worker user)';
  layers['seccomp'] =
    'on: ptrace, mounts, namespaces, keys, bpf, perf events, userfaultfd, io_uring, modules, clocks, reboot, swap and sysinfo refused; sockets: AF_UNIX and TCP only';
  if (!root && request.mode === 'required') {
    throw new JailRequirementError({ uid: 'off: the worker is not root (the uid, namespaces and cgroups layers need it)' });
  }
  if (root) layers['rlimits'] += `, nproc ${request.nprocMax}`;

  const spec = (uidIndex: number, name: string, memoryLimitMb: number): JailSpec => {
    const result: JailSpec = { seccomp: true };
    if (bwrap) result.bwrap = bwrap;
    if (root) {
      result.uid = request.uidBase + uidIndex;
      result.gid = request.uidBase + uidIndex;
      result.rlimits = { nproc: request.nprocMax };
    }
    if (cgroups.ok) {
      const cg = cgroups.sandbox(name);
      result.cgroup = { cg, limits: cgroups.limits(cg, memoryLimitMb * 1024 * 1024, request.pidsMax), reports: cgroups.reports(cg) };
    }
    return result;
  };
  return fixed(request.mode, layers, spec, cgroups.ok ? cgroups : null);
}

/** True when the worker named in a sandbox cgroup's name (`…-<pid>-<n>`) is no longer running. */
function ofDeadWorker(name: string): boolean {
  const pid = Number(/-(\d+)-\d+$/.exec(name)?.[1]);
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function fixed(
  mode: JailMode,
  layers: Record<string, string>,
  spec: PreparedJail['spec'],
  cgroups: { sweep(isStale?: (name: string) => boolean): number; release(): void; folders: PreparedJail['cgroupFolders'] } | null,
): PreparedJail {
  return {
    mode,
    layers,
    off: OS_LAYERS.filter((layer) => layers[layer]?.startsWith('off')),
    cgroupFolders: cgroups?.folders ?? { own: [], shared: [] },
    spec,
    sweep: () => cgroups?.sweep(ofDeadWorker) ?? 0,
    release: () => cgroups?.release(),
    withoutNamespaces(reason) {
      const withoutBwrap: PreparedJail['spec'] = (...args) => {
        const withBwrap = spec(...args);
        delete withBwrap.bwrap;
        return withBwrap;
      };
      return fixed(mode, { ...layers, namespaces: `off: ${reason}` }, withoutBwrap, cgroups);
    },
  };
}
