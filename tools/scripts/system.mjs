// The Debian packages corral needs, in one list for `npm start`, `npm test` and `.ci/run`.
// As root (with apt-get) the missing ones are installed; otherwise this says exactly what to
// run, or, for a package that only adds a jail layer, that the layer will be off.
//
//   node tools/scripts/system.mjs start|test      (exit 1 when something needed is missing)
//
// Plain Node with no dependencies: it runs on the host's node before `npm ci`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `command` proves the package is there. `for`: which purposes need it. `layer`: without root
 * the package only adds a jail layer, so its absence turns that layer off instead of stopping.
 */
export const SYSTEM_PACKAGES = [
  { command: 'redis-server', pkg: 'redis-server', for: ['start', 'test'], why: 'the registry (a private redis-server)' },
  { command: 'cc', pkg: 'gcc', for: ['start', 'test'], why: "builds corral-spawn, each sandbox's trusted parent" },
  { command: 'bwrap', pkg: 'bubblewrap', for: ['start', 'test'], why: "the sandboxes' namespaces", layer: 'namespaces' },
  { command: 'setpriv', pkg: 'util-linux', for: ['start', 'test'], why: 'services die with their launcher' },
  { command: 'ip', pkg: 'iproute2', for: ['test'], why: 'the tap and netns slot backends' },
  { command: 'nft', pkg: 'nftables', for: ['test'], why: "the netns backend's firewall" },
  { command: 'nsenter', pkg: 'util-linux', for: ['test'], why: 'tests inside network namespaces' },
  { command: 'curl', pkg: 'curl', for: ['test'], why: "README's examples" },
  { command: 'git', pkg: 'git', for: ['test'], why: 'the fresh-clone test' },
  { command: 'redis-cli', pkg: 'redis-tools', for: ['test'], why: 'Sentinel and Cluster set-ups of the high-availability tests' },
  { command: 'chromium', pkg: 'chromium', for: ['test'], why: "the playground's browser test (headless, through puppeteer-core)" },
];

/**
 * Packages whose .deb must be in apt's cache for the fresh-machine test, which removes them in a
 * private overlay and has `npm start` install them again without a network (a test sends nothing
 * off the machine): CI, not the test, downloads them.
 */
export const OFFLINE_DEBS = ['redis-server', 'bubblewrap'];
const APT_ARCHIVES = '/var/cache/apt/archives';

const say = (text) => console.error(`corral: ${text}`);

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** What `purpose` needs and this host lacks, given the environment (a Redis of the operator's makes a private redis-server unnecessary). */
export function missingPackages(purpose, env = process.env, exists = has) {
  const ownRedis = env.REDIS_URL || env.REDIS_SENTINELS || env.REDIS_CLUSTER_NODES;
  return SYSTEM_PACKAGES.filter((p) => p.for.includes(purpose) && !(purpose === 'start' && p.pkg === 'redis-server' && ownRedis) && !exists(p.command));
}

function aptGet(args, env) {
  return spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

/**
 * Makes sure what `purpose` needs is installed. Returns true when the caller can go on (maybe
 * with a jail layer off, which is then said); false when something it cannot do without is
 * missing and could not be installed (the command to run has been printed).
 */
export function ensureSystemPackages(purpose, env = process.env) {
  const missing = missingPackages(purpose, env);
  if (missing.length === 0) return true;
  const pkgs = [...new Set(missing.map((p) => p.pkg))];
  const command = `apt-get update && apt-get install -y ${pkgs.join(' ')}`;
  const root = process.getuid?.() === 0;
  if (root && has('apt-get')) {
    say(`installing ${pkgs.join(', ')} (${missing.map((p) => `${p.command}: ${p.why}`).join('; ')})`);
    // A failed update (no network, a mirror down) may still leave usable lists and cached packages.
    if (!aptGet(['update', '-qq'], env)) say('apt-get update failed; trying the install with the package lists at hand');
    if (aptGet(['install', '-y', '-qq', '--no-install-recommends', ...pkgs], env) && missingPackages(purpose, env).length === 0) return true;
    say(`apt-get install ${pkgs.join(' ')} failed; run: ${command}`);
    return false;
  }
  const needed = missing.filter((p) => !p.layer);
  for (const p of missing.filter((p) => p.layer)) say(`${p.command} is missing: the ${p.layer} layer will be off (${p.why}). For it, run: sudo sh -c '${command}'`);
  if (needed.length === 0) return true;
  say(`missing ${needed.map((p) => `${p.command} (${p.why})`).join(', ')}. Install first: sudo sh -c '${command}'`);
  return false;
}

/** The cached .deb of the installed version of `pkg`, or null. */
export function cachedDeb(pkg) {
  const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).stdout?.trim();
  if (!version) return null;
  const prefix = `${pkg}_${version.replace(/:/g, '%3a')}_`;
  const file = readdirSync(APT_ARCHIVES, { withFileTypes: true }).find((f) => f.name.startsWith(prefix) && f.name.endsWith('.deb'));
  return file ? `${APT_ARCHIVES}/${file.name}` : null;
}

export function ensureOfflineDebs(env) {
  if (process.getuid?.() !== 0 || !has('apt-get')) return;
  const missing = OFFLINE_DEBS.filter((pkg) => !cachedDeb(pkg));
  if (missing.length === 0) return;
  say(`downloading ${missing.join(', ')} into apt's cache for the fresh-machine test`);
  if (!aptGet(['install', '-y', '-qq', '--download-only', '--reinstall', ...missing], env)) say(`could not download ${missing.join(', ')}; the fresh-machine test will say so`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const purpose = process.argv[2];
  if (purpose !== 'start' && purpose !== 'test') {
    say('usage: node tools/scripts/system.mjs start|test');
    process.exit(2);
  }
  const ok = ensureSystemPackages(purpose);
  if (ok && purpose === 'test') ensureOfflineDebs(process.env);
  process.exit(ok ? 0 : 1);
}
