import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertRequired, prepareJail, PROC_MASKS, type JailMode, type PreparedJail } from './jail';
import { loadPackageSet, type PackageInfo } from './packages';
import { BOOTSTRAP_PATH, PROC_MASKS_DIR, resolveSandboxNode, resolveSpawnHelper } from './paths';
import type { SandboxOptions } from './types';
import { stageForSandboxes, sweepStaging, type Staging } from './stage';

const MiB = 1024 * 1024;

/** Replacement sandboxes boot at this nice value; as root the job gets its priority back. */
export const BOOT_NICE = 10;

/** The runtime maps about 1.3 GiB at rest; the address-space rlimit leaves room for it and twice the memory budget. */
const ADDRESS_SPACE_BASE_MB = 2048;

/**
 * Baseline OS limits for every sandbox: no core dumps, no file growth, and few descriptors (the
 * runtime holds about 20 at rest; each socket a job opens can pin kernel buffers).
 */
export const BASE_RLIMITS: Readonly<Record<string, number>> = Object.freeze({ core: 0, fsize: 0, nofile: 128 });

/** What a profile is built from: the worker's configuration has every field. */
export interface SandboxProfileSettings {
  sandboxJail: JailMode;
  hostId: string;
  /** A Node 24 binary; unset: the pinned runtime. */
  sandboxNode?: string | undefined;
  bwrapPath?: string | undefined;
  sandboxUidBase: number;
  cgroups: 'auto' | 'off';
  sandboxPidsMax: number;
  sandboxNprocMax: number;
  sandboxTmpMb: number;
  rssOverheadMb: number;
  stageDir: string;
  /** Size of a sandbox's working directory (and of any one file in it). */
  sandboxWorkMb: number;
  /** A folder holding the `node_modules` sandboxes import from; unset: the default set installed with corral. */
  packagesDir?: string | undefined;
}

/** One sandbox to boot: its slot and generation (they pick the uid), its heap, and where it runs. */
export interface SandboxRequest {
  slotIndex: number;
  /**
   * Counts the slot's sandboxes: consecutive ones run as two uids, so that per-uid limits a job
   * fills (processes, inotify) never touch the sandbox booting beside it.
   */
  generation?: number;
  heapMb: number;
  /** The slot's network namespace (netns backend). */
  netns?: string;
}

/**
 * The sandbox's limits and layers, built once from configuration; the worker, the bench and the
 * specs all boot sandboxes from one, so what they measure and test is what runs.
 */
