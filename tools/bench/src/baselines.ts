import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Cleanup } from './cleanup';
import { parseSpawnStatus, type SpawnExit } from './spawn-status';

/** The naive express baseline, running. */
export interface NaiveServer {
  url: string;
  stop(): Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Starts naive-server.js (next to this file) as its own process group, with `nodePath` as the runtime it spawns. */
export async function startNaiveServer(nodePath: string, cleanup: Cleanup): Promise<NaiveServer> {
  const child = spawn(process.execPath, [join(__dirname, 'naive-server.js')], {
    env: { ...process.env, BENCH_NAIVE_NODE: nodePath },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    process.off('exit', onExit);
  };
  const unregister = cleanup.add('the naive server', stop);
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('the naive server did not start within 10 s')), 10_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      text += chunk;
      const line = text.split('\n')[0];
      if (text.includes('\n') && line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the naive server exited (${code}) before it listened`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      unregister();
      await stop();
    },
  };
}

/** Children the harness spawns by the hundred (`node -e 0`); killed on the way out if still running. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Runs `node args…` to its end with no output; resolves with the wall time and when it ended. */
export function runNode(nodePath: string, args: readonly string[]): Promise<{ ms: number; endedAt: number; code: number | null }> {
  const started = performance.now();
  const child = spawn(nodePath, args, { stdio: 'ignore', env: {} });
  live.add(child);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      live.delete(child);
      reject(err);
    });
    child.once('exit', (code) => {
      live.delete(child);
      const endedAt = performance.now();
      resolve({ ms: endedAt - started, endedAt, code });
    });
  });
}

/** Runs `node args…` under corral-spawn and returns what its wait4 saw: CPU of every thread, peak RSS; and the wall time. */
export function runNodeMeasured(helperPath: string, nodePath: string, args: readonly string[]): Promise<SpawnExit & { wallMs: number }> {
  return runSpawnHelper(helperPath, ['--status-fd', '3', '--', nodePath, ...args], 3);
}

/**
 * Runs corral-spawn with `args` to its end (no input, no output kept) and returns its exit line:
 * what its wait4 saw of every process below it (a jail's own too), and the wall time. Its fds
 * 3 … `statusFd` are pipes; the report comes on `statusFd`.
 */
export function runSpawnHelper(helperPath: string, args: readonly string[], statusFd: number, cwd?: string): Promise<SpawnExit & { wallMs: number }> {
  const started = performance.now();
  // stderr (kept for the error message), then fds 3 … statusFd
  const pipes = Array.from({ length: statusFd - 1 }, () => 'pipe' as const);
  const child = spawn(helperPath, args, { stdio: ['ignore', 'ignore', ...pipes], env: {}, ...(cwd ? { cwd } : {}) });
  live.add(child);
  let status = '';
  let stderr = '';
  const report = child.stdio[statusFd] as NodeJS.ReadableStream;
  report.setEncoding('utf8');
  report.on('data', (chunk: string) => (status += chunk));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      live.delete(child);
      reject(err);
    });
    child.once('close', () => {
      live.delete(child);
      const wallMs = performance.now() - started;
      try {
        resolve({ ...parseSpawnStatus(status), wallMs });
      } catch (err) {
        reject(new Error(`${(err as Error).message}${stderr ? ` (${stderr.trim()})` : ''}`));
      }
    });
  });
}

/** Starts a long-lived `node args…` (the idle baseline); `stop` kills it. */
export function startIdleNode(nodePath: string, args: readonly string[]): { pid: number; stop(): Promise<void> } {
  const child = spawn(nodePath, args, { stdio: 'ignore', env: {} });
  live.add(child);
  if (child.pid === undefined) throw new Error(`could not start ${nodePath}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
      live.delete(child);
    },
  };
}

/**
 * Keeps `concurrency` `node -e 0` processes running until `until` (performance.now() time);
 * pushes the end time of each one that completed onto `ends` as it happens, and resolves with it.
 */
export async function spawnLoop(nodePath: string, concurrency: number, until: number, ends: number[] = []): Promise<number[]> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const { endedAt, code } = await runNode(nodePath, ['-e', '0']);
        if (code === 0) ends.push(endedAt);
      }
    }),
  );
  return ends;
}
