import { chmodSync, copyFileSync, linkSync, mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A sandbox runs as a uid of its own, which owns nothing and belongs to no group of the host:
 * it reaches a file only through "other" permission bits. A checkout under a 0700 home (root's,
 * or any `mktemp -d`) is out of its reach, so the files a sandbox must read (the runtime, the
 * bootstrap) are staged, when they are out of reach, into a root-owned folder it can traverse.
 */

/** The mode bits a stranger needs: x on every folder on the way, r (and x for a program) on the file. */
const OTHER_X = 0o001;
const OTHER_R = 0o004;

/** Why `path` is out of reach of a uid that is neither its owner nor in its group, or null when it is reachable. */
export function unreachableBecause(path: string, executable: boolean, stat: (p: string) => Pick<Stats, 'mode'> = statSync): string | null {
  // (A folder needs x like a program: `executable` for a folder means "enter it".)
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    return (err as Error).message;
  }
  const fileMode = stat(real).mode;
  const wanted = OTHER_R | (executable ? OTHER_X : 0);
  if ((fileMode & wanted) !== wanted) return `${real} is mode ${(fileMode & 0o777).toString(8)}`;
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    const mode = stat(dir).mode;
    if ((mode & OTHER_X) === 0) return `${dir} is mode ${(mode & 0o777).toString(8)}`;
    if (dir === dirname(dir)) return null;
  }
}

export interface StagedFile {
  /** Where the file (or folder) is. */
  source: string;
  executable: boolean;
  /** A folder: staged with everything below it. */
  tree?: boolean;
}

export interface Staging {
  /** The path a sandbox can reach, per source path (the source itself when it was reachable). */
  paths: ReadonlyMap<string, string>;
  /** The folder made for this worker, when anything had to be staged. */
  dir: string | null;
  /** Why the files were staged (one line for the log), when they were. */
  reason: string | null;
  /** Removes the folder. */
  remove(): void;
}

/** A hard link costs nothing, but only a root-owned file that nobody else may write is fit to share its inode. */
function canLink(source: Stats, dir: Stats): boolean {
  return source.dev === dir.dev && source.uid === 0 && (source.mode & 0o022) === 0;
}

/** Links (or copies) `real` to `target`, through a temporary name, so that a reader never sees half a file. */
function placeFile(real: string, target: string, executable: boolean, dirStat: Stats): void {
  const temp = `${target}.part`;
  rmSync(temp, { force: true });
  let linked = false;
  if (canLink(statSync(real), dirStat)) {
    try {
      linkSync(real, temp);
      linked = true;
    } catch {
      // another file system after all, or links not allowed: copy it
    }
  }
  if (!linked) {
    copyFileSync(real, temp);
    chmodSync(temp, executable ? 0o755 : 0o644);
  }
  renameSync(temp, target);
}

/** Mirrors the folder `real` at `target`: folders 0755, files linked or copied, symbolic links as they are. */
function placeTree(real: string, target: string, dirStat: Stats): void {
  mkdirSync(target, { mode: 0o755 });
  for (const entry of readdirSync(real, { withFileTypes: true })) {
    const from = join(real, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory()) placeTree(from, to, dirStat);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (entry.isFile()) placeFile(from, to, (statSync(from).mode & 0o111) !== 0, dirStat);
  }
}

/**
 * Makes `files` reachable for sandbox uids: those that are out of reach are linked (or copied)
 * into `<root>/<name>`, a root-owned folder of mode 0755, files 0755 or 0644. `name` should hold
 * the worker's pid (`…-<pid>`) so that `sweepStaging` can tell a dead worker's folder.
 */
export function stageForSandboxes(files: readonly StagedFile[], root: string, name: string): Staging {
  const reasons = files.map((f) => unreachableBecause(f.source, f.executable || Boolean(f.tree)));
  const paths = new Map(files.map((f) => [f.source, f.source]));
  const firstReason = reasons.find((r) => r !== null) ?? null;
  if (firstReason === null) return { paths, dir: null, reason: null, remove: () => undefined };

  const dir = join(root, name);
  for (let at = dir; ; at = dirname(at)) {
    mkdirSync(at, { recursive: true, mode: 0o755 });
    chmodSync(at, statSync(at).mode | 0o755);
    if (at === root || at === dirname(at)) break;
  }
  const dirStat = statSync(dir);
  for (const [i, file] of files.entries()) {
    if (reasons[i] === null) continue;
    const real = realpathSync(file.source);
    const target = join(dir, `${i}-${basename(real)}`);
    if (file.tree) {
      rmSync(target, { recursive: true, force: true });
      placeTree(real, target, dirStat);
    } else placeFile(real, target, file.executable, dirStat);
    paths.set(file.source, target);
  }
  return { paths, dir, reason: firstReason, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Removes staging folders under `root` whose worker (the pid after the last '-') is gone; returns how many. */
export function sweepStaging(root: string, isAlive: (pid: number) => boolean): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const pid = Number(/-(\d+)$/.exec(entry)?.[1]);
    if (!(pid > 0) || isAlive(pid)) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
