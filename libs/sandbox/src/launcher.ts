import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { bwrapArgs, JAILED_BOOTSTRAP, JAILED_ENTRY, JAILED_NODE, JAILED_PACKAGES, JAILED_WORK } from './jail';
import type { SandboxOptions } from './types';

/**
 * corral-spawn, the sandbox's trusted parent: the arguments it takes and the status lines it
 * writes (see native/corral-spawn.c). The one place that speaks its protocol.
 */

/** How a sandbox process ended, as its trusted parent saw it. */
export interface SandboxExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** User + system CPU of the whole process (boot included), in µs. */
  cpuUs: number;
  maxRssKb: number;
  /** Set when the process could not be started or its parent vanished. */
  launchError?: string;
  /** The cgroup's OOM killer ended a process of the sandbox. */
  oomKilled: boolean;
  /** CPU of the whole tree from the cgroup, in µs, when the sandbox had one. */
  cgroupCpuUs: number | null;
  /** Reported at the runtime's exit_group, before its teardown (the `ended` line). */
  early?: boolean;
}

/** Signal numbers to names; the first name of a number wins (SIGABRT, not its alias SIGIOT). */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name as NodeJS.Signals);
}

/**
 * Closes a gap of the permission model: node:sqlite, which opens files outside the allow-list,
 * does not exist. (V8's flags are kept from changing by the bootstrap, not by
 * --freeze-flags-after-init: any V8 flag in V8's flag hash makes node's built-in code cache
 * unusable, and every built-in module would be compiled again in every sandbox. A V8 flag added
 * here must be one outside that hash, as --max-old-space-size is.)
 */
const RUNTIME_FLAGS = ['--no-experimental-sqlite'];

/** Where corral-spawn hands bubblewrap the compiled seccomp filter (above the 4 fds a sandbox keeps). */
const SECCOMP_FD = 5;

/**
 * Parses corral-spawn's exit line. Behind bubblewrap the sandbox's own death by a signal comes
 * back as exit code 128 + signal (bubblewrap's convention), so it is read back as the signal.
 */
export function parseExit(line: string, jailed: boolean, cgroup: ReadonlyMap<string, number>): SandboxExit {
  const [, code, signal, userUs, sysUs, maxRssKb] = line.split(' ').map(Number) as number[];
  let exitCode = code === undefined || code < 0 ? null : code;
  let signalName = signal ? (SIGNAL_NAMES.get(signal) ?? null) : null;
  if (jailed && exitCode !== null && exitCode > 128 && SIGNAL_NAMES.has(exitCode - 128)) {
    signalName = SIGNAL_NAMES.get(exitCode - 128) ?? null;
    exitCode = null;
  }
  const cpuNs = cgroup.get('cpuNs');
  const cpuUs = cgroup.get('cpuUs');
  return {
    exitCode,
    signal: signalName,
    cpuUs: (userUs ?? 0) + (sysUs ?? 0),
    maxRssKb: maxRssKb ?? 0,
    oomKilled: (cgroup.get('oomKills') ?? 0) > 0,
    cgroupCpuUs: cpuNs !== undefined && cpuNs >= 0 ? cpuNs / 1000 : cpuUs !== undefined && cpuUs >= 0 ? cpuUs : null,
  };
}

/**
 * Parses corral-spawn's ended line: the runtime called exit_group with this code (as the OS keeps
 * it, 0-255), its peak memory, the cgroup's CPU then and the runtime process's own CPU (read by
 * corral-spawn while the exit was held: once the process is reaped, /proc has nothing of it).
 * The process is ending; its rusage comes later with the exit line, so `cpuUs` is the cgroup's
 * figure, else the runtime's (0 when neither could be read).
 */
