import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** The lib's folder, the same from src/ (tests) and dist/ (services). */
const ROOT = join(__dirname, '..');

/** The file every sandbox loads first; the only file it may read. */
export const BOOTSTRAP_PATH = join(ROOT, 'bootstrap', 'bootstrap.cjs');

/** The default package set (a package of its own, installed by the root postinstall). */
export const DEFAULT_PACKAGES_DIR = join(ROOT, 'packages');

/** The files bound over /proc files of the host inside bubblewrap (one per name of PROC_MASKS). */
export const PROC_MASKS_DIR = join(ROOT, 'proc-masks');

/** The trusted parent of each sandbox (built from native/corral-spawn.c). */
export const SPAWN_HELPER_PATH = join(ROOT, 'native', 'bin', 'corral-spawn');

/** What cleans up after a worker that is gone (built from native/corral-janitor.c). */
export const JANITOR_PATH = join(ROOT, 'native', 'bin', 'corral-janitor');

/** Where the pinned runtime lands: libs/sandbox/runtime, a package of its own (see its package.json). */
export const PINNED_RUNTIME_PATH = join(ROOT, 'runtime', 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');

/** Whether this process may run `path`. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The sandbox runtime to use: the configured binary, or the pinned one installed with corral.
 * @throws Error saying how to install what is missing
 */
export function resolveSandboxNode(configured?: string): string {
  const path = configured ?? PINNED_RUNTIME_PATH;
  if (isExecutable(path)) return path;
  if (configured) throw new Error(`CORRAL_SANDBOX_NODE=${configured} is not an executable file.`);
  throw new Error(
    `The sandbox runtime is not installed at ${path}. Run \`npm ci\` (its postinstall installs libs/sandbox/runtime), ` +
      'or `npm ci --prefix libs/sandbox/runtime`, or set CORRAL_SANDBOX_NODE to a Node 24 binary.',
  );
}

function built(path: string, what: string): string {
  if (isExecutable(path)) return path;
  throw new Error(`${what} ${path} is not built. Run \`npm run build\` (needs a C compiler: apt-get install -y gcc).`);
}

/** @throws Error saying how to build the helper when it is missing */
export function resolveSpawnHelper(): string {
  return built(SPAWN_HELPER_PATH, 'The sandbox launcher');
}

/** @throws Error saying how to build the janitor when it is missing */
export function resolveJanitor(): string {
  return built(JANITOR_PATH, 'The worker janitor');
}
