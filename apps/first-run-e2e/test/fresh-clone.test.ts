import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { PoolAnswer } from '@corral/contracts';
import { freePort, hostCgroupFolders, processTree, randomPrefix, REPO_ROOT, stillRunning, waitFor, type ProcessId } from '@corral/devkit';

/**
 * A newcomer's first run, as README tells it: `git clone` into a 0700 directory (a root home is
 * one), `npm ci && npm start` as root on a host where redis-server and bubblewrap are not
 * installed, then README's curl example, then Ctrl-C.
 *
 * The host is not touched: the test runs in a private mount namespace with overlays over /usr,
 * /etc and /var, removes the two packages there, and gives it a network namespace with loopback
 * alone, so that nothing leaves the machine: `npm ci --offline` takes npm's cache, and apt-get
 * installs from the .deb files in apt's cache (CI puts them there: tools/scripts/system.mjs).
 */
const root = process.getuid?.() === 0;
const haveTools = ['unshare', 'nsenter', 'git', 'dpkg'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
const itAsRoot = root && haveTools ? it : it.skip;
if (!root || !haveTools) console.warn('fresh-clone.test: skipped, it needs root and unshare, nsenter, git, dpkg (CI has them)');

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
function blockAfter(marker: string): string {
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README has no ${marker}`);
  const match = /```\w*\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!match) throw new Error(`no code block after ${marker}`);
  return match[1]!.trim();
}

/** What the newcomer's shell runs, inside the namespaces: remove the packages, then README's commands. */
const SCRIPT = `set -eu
ip link set lo up
for d in usr etc var; do
  mkdir -p "$OVERLAY/$d/upper" "$OVERLAY/$d/work"
  mount -t overlay "corral-test-$d" -o "lowerdir=/$d,upperdir=$OVERLAY/$d/upper,workdir=$OVERLAY/$d/work" "/$d"
done
dpkg --purge --force-depends redis-server bubblewrap >/dev/null 2>&1
if command -v redis-server >/dev/null || command -v bwrap >/dev/null; then echo "first-run: the packages are still there" >&2; exit 3; fi
echo "first-run: redis-server and bubblewrap are not installed"
cd "$CLONE"
npm ci --offline --no-audit --no-fund --loglevel=error
exec npm start`;

let work: string;
let shell: ChildProcess | undefined;
let log = '';

afterAll(async () => {
  try {
    if (shell?.pid) process.kill(-shell.pid, 'SIGKILL');
  } catch {
    // the whole group is gone already
  }
  // Only the namespace saw the overlays: here the folder holds plain files.
  if (work) rmSync(work, { recursive: true, force: true });
});

itAsRoot('git clone into a 0700 directory, npm ci && npm start without the packages: ready, and README’s example answers as shown', async () => {
  for (const pkg of ['redis-server', 'bubblewrap']) {
    const cached = spawnSync('sh', ['-c', `ls /var/cache/apt/archives/${pkg}_*.deb`]).status === 0;
    if (!cached) throw new Error(`no ${pkg} .deb in apt's cache: run \`node tools/scripts/system.mjs test\` as root first (npm test does)`);
  }
  work = mkdtempSync(join(tmpdir(), 'corral-first-run-'));
  expect(statSync(work).mode & 0o777).toBe(0o700);
  const clone = join(work, 'corral');
  expect(spawnSync('git', ['clone', '--quiet', REPO_ROOT, clone]).status).toBe(0);

  const port = await freePort();
  const hostId = randomPrefix('fresh');
  // The newcomer's environment: the host's node first on PATH, nothing of this test run's.
  const path = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => !dir.includes(join('libs', 'sandbox', 'runtime')));
  shell = spawn('unshare', ['--mount', '--net', '--propagation', 'private', 'bash', '-c', SCRIPT], {
    env: {
      PATH: path.join(delimiter),
      HOME: process.env['HOME'] ?? '/root',
      CI: 'true',
      NX_DAEMON: 'false',
      OVERLAY: join(work, 'overlay'),
      CLONE: clone,
      PORT: String(port),
      CORRAL_SLOTS: '2',
      CORRAL_HOST_ID: hostId,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  shell.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  shell.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor('npm start to be ready', () => log.includes('Ctrl-C stops everything') || (shell!.exitCode !== null && Promise.reject(new Error(log))), {
    timeoutMs: 360_000, // npm ci, the build, two packages installed, the stack booted
    intervalMs: 200,
  });
  expect(log).toContain('first-run: redis-server and bubblewrap are not installed');
  expect(log).toMatch(/corral: installing redis-server, bubblewrap/);
  expect(log).toMatch(/-> 200 \{"id":"[^"]+","status":"ok",.*"stdout":"hello from corral 42\\n"/);
  // As root the jail is `required`: the stack would not have started without every layer.
  expect(log).not.toMatch(/jail layer off/);

  const inside = (command: string): ReturnType<typeof spawnSync> =>
    spawnSync('nsenter', ['--target', String(shell!.pid), '--net', '--mount', '--', 'bash', '-c', command], { encoding: 'utf8' });
  const curl = blockAfter('<!-- quickstart-curl -->').replace('127.0.0.1:8080', `127.0.0.1:${port}`);
  expect(curl).toContain(`127.0.0.1:${port}`);
  const ran = inside(curl);
  expect(ran.status).toBe(0);
  const got = JSON.parse(String(ran.stdout)) as Record<string, unknown>;
  const shown = JSON.parse(blockAfter('<!-- quickstart-output -->')) as Record<string, unknown>;
  expect(Object.keys(got)).toEqual(Object.keys(shown));
  for (const key of ['status', 'exitCode', 'signal', 'stdout', 'stderr', 'truncated']) expect(got[key]).toEqual(shown[key]);
  for (const key of ['id', 'durationMs', 'cpuMs', 'memoryBytes']) expect(typeof got[key]).toBe(typeof shown[key]);
  const pool = JSON.parse(String(inside(`curl -s http://127.0.0.1:${port}/v1/pool`).stdout)) as PoolAnswer;
  expect(pool).toMatchObject({ total: 2, consistent: true });
  // Every layer on, as the pool shows it.
  expect(pool.hosts).toEqual([expect.objectContaining({ id: hostId, jail: expect.objectContaining({ mode: 'required', off: [] }), runtime: expect.stringMatching(/^v24\./) })]);
  for (const layer of ['uid', 'namespaces', 'cgroups']) expect(pool.hosts[0]!.jail.layers[layer]).not.toMatch(/^off/);

  // Ctrl-C, as in a terminal: to the whole foreground group.
  const tree: ProcessId[] = processTree(shell.pid!);
  expect(tree.map((p) => p.comm)).toEqual(expect.arrayContaining(['redis-server', 'corral-spawn']));
  const exited = new Promise<string>((resolve) => shell!.once('exit', (code, signal) => resolve(String(code ?? signal))));
  process.kill(-shell.pid!, 'SIGINT');
  expect(['0', 'SIGINT']).toContain(await exited);
  expect(log).toContain('corral: stopped');
  expect(log).not.toMatch(/second signal|shutdown failed|exited unexpectedly/);
  await waitFor('every process of the stack to be gone', () => stillRunning(tree).length === 0 && hostCgroupFolders(hostId).length === 0, { timeoutMs: 5000 });
});
