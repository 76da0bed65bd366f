// `npm run image [-- --run] [-- --tag T] [-- --rebuild-base] [-- --offline] [-- --json]`: builds corral's OCI image with
// podman, offline. No image registry is reachable from where corral is built and tested, so the
// two base images (deploy/Containerfile's `build` and `runtime` stages start FROM them) are made
// here from Debian packages with mmdebstrap and `podman import`, once (kept in podman's store).
// Then the workspace's built services with their production node_modules (installed from npm's
// cache, offline) are staged in tmp/image/context and `podman build` runs with no network.
// `--run` then runs one execution through the containers (tools/scripts/image-run.mjs).
//
// Needs root (podman, mmdebstrap), the workspace installed and built (`npm ci`, `npm run build`).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PODMAN_GLOBAL, podmanUlimits } from './podman.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const say = (text) => console.error(`corral image: ${text}`);

/** The Debian the bases come from: the release the services and corral-spawn are built on. */
export const SUITE = 'bookworm';
export const MIRROR = 'http://deb.debian.org/debian';
export const SECURITY_MIRROR = 'http://deb.debian.org/debian-security';
/** What the runtime stage needs: the jail (bubblewrap), setpriv, netprov's tools (ip, nft), ldd (libc-bin, in every base), tini (PID 1, below). */
export const RUNTIME_PACKAGES = ['bubblewrap', 'util-linux', 'iproute2', 'nftables', 'ca-certificates', 'tini'];
/** What the build stage adds: a C compiler for corral-spawn and corral-janitor. */
export const BUILD_PACKAGES = [...RUNTIME_PACKAGES, 'gcc', 'libc6-dev'];
export const BASES = { runtime: RUNTIME_PACKAGES, build: BUILD_PACKAGES };
/** The Debian packages this script needs on the building host. */
export const HOST_TOOLS = [
  { command: 'podman', pkg: 'podman' },
  { command: 'buildah', pkg: 'buildah' },
  { command: 'mmdebstrap', pkg: 'mmdebstrap' },
  { command: 'newuidmap', pkg: 'uidmap' },
  { command: 'runc', pkg: 'runc' },
];