export interface SandboxProfile {
  readonly settings: Readonly<SandboxProfileSettings>;
  /** The runtime binary sandboxes start (its staged copy when it had to be staged). */
  readonly nodePath: string;
  /** The packages every sandbox may import. */
  readonly packages: readonly PackageInfo[];
  /** The jail as decided (the probe may turn namespaces off under `auto`: `withoutNamespaces`). */
  readonly jail: PreparedJail;
  /** Where the runtime and bootstrap were staged for the sandbox uids (`dir` null when they were reachable). */
  readonly staging: Staging;
  /** The options of one sandbox. */
  options(request: SandboxRequest): SandboxOptions;
  /** Keeps every layer but bubblewrap (after a failed probe under `auto`), saying why. */
  withoutNamespaces(reason: string): void;
  /** What corral-janitor removes if the owner dies: cgroup folders (own and shared) and plain folders. */
  folders(): { cgroups: readonly string[]; shared: readonly string[]; trees: readonly string[] };
  /** Removes the host's cgroup folders, the staging folder and the working folder (once every sandbox has ended). */
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Builds the profile. As root (and unless the jail is off) sandboxes run as uids of their own,
 * which reach only what every stranger may: the runtime and bootstrap are staged when the
 * checkout is out of their reach (a 0700 home, say).
 * @throws JailRequirementError when the jail is `required` and an OS layer is off
 */
export function sandboxProfile(settings: Readonly<SandboxProfileSettings>, owner = `${settings.hostId}-${process.pid}`): SandboxProfile {
  const sourceNode = resolveSandboxNode(settings.sandboxNode);
  const helperPath = resolveSpawnHelper();
  const root = process.getuid?.() === 0;
  const maskFiles = [...new Set(PROC_MASKS.map(([name]) => join(PROC_MASKS_DIR, name)))];
  const packageSet = loadPackageSet(settings.packagesDir);
  let staging: Staging = { paths: new Map(), dir: null, reason: null, remove: () => undefined };
  if (root && settings.sandboxJail !== 'off') {
    sweepStaging(settings.stageDir, isAlive);
    staging = stageForSandboxes(
      [
        { source: sourceNode, executable: true },
        { source: BOOTSTRAP_PATH, executable: false },
        ...maskFiles.map((source) => ({ source, executable: false })),
        { source: packageSet.nodeModules, executable: false, tree: true },
      ],
      settings.stageDir,
      owner,
    );
  }
  const reachable = (path: string): string => staging.paths.get(path) ?? path;
  const nodePath = reachable(sourceNode);
  const bootstrapPath = reachable(BOOTSTRAP_PATH);
  const packages = reachable(packageSet.nodeModules);
  // Where the launchers start, and, without bubblewrap, the sandboxes' own folders are made:
  // traversable by their uids (0711), listable by nobody but root.
  const workdir = mkdtempSync(join(tmpdir(), 'corral-sandbox-'));
  chmodSync(workdir, 0o711);
  let jail: PreparedJail | undefined;
  try {
    jail = prepareJail({
      mode: settings.sandboxJail,
      hostId: settings.hostId,
      nodePath,
      bootstrapPath,
      ...(settings.bwrapPath ? { bwrapPath: settings.bwrapPath } : {}),
      uidBase: settings.sandboxUidBase,
      useCgroups: settings.cgroups === 'auto',
      pidsMax: settings.sandboxPidsMax,
      tmpMb: settings.sandboxTmpMb,
      workMb: settings.sandboxWorkMb,
      ...(packages ? { packages } : {}),
      nprocMax: settings.sandboxNprocMax,
      nofileMax: BASE_RLIMITS['nofile'] ?? 0,
      procMaskFile: (name) => reachable(join(PROC_MASKS_DIR, name)),
    });
    assertRequired(jail);
  } catch (err) {
    jail?.release();
    staging.remove();
    rmSync(workdir, { recursive: true, force: true });
    throw err;
  }
  let sequence = 0;
  let current: PreparedJail = jail;
  return {
    settings,
    nodePath,
    packages: packageSet.packages,
    get jail() {
      return current;
    },
    staging,
    options({ slotIndex, generation = 0, heapMb, netns }) {
      return {
        nodePath,
        helperPath,
        bootstrapPath,
        cwd: workdir,
        // Address space as a backstop behind the heap limit and the cgroup (WebAssembly falls
        // back to bounds checks when it cannot reserve more).
        // No file larger than the working directory; the address space as a backstop.
        rlimits: { ...BASE_RLIMITS, fsize: settings.sandboxWorkMb * MiB, as: (ADDRESS_SPACE_BASE_MB + 2 * (heapMb + settings.rssOverheadMb)) * MiB },
        ...(packages ? { packagesDir: packages } : {}),
        heapMb,
        ...(root ? { bootNice: BOOT_NICE } : {}),
        jail: {
          // The owner's pid in the name lets a sweep (or the janitor) tell a dead owner's cgroups.
          ...current.spec(2 * slotIndex + (generation % 2), `s${slotIndex}-${process.pid}-${(sequence += 1)}`, heapMb + settings.rssOverheadMb),
          ...(netns ? { netns } : {}),
        },
      };
    },
    withoutNamespaces(reason) {
      current = current.withoutNamespaces(reason);
    },
    folders() {
      return { cgroups: current.cgroupFolders.own, shared: current.cgroupFolders.shared, trees: [workdir, ...(staging.dir ? [staging.dir] : [])] };
    },
    release() {
      current.release();
      staging.remove();
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
