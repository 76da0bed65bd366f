import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PACKAGES_DIR } from './paths';

/** A package of the set, as GET /v1/runtimes lists it. */
export interface PackageInfo {
  name: string;
  version: string;
}

/** The package set sandboxes import from: its `node_modules` folder and what it holds. */
export interface PackageSet {
  nodeModules: string;
  packages: PackageInfo[];
}

/** A package set that cannot be given to sandboxes. */
export class PackageSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackageSetError';
  }
}

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** The top-level packages of a node_modules folder (scoped ones as `@scope/name`). */
function topLevel(nodeModules: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const inner of readdirSync(join(nodeModules, entry.name))) names.push(`${entry.name}/${inner}`);
    } else if (entry.isDirectory()) names.push(entry.name);
  }
  return names.sort();
}

/** Why the package at `dir` cannot run in a sandbox (an install script, a native addon), or null. */
function refusal(dir: string): string | null {
  let pkg: { scripts?: Record<string, string>; gypfile?: boolean };
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return null; // a folder that is not a package (a nested helper folder)
  }
  const scripts = INSTALL_SCRIPTS.filter((s) => pkg.scripts?.[s]);
  if (scripts.length > 0) return `it has install scripts (${scripts.join(', ')})`;
  if (pkg.gypfile || existsSync(join(dir, 'binding.gyp'))) return 'it builds a native addon (binding.gyp)';
  const stack = [dir];
  for (let seen = 0; stack.length > 0 && seen < 100_000; seen += 1) {
    const at = stack.pop() as string;
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== 'node_modules') stack.push(join(at, entry.name));
      else if (entry.isFile() && entry.name.endsWith('.node')) return `it ships a native addon (${join(at, entry.name).slice(dir.length + 1)})`;
    }
  }
  return null;
}

/**
 * The package set of `dir` (a folder holding `node_modules`, as an operator installs one with
 * npm), or the default set. Sandboxes may not start processes or load addons, so a package that
 * needs an install script or a native addon cannot work there: the set is refused, naming it.
 * @throws PackageSetError
 */
export function loadPackageSet(dir: string | undefined): PackageSet {
  const base = dir ?? DEFAULT_PACKAGES_DIR;
  const nodeModules = join(base, 'node_modules');
  if (!existsSync(nodeModules) || !statSync(nodeModules).isDirectory()) {
    throw new PackageSetError(
      dir
        ? `CORRAL_PACKAGES_DIR=${dir} holds no node_modules folder (install the packages there with npm first).`
        : `The default package set is not installed (${nodeModules}); run \`npm ci\`.`,
    );
  }
  const packages: PackageInfo[] = [];
  const refused: string[] = [];
  const visit = (modules: string): void => {
    for (const name of topLevel(modules)) {
      const pkgDir = join(modules, name);
      const why = refusal(pkgDir);
      if (why) refused.push(`${name}: ${why}`);
      if (existsSync(join(pkgDir, 'node_modules'))) visit(join(pkgDir, 'node_modules'));
    }
  };
  visit(nodeModules);
  if (refused.length > 0) {
    throw new PackageSetError(
      `The package set ${base} cannot run in sandboxes (they start no processes and load no native addons): ${refused.slice(0, 10).join('; ')}${refused.length > 10 ? ` and ${refused.length - 10} more` : ''}.`,
    );
  }
  for (const name of topLevel(nodeModules)) {
    try {
      const { version } = JSON.parse(readFileSync(join(nodeModules, name, 'package.json'), 'utf8')) as { version?: string };
      packages.push({ name, version: version ?? '' });
    } catch {
      // not a package
    }
  }
  return { nodeModules, packages };
}
