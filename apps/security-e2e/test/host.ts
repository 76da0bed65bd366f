// The host as the suite leaves it: canaries made before any hostile program runs (a secret file,
// a secret SQLite database, a process), and listings of the places a sandbox might write to.
// Node builtins only: the global setup and teardown load this outside Jest's module resolution.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (apps/security-e2e/test → ../../..). */
export const REPO = join(__dirname, '..', '..', '..');

/** The pinned sandbox runtime (libs/sandbox/runtime), also the only Node 24 with node:sqlite here. */
export const SANDBOX_RUNTIME = join(REPO, 'libs', 'sandbox', 'runtime', 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');

/** The file every sandbox loads first (the only one the permission model lets it read). */
export const BOOTSTRAP = join(REPO, 'libs', 'sandbox', 'bootstrap', 'bootstrap.cjs');

/** Where a sandbox that could write would most likely leave something. */
export const WATCHED_DIRS = ['/tmp', '/var/tmp', '/dev/shm', REPO, join(REPO, 'libs', 'sandbox', 'bootstrap')];

/**
 * Entries that come and go for reasons of their own: the services' temporary folders, this
 * suite's own folder, Jest's and Nx's caches, and mktemp folders of tools running alongside.
 */
const IGNORED = [/^corral-redis-/, /^corral-sandbox-/, /^corral-security-e2e-/, /^jest_/, /^\.nx$/, /^bash_tool_/, /^bash_jobs\./, /^tmp\.\w+$/];

export interface SuiteState {
  /** This run's folder (mode 0700): canaries, the output log, this state. */
  dir: string;
  /** In the name of every file a hostile program tries to create, so that leftovers are found. */
  runId: string;
  /** A file of mode 0600 and its content; the content must never appear in any output. */
  secretPath: string;
  secret: string;
  /** A SQLite database of mode 0600 holding `dbSecret` (null when it could not be made). */
  secretDbPath: string | null;
  dbSecret: string;
  /** A `sleep 600` that no hostile program may signal. */
  canaryPid: number;
  /** Every execution's stdout and stderr, one JSON line each. */
  outputLog: string;
  /** Listings of WATCHED_DIRS before the first hostile program. */
  before: Record<string, string[]>;
  /** sha256 of the bootstrap and the runtime binary before the first hostile program. */
  hashes: Record<string, string>;
}

export const STATE_ENV = 'CORRAL_SECURITY_E2E_STATE';

export function suiteState(): SuiteState {
  const path = process.env[STATE_ENV];
  if (!path) throw new Error(`${STATE_ENV} is not set: run this suite with its jest.config.cjs (it has a global setup).`);
  return JSON.parse(readFileSync(path, 'utf8')) as SuiteState;
}

/** The entries of each watched folder that are not ignored. */
export function listWatched(): Record<string, string[]> {
  const listing: Record<string, string[]> = {};
  for (const dir of WATCHED_DIRS) {
    try {
      listing[dir] = readdirSync(dir)
        .filter((name) => !IGNORED.some((pattern) => pattern.test(name)))
        .sort();
    } catch {
      listing[dir] = [];
    }
  }
  return listing;
}

/** Folders nothing but this suite's programs should write to while it runs. */
const SHARED_TMP = new Set(['/tmp', '/var/tmp', '/dev/shm']);

/** Names a hostile program of this suite may have created (its files, diagnostics, databases). */
const HOSTILE_NAMES = /corral-hostile|^report\..*\.json$|^Heap\..*\.heapsnapshot$|\.heapsnapshot$|\.db(-journal|-wal|-shm)?$|^persist\.txt$/;

/**
 * What is in the watched folders now and was not before, with owner, size and time. `written`
 * is what a sandbox may have written: everything new in the repo, and in the shared temporary
 * folders whatever has a hostile program's name, is not owned by this suite's user, or is not a
 * plain file or folder. `unattributed` is the rest of the shared folders' news: files of other
 * tools that ran meanwhile (a sandbox of this suite writes no other name), shown, not failed.
 */
export function newEntries(before: Record<string, string[]>): { written: string[]; unattributed: string[] } {
  const now = listWatched();
  const written: string[] = [];
  const unattributed: string[] = [];
  for (const [dir, names] of Object.entries(now)) {
    const old = new Set(before[dir] ?? []);
    for (const name of names) {
      if (old.has(name)) continue;
      const path = join(dir, name);
      let line = path;
      let suspicious = !SHARED_TMP.has(dir) || HOSTILE_NAMES.test(name);
      try {
        const st = lstatSync(path);
        line = `${path} (uid ${st.uid}, ${st.isDirectory() ? 'dir' : st.isFile() ? `${st.size} bytes` : 'not a plain file'}, ${st.mtime.toISOString()})`;
        if (st.uid !== process.getuid?.() || !(st.isFile() || st.isDirectory())) suspicious = true;
      } catch {
        // gone meanwhile
      }
      (suspicious ? written : unattributed).push(line);
    }
  }
  return { written, unattributed };
}

/** Every path in the watched folders (one level down as well) whose name holds `marker`. */
export function pathsNamed(marker: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (name.includes(marker)) found.push(path);
      else if (depth > 0 && name !== 'node_modules' && name !== '.git') {
        try {
          if (statSync(path).isDirectory()) visit(path, depth - 1);
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  for (const dir of WATCHED_DIRS) visit(dir, 1);
  return [...new Set(found)];
}

export function sha256(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

export function hashWatchedFiles(): Record<string, string> {
  return { [BOOTSTRAP]: sha256(BOOTSTRAP), [SANDBOX_RUNTIME]: sha256(SANDBOX_RUNTIME) };
}

/** True while `pid` is the canary `sleep 600` (not another process that reused its pid). */
export function canaryAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, 2).join(' ') === 'sleep 600';
  } catch {
    return false;
  }
}