export function parseEnded(line: string): SandboxExit {
  const [, code, peakKb, cpuNs, runtimeNs] = line.split(' ').map(Number) as number[];
  const cgroupCpuUs = cpuNs !== undefined && cpuNs >= 0 ? cpuNs / 1000 : null;
  const runtimeCpuUs = runtimeNs !== undefined && runtimeNs >= 0 ? runtimeNs / 1000 : 0;
  return { exitCode: code ?? null, signal: null, cpuUs: cgroupCpuUs ?? runtimeCpuUs, maxRssKb: Math.max(0, peakKb ?? 0), oomKilled: false, cgroupCpuUs, early: true };
}

/** A failure to start, as an exit. */
export function launchFailure(message: string): SandboxExit {
  return { exitCode: null, signal: null, cpuUs: 0, maxRssKb: 0, oomKilled: false, cgroupCpuUs: null, launchError: message };
}

/** Where a sandbox finds its working directory, its entry folder and the package set, as it sees them. */
export interface SandboxPaths {
  work: string;
  entry: string;
  /** What the job may read of the package set (without bubblewrap: the link and where it leads). */
  packages: readonly string[];
}

/** The paths inside bubblewrap; without it, `own` (the sandbox's folders on the host). */
export function sandboxPaths(options: SandboxOptions, own?: { work: string; entry: string; packagesLink: string }): SandboxPaths {
  if (options.jail?.bwrap) return { work: JAILED_WORK, entry: JAILED_ENTRY, packages: options.jail.bwrap.packages ? [JAILED_PACKAGES] : [] };
  if (!own) throw new Error('a sandbox without bubblewrap needs folders of its own');
  return { work: own.work, entry: own.entry, packages: options.packagesDir ? [own.packagesLink, options.packagesDir] : [] };
}

/**
 * The runtime's command line: the bootstrap preloaded (-r) before node runs its main module,
 * the entry folder, whose package.json the bootstrap points at the job's entry: so node loads
 * the job as `node <entry>` would (CommonJS or ES module, TypeScript, its stack traces).
 */
function runtimeArgs(options: SandboxOptions, paths: SandboxPaths): string[] {
  const node = options.jail?.bwrap ? JAILED_NODE : options.nodePath;
  const bootstrap = options.jail?.bwrap ? JAILED_BOOTSTRAP : options.bootstrapPath;
  const read = [bootstrap, paths.work, paths.entry, ...paths.packages];
  const write = [paths.work, paths.entry];
  const permission =
    options.permissionModel === false ? [] : ['--permission', ...read.map((p) => `--allow-fs-read=${p}`), ...write.map((p) => `--allow-fs-write=${p}`)];
  return [node, ...permission, ...RUNTIME_FLAGS, `--max-old-space-size=${options.heapMb}`, '-r', bootstrap, paths.entry];
}

/**
 * corral-spawn's arguments for one sandbox: its own options, then the program to start: the
 * runtime with its bootstrap, or `program` instead (its paths as the sandbox sees them).
 */
export function launcherArgs(options: SandboxOptions, paths: SandboxPaths, program?: readonly string[]): string[] {
  const jail = options.jail ?? {};
  const rlimits = { ...options.rlimits, ...jail.rlimits };
  const args = ['--status-fd', '4', '--keep-fds', '4']; // stdin, stdout, stderr and the job channel
  for (const [name, value] of Object.entries(rlimits)) args.push('--rlimit', `${name}=${value}`);
  if (jail.uid !== undefined && jail.gid !== undefined) args.push('--uid', String(jail.uid), '--gid', String(jail.gid));
  if (jail.netns) args.push('--netns', jail.netns);
  if (options.bootNice) args.push('--nice', String(options.bootNice));
  if (jail.cgroup) {
    for (const dir of jail.cgroup.cg.dirs) args.push('--cgroup', dir);
    for (const [file, value] of jail.cgroup.limits) args.push('--cgroup-set', `${file}=${value}`);
    for (const [key, file] of jail.cgroup.reports) args.push('--cgroup-get', `${key}=${file}`);
  }
  // The exit code from the kernel, at the runtime's exit_group: the trusted side's answer, early.
  // Output through corral-spawn's pipes: the worker's cost no longer grows with the number of writes.
  args.push('--notify-exit', options.nodePath, '--relay');
  // Behind bubblewrap the filter is installed by bubblewrap, right before it starts the runtime
  // (bubblewrap itself needs mounts and namespaces).
  if (jail.seccomp) args.push('--seccomp', jail.bwrap ? `fd:${SECCOMP_FD}` : 'self');
  const runtime = program ? [...program] : runtimeArgs(options, paths);
  if (jail.bwrap) {
    const seccomp = jail.seccomp ? ['--seccomp', String(SECCOMP_FD)] : [];
    return [...args, '--', jail.bwrap.path, ...seccomp, ...bwrapArgs(jail.bwrap, options.nodePath, options.bootstrapPath, Boolean(jail.netns)), ...runtime];
  }
  return [...args, '--', ...runtime];
}