export function baseTag(kind) {
  return `localhost/corral-base-${kind}:${SUITE}`;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')}… failed (exit ${result.status ?? result.signal})`);
  return result;
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs podman, buildah, mmdebstrap when missing (as root, with apt-get); throws saying what to run otherwise. */
export function ensureHostTools() {
  const missing = HOST_TOOLS.filter((t) => !has(t.command));
  if (missing.length === 0) return;
  const pkgs = missing.map((t) => t.pkg);
  if (process.getuid?.() !== 0 || !has('apt-get')) throw new Error(`missing ${pkgs.join(', ')}; run: sudo apt-get install -y ${pkgs.join(' ')}`);
  say(`installing ${pkgs.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
}

function imageExists(tag) {
  return spawnSync('podman', ['image', 'exists', tag]).status === 0;
}

/** Makes a base image from Debian packages (mmdebstrap to a tarball, then `podman import`). */
export function buildBase(kind, packages) {
  const tarball = join(root, 'tmp', 'image', `base-${kind}.tar`);
  mkdirSync(dirname(tarball), { recursive: true });
  say(`making ${baseTag(kind)} from ${SUITE} with ${packages.join(', ')}`);
  run('mmdebstrap', [
    '--quiet',
    '--variant=minbase',
    `--include=${packages.join(',')}`,
    '--aptopt=APT::Install-Recommends "false"',
    // Smaller: no documentation, manual pages or locales but C.
    '--dpkgopt=path-exclude=/usr/share/{doc,man,info,locale}/*',
    '--customize-hook=rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*',
    SUITE,
    tarball,
    `deb ${MIRROR} ${SUITE} main`,
    `deb ${MIRROR} ${SUITE}-updates main`,
    `deb ${SECURITY_MIRROR} ${SUITE}-security main`,
  ]);
  run('podman', ['import', '--change', 'CMD ["/bin/bash"]', tarball, baseTag(kind)]);
  rmSync(tarball, { force: true });
}

/** Whether a workspace file belongs in the image: built output and the assets beside it, never sources, tests or build state. */
function wanted(path) {
  const rel = relative(root, path);
  const parts = rel.split('/');
  const name = parts.at(-1);
  if (parts.length === 2) return true; // apps/x, libs/x
  if (parts[2] === 'node_modules' && parts[1] !== 'sandbox') return false;
  if (['src', 'test', 'out-tsc', 'coverage'].includes(parts[2])) return false;
  if (/^(tsconfig.*\.json|jest\.config\.cjs|eslint\.config\.mjs)$/.test(name)) return false;
  if (/\.(spec|test)\.[cm]?[jt]s$|\.tsbuildinfo$|\.map$/.test(name)) return false;
  if (rel.startsWith('libs/sandbox/native/') && statSync(path).isFile() && !rel.startsWith('libs/sandbox/native/bin') && !/\.[ch]$/.test(name)) return false;
  return true;
}

/** The services the image runs and the libraries they load (not the test apps, tools or the bench). */
const SHIPPED = ['apps/router', 'apps/worker', 'apps/watchdog', 'apps/netprov', ...readdirSync(join(root, 'libs')).map((d) => `libs/${d}`)];

/** tmp/image/context: the built services, their production dependencies (offline, from npm's cache), the Containerfile. */
function stageContext() {
  const context = join(root, 'tmp', 'image', 'context');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  for (const dir of SHIPPED) {
    if (!existsSync(join(root, dir, 'package.json'))) continue;
    cpSync(join(root, dir), join(context, dir), { recursive: true, filter: wanted, verbatimSymlinks: true });
  }
  for (const dir of ['apps/router', 'apps/worker', 'apps/watchdog', 'apps/netprov']) {
    if (!existsSync(join(context, dir, 'dist', 'main.js'))) throw new Error(`${dir}/dist/main.js is missing: run npm run build first`);
  }
  cpSync(join(root, 'package-lock.json'), join(context, 'package-lock.json'));
  // A root package.json naming only the shipped workspaces: npm installs just their dependencies.
  const pkg = { name: '@corral/source', version: '0.1.0', private: true, workspaces: SHIPPED };
  cpSync(join(root, 'deploy'), join(context, 'deploy'), { recursive: true });
  spawnSync('sh', ['-c', `cat > ${JSON.stringify(join(context, 'package.json'))}`], { input: JSON.stringify(pkg, null, 2) });
  say('installing the production dependencies from npm\'s cache (offline)');
  run('npm', ['install', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', '--loglevel=error'], { cwd: context });
  return context;
}

export function imageTag(argv) {
  const i = argv.indexOf('--tag');
  return i >= 0 ? argv[i + 1] : 'localhost/corral:dev';
}

/** Builds the image; returns { tag, seconds, sizeBytes, baseSeconds }. */
export function buildImage(argv = []) {
  ensureHostTools();
  const tag = imageTag(argv);
  const baseStarted = Date.now();
  for (const [kind, packages] of Object.entries(BASES)) {
    if (!argv.includes('--rebuild-base') && imageExists(baseTag(kind))) continue;
    // --offline (the tests): nothing is fetched; the bases must be there already.
    if (argv.includes('--offline')) throw new Error(`${baseTag(kind)} is not in podman's store: run \`npm run image\` once (it makes the bases from the Debian mirror)`);
    buildBase(kind, packages);
  }
  const baseSeconds = (Date.now() - baseStarted) / 1000;
  const started = Date.now();
  const context = stageContext();
  say(`building ${tag} (no network)`);
  run('podman', [...PODMAN_GLOBAL, 'build', ...podmanUlimits(), '--network=none', '--pull=never', '--layers=false', '-f', join(context, 'deploy', 'Containerfile'), '-t', tag, context]);
  const seconds = (Date.now() - started) / 1000;
  const size = spawnSync('podman', ['image', 'inspect', '--format', '{{.Size}}', tag], { encoding: 'utf8' }).stdout.trim();
  return { tag, seconds, sizeBytes: Number(size), baseSeconds };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  try {
    const built = buildImage(argv);
    say(`built ${built.tag}: ${(built.sizeBytes / 1e6).toFixed(0)} MB in ${built.seconds.toFixed(1)} s (bases: ${built.baseSeconds.toFixed(1)} s)`);
    let run;
    if (argv.includes('--run')) {
      const { runOnce } = await import('./image-run.mjs');
      run = await runOnce(built.tag);
      say(`through the containers: ${run.status} ${JSON.stringify(run.stdout)}; limits ${JSON.stringify(run.outcomes)}; ready ${run.startToIdleMs} ms after netprov started, first execution ${run.executionMs} ms`);
    }
    // --json: one line on stdout for tools (apps/deploy-e2e's image test).
    if (argv.includes('--json')) console.log(JSON.stringify({ ...built, run }));
  } catch (err) {
    say(err.message);
    process.exit(1);
  }
}
