// Root postinstall: installs the packages of their own that the sandboxes use, each with its own
// lockfile, without install scripts: the pinned runtime (libs/sandbox/runtime; a package of its
// own so that its `node` binary does not shadow the system node in npm scripts) and the default
// package set every sandbox may import (libs/sandbox/packages).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sandboxDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'libs', 'sandbox');

// Clean npm_config_* of the outer install (workspace flags and the like) out of the inner ones,
// but keep where packages come from (an offline install stays offline).
const KEEP = new Set(['npm_config_offline', 'npm_config_prefer_offline', 'npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_') || KEEP.has(k.toLowerCase())));

/** Whether every dependency of the package in `dir` is installed at the version it pins. */
function installed(dir, wanted) {
  return Object.entries(wanted).every(([name, version]) => {
    const file = join(dir, 'node_modules', name, 'package.json');
    return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).version === version;
  });
}

function install(dir, what) {
  console.log(`corral: installing ${what} into ${dir}`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'inherit', env });
}

const runtimeDir = join(sandboxDir, 'runtime');
const runtimes = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')).optionalDependencies;
const pkgName = `node-${process.platform}-${process.arch}`;
if (!runtimes[pkgName]) {
  console.warn(`corral: no pinned sandbox runtime for ${process.platform}-${process.arch}; set CORRAL_SANDBOX_NODE to a Node 24 binary.`);
} else if (!installed(runtimeDir, { [pkgName]: runtimes[pkgName] })) {
  install(runtimeDir, `the sandbox runtime ${pkgName}@${runtimes[pkgName]}`);
}

const packagesDir = join(sandboxDir, 'packages');
const packages = JSON.parse(readFileSync(join(packagesDir, 'package.json'), 'utf8')).dependencies;
if (!installed(packagesDir, packages)) install(packagesDir, `the default package set (${Object.keys(packages).join(', ')})`);