/**
 * corral-spawn's arguments to run `program` behind every layer of a bubblewrap jail exactly as a
 * sandbox of these options would run, with nothing of the runtime's own (no bootstrap, no flags):
 * what the jail alone costs a process, the benchmark's floor. Its fds as a sandbox's: 3 a channel,
 * 4 the status pipe. `program` names paths as the sandbox sees them (JAILED_NODE for the runtime).
 * @throws when the options have no bubblewrap jail
 */
export function jailedProgramArgs(options: SandboxOptions, program: readonly string[]): string[] {
  if (!options.jail?.bwrap) throw new Error('jailedProgramArgs needs options with a bubblewrap jail');
  return launcherArgs(options, sandboxPaths(options), program);
}

/**
 * Reads corral-spawn's status pipe: `pid <pid>` first, `cgroup <key> <value>` lines, then one
 * `exit …` (or `error …`) line. `reported` resolves at that line: every process of the sandbox
 * has ended then. `exited` resolves when the pipe ends (the launcher has removed the cgroups
 * too), with the exit it reported, or, when it reported none (it was killed), a launch failure
 * by SIGKILL.
 */
export class LauncherStatus {
  /** The leader of the sandbox's process group (bubblewrap, or the runtime), once reported. */
  leaderPid: number | null = null;
  readonly reported: Promise<SandboxExit>;
  readonly exited: Promise<SandboxExit>;

  constructor(status: Readable, jailed: boolean, onEnd: () => void) {
    let onReport: (exit: SandboxExit) => void = () => undefined;
    this.reported = new Promise<SandboxExit>((resolve) => (onReport = resolve));
    this.exited = new Promise<SandboxExit>((resolve) => {
      let text = '';
      let exit: SandboxExit | undefined;
      let settled = false;
      const cgroupFigures = new Map<string, number>();
      status.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        let newline: number;
        while ((newline = text.indexOf('\n')) >= 0) {
          const line = text.slice(0, newline);
          text = text.slice(newline + 1);
          if (line.startsWith('pid ')) this.leaderPid = Number(line.slice(4));
          else if (line.startsWith('cgroup ')) {
            const [, key = '', value = ''] = line.split(' ');
            cgroupFigures.set(key, Number(value));
          } else if (line.startsWith('ended ')) onReport(parseEnded(line));
          else if (line.startsWith('exit ')) onReport((exit = parseExit(line, jailed, cgroupFigures)));
          else if (line.startsWith('error ')) onReport((exit = launchFailure(line.slice(6))));
        }
      });
      this.settle = (failure?: string): void => {
        if (settled) return;
        settled = true;
        if (failure) exit ??= launchFailure(failure);
        onEnd();
        const final = exit ?? { ...launchFailure('the sandbox launcher ended without a report'), signal: 'SIGKILL' as const };
        onReport(final);
        resolve(final);
      };
      status.once('end', () => this.settle());
      status.once('close', () => this.settle());
    });
  }

  /** Ends the wait now (the launcher could not be started, or has been reaped): `failure` names why, if it failed. */
  settle: (failure?: string) => void = () => undefined;
}
