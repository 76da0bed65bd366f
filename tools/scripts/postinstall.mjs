// Root postinstall: installs the pinned sandbox runtime (libs/sandbox/runtime, a package of its
// own so that its `node` binary does not shadow the system node in npm scripts).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runtimeDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'libs', 'sandbox', 'runtime');
const wanted = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')).optionalDependencies;
const pkgName = `node-${process.platform}-${process.arch}`;
const installed = join(runtimeDir, 'node_modules', pkgName, 'package.json');

if (!wanted[pkgName]) {
  console.warn(`corral: no pinned sandbox runtime for ${process.platform}-${process.arch}; set CORRAL_SANDBOX_NODE to a Node 24 binary.`);
} else if (existsSync(installed) && JSON.parse(readFileSync(installed, 'utf8')).version === wanted[pkgName]) {
  // already there
} else {
  console.log(`corral: installing the sandbox runtime ${pkgName}@${wanted[pkgName]} into libs/sandbox/runtime`);
  // Clean npm_config_* of the outer install (workspace flags and the like) out of the inner one,
  // but keep where packages come from (an offline install stays offline).
  const KEEP = new Set(['npm_config_offline', 'npm_config_prefer_offline', 'npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_') || KEEP.has(k.toLowerCase())));
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: runtimeDir, stdio: 'inherit', env });
}
