// `npm test`: every project's tests (unit, integration, end-to-end), then one line with the
// totals over all projects: "N passed, N failed". Installs the Debian packages the tests need
// when missing (one list, tools/scripts/system.mjs) where it can, and says what to run where it
// cannot. It never hangs: each project's Jest exits at most CORRAL_TEST_EXIT_GRACE_S after its
// tests ended (the summary reporter forces it, naming the project), and the whole run is ended
// after CORRAL_TEST_TIMEOUT_S with the totals it has.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureOfflineDebs, ensureSystemPackages } from './system.mjs';

// CORRAL_TEST_WORKSPACE: another Nx workspace to run (the test of this runner uses a fixture).
const root = process.env.CORRAL_TEST_WORKSPACE || join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(root, 'tmp', 'test-results');
const NX_BIN = join(root, 'node_modules', '.bin', 'nx');
const say = (text) => console.log(`corral test: ${text}`);
const TIMEOUT_S = Number(process.env.CORRAL_TEST_TIMEOUT_S || 1800);
const deadline = Date.now() + TIMEOUT_S * 1000;

/** Runs nx in a process group of its own, ended as a whole (with every test process under it) past the overall bound. */
function nx(args) {
  const child = spawn(NX_BIN, args, {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
    env: {
      ...process.env,
      NX_DAEMON: process.env.NX_DAEMON ?? (process.env.CI ? 'false' : undefined),
      FORCE_COLOR: process.env.FORCE_COLOR ?? '0',
      CORRAL_TEST_RESULTS_DIR: resultsDir,
    },
  });
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // Ctrl-C or a CI runner's SIGTERM reaches the launcher; the tests in their own group must stop too.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => killGroup(signal));
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`corral test: the run took longer than ${TIMEOUT_S} s (CORRAL_TEST_TIMEOUT_S); ending it`);
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    }, Math.max(0, deadline - Date.now()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      killGroup('SIGKILL'); // whatever a test left in the group
      resolve({ status: code ?? 1, signal, timedOut });
    });
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

if (!ensureSystemPackages('test')) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
ensureOfflineDebs(process.env);
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const extra = process.argv.slice(2);
// Projects tagged "test:alone" (a fresh clone installed and built) load both cores for minutes:
// they run after the others, one at a time, so that no timing of another suite runs beside them.
const phases =
  extra.length > 0
    ? [['run-many', '-t', 'test', '--parallel=2', '--outputStyle=stream', ...extra]]
    : [
        ['run-many', '-t', 'test', '--parallel=2', '--outputStyle=stream', '--exclude=tag:test:alone'],
        ['run-many', '-t', 'test', '--parallel=1', '--outputStyle=stream', '--projects=tag:test:alone'],
      ];
const run = { status: 0, timedOut: false };
for (const phase of phases) {
  const result = await nx(phase);
  if (result.status !== 0) run.status = result.status;
  if (result.timedOut) {
    run.timedOut = true;
    break;
  }
}

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
  if (!seen.has(name)) {
    console.error(`corral test: ${name} reported no results`);
    failed += 1;
  }
}
if (run.timedOut) failed += 1;
if (run.status !== 0 && failed === 0) {
  console.error('corral test: the test run failed before all tests could report');
  failed += 1;
}
// The last line is exactly "N passed, N failed" (what CI reads); skips are said on the line before.
if (skipped) console.log(`corral test: ${skipped} skipped (each says why above)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
