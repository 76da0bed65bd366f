// One execution through corral's containers (`npm run image -- --run`, and apps/deploy-e2e's
// image test): a private redis-server on loopback, then netprov (one-shot), the worker, the
// watchdog and the router, each a container of the image on the host's network, the worker with
// exactly the privileges docs/deploy.md lists (WORKER_PRIVILEGES). Everything it started is
// removed, also when something fails.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PODMAN_GLOBAL, podmanUlimits } from './podman.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What the worker's container needs beyond podman's defaults, each for one jail layer (the why
 * of each is in docs/deploy.md, "What the worker needs from the host"). Everything else dropped.
 */
export const WORKER_CAPABILITIES = ['SETUID', 'SETGID', 'KILL'];
export const WORKER_PRIVILEGES = [
  '--user=0:0',
  '--cap-drop=ALL',
  ...WORKER_CAPABILITIES.map((c) => `--cap-add=${c}`),
  '--security-opt=seccomp=unconfined',
  '--security-opt=no-new-privileges',
  '--security-opt=unmask=/proc/*',
  '--volume=/sys/fs/cgroup:/sys/fs/cgroup:rw',
];
/**
 * The watchdog kills sandbox trees in the worker's pid namespace: signals to other uids (KILL),
 * writes to root's cgroup files (uid 0, their owner). Without KILL a job over its CPU budget
 * runs on to its wall time; as another uid it cannot write the cgroup files.
 */
export const WATCHDOG_PRIVILEGES = ['--user=0:0', '--cap-drop=ALL', '--cap-add=KILL', '--security-opt=no-new-privileges', '--volume=/sys/fs/cgroup:/sys/fs/cgroup:rw'];

function podman(args, options = {}) {
  return spawnSync('podman', [...PODMAN_GLOBAL, ...args], { encoding: 'utf8', ...options });
}

function mustPodman(args) {
  const result = podman(args);
  if (result.status !== 0) throw new Error(`podman ${args.slice(0, 2).join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

async function until(what, check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts the stack from `tag`, runs `console.log(6 * 7)` through the router, then a job past its
 * wall time, one past its CPU budget and one past its memory, and stops everything. Returns
 * { httpStatus, status, stdout, outcomes, idleAgain, startToIdleMs, executionMs, layers, stopMs,
 * cgroupsLeft } (layers: the worker's own `sandbox layers` log line; cgroupsLeft: the worker's
 * folders still in the host's cgroup hierarchy once every container is gone).
 */
export async function runOnce(tag, { slots = 2, workerPrivileges = WORKER_PRIVILEGES, watchdogPrivileges = WATCHDOG_PRIVILEGES, readyTimeoutMs = 120_000 } = {}) {
  const devkit = await import(join(root, 'tools', 'devkit', 'dist', 'index.js'));
  const redis = await devkit.startRedisServer({ password: randomBytes(18).toString('base64url') });
  const id = randomBytes(3).toString('hex');
  const names = [];
  const port = await devkit.freePort();
  const base = devkit.randomLoopbackBase();
  const env = {
    REDIS_URL: redis.env.REDIS_URL,
    CORRAL_REDIS_PREFIX: `image-${id}`,
    CORRAL_HOST_ID: `image-${id}`,
    CORRAL_BACKEND: 'loopback',
    CORRAL_LOOPBACK_BASE: base,
    CORRAL_WORKER_PORT: String(await devkit.freePort(base)),
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  const run = (app, privileges, extra = []) => {
    const name = `corral-${app}-${id}`;
    const network = names.length === 0 ? '--network=host' : `--network=container:${names[0]}`;
    names.push(name);
    mustPodman(['run', ...podmanUlimits(), '--detach', '--name', name, network, ...privileges, ...extra, ...envArgs, tag, app]);
    return name;
  };
  let result;
  try {
    const started = Date.now();
    const up = podman(['run', ...podmanUlimits(), '--rm', '--network=host', ...envArgs, tag, 'netprov', 'up', '--count', String(slots)]);
    if (up.status !== 0) throw new Error(`netprov up failed: ${up.stderr}`);
    // As in deploy/compose.yaml: the watchdog in the worker's pid namespace, router and watchdog
    // in its network namespace (here the host's, where the private Redis listens on loopback).
    const worker = run('worker', workerPrivileges);
    run('watchdog', watchdogPrivileges, [`--pid=container:${worker}`]);
    run('router', ['--cap-drop=ALL', '--security-opt=no-new-privileges', '--read-only']);
    const url = `http://127.0.0.1:${port}`;
    await until(
      `${slots} idle slots at ${url}`,
      async () => {
        for (const name of names) {
          const state = podman(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim();
          if (state !== 'running') throw Object.assign(new Error(`${name} is ${state}:\n${podman(['logs', name]).stderr}`), { fatal: true });
        }
        const pool = await (await fetch(`${url}/v1/pool`)).json();
        return pool.idle >= slots;
      },
      readyTimeoutMs,
    ).catch((err) => {
      throw new Error(`${err.message}\n${names.map((n) => `--- ${n}\n${podman(['logs', '--tail', '30', n]).stdout}${podman(['logs', '--tail', '30', n]).stderr}`).join('\n')}`);
    });
    const startToIdleMs = Date.now() - started;
    const execute = async (job) => {
      const res = await fetch(`${url}/v1/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(job),
        signal: AbortSignal.timeout(30_000),
      });
      return { httpStatus: res.status, ...(await res.json()) };
    };
    const sent = Date.now();
    const first = await execute({ code: 'console.log(6 * 7)' });
    const executionMs = Date.now() - sent;
    // Each jail layer's enforcement through the containers: the worker's wall clock, the
    // watchdog's CPU budget (it kills in the worker's pid namespace), the cgroup's memory limit.
    const outcomes = {
      ok: first.status,
      wall: (await execute({ code: 'setTimeout(() => {}, 60000)', timeoutMs: 500 })).status,
      cpu: (await execute({ code: 'for (;;) {}', timeoutMs: 10000, cpuMs: 300 })).status,
      memory: (await execute({ code: 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));', memoryMb: 64 })).status,
    };
    const idleAgain = await until('every slot idle again', async () => (await (await fetch(`${url}/v1/pool`)).json()).idle >= slots, 30_000).then(
      () => true,
      () => false,
    );
    const logs = podman(['logs', worker]);
    const layers = `${logs.stdout}${logs.stderr}`.split('\n').find((line) => line.includes('"sandbox layers"')) ?? '';
    result = { httpStatus: first.httpStatus, status: first.status, stdout: first.stdout, outcomes, idleAgain, startToIdleMs, executionMs, layers };
  } finally {
    // Router first, the worker last, each given time to end gracefully: the worker removes its
    // cgroup folders in the host's hierarchy as it ends (the container's death would leave them).
    const stopping = Date.now();
    for (const name of names.reverse()) podman(['rm', '--force', '--time', '40', name]);
    if (result) result.stopMs = Date.now() - stopping;
    await redis.stop();
  }
  // What the worker made in the host's cgroup hierarchy must be gone with it.
  result.cgroupsLeft = hostCgroupFolders(env.CORRAL_HOST_ID);
  return result;
}

/** The worker's folders for `hostId` in the host's cgroup hierarchy (v2, or each v1 controller). */
function hostCgroupFolders(hostId) {
  const root = '/sys/fs/cgroup';
  const candidates = [join(root, 'corral', hostId), ...readdirSync(root).map((c) => join(root, c, 'corral', hostId))];
  return [...new Set(candidates)].filter((dir) => existsSync(dir));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runOnce(process.argv[2] ?? 'localhost/corral:dev'), null, 2));
}
