// `npm test`: every project's tests (unit, integration, end-to-end), then one line with the
// totals over all projects: "N passed, N failed". Installs what the tests need when missing
// (redis-server; a C compiler for the sandbox launcher; bubblewrap; iproute2 and nftables for the
// slot backends) where it can, and says what to run
// where it cannot.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(root, 'tmp', 'test-results');
const NX_BIN = join(root, 'node_modules', '.bin', 'nx');
const say = (text) => console.log(`corral test: ${text}`);

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Debian packages the suite needs, by the command that proves each is there. */
const NEEDS = [
  ['redis-server', 'redis-server'],
  ['cc', 'gcc'],
  ['bwrap', 'bubblewrap'],
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
];

function ensureTools() {
  const missing = NEEDS.filter(([command]) => !has(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const canInstall = process.getuid?.() === 0 && has('apt-get');
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (!canInstall) {
    console.error(`corral test: missing ${missing.join(', ')}. Install them first, e.g.: sudo sh -c '${command}'`);
    process.exit(1);
  }
  say(`installing ${missing.join(', ')} (${command})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      console.error(`corral test: apt-get ${args.join(' ')} failed; run: ${command}`);
      process.exit(1);
    }
  }
}

function nx(args) {
  return spawnSync(NX_BIN, args, {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? (process.env.CI ? 'false' : undefined), FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
  });
}

function projectsWithTests() {
  const result = spawnSync(NX_BIN, ['show', 'projects', '--with-target', 'test', '--json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: process.env.CI ? 'false' : process.env.NX_DAEMON },
  });
  if (result.status !== 0) return null;
  return JSON.parse(result.stdout);
}

ensureTools();
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const extra = process.argv.slice(2);
const run = nx(['run-many', '-t', 'test', '--parallel=2', '--outputStyle=stream', ...extra]);

let passed = 0;
let failed = 0;
let skipped = 0;
const seen = new Set();
for (const file of existsSync(resultsDir) ? readdirSync(resultsDir) : []) {
  const summary = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
  seen.add(summary.project);
  passed += summary.passed;
  failed += summary.failed + summary.brokenSuites;
  skipped += summary.skipped;
}
// A project whose Jest never reported (it crashed or did not start) counts as one failure.
const expected = extra.length === 0 ? projectsWithTests() : null;
for (const name of expected ?? []) {
  const short = name.replace(/^@corral\//, '');
  if (!seen.has(short)) {
    console.error(`corral test: ${name} reported no results`);
    failed += 1;
  }
}
if (run.status !== 0 && failed === 0) {
  console.error('corral test: the test run failed before all tests could report');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
