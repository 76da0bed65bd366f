import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './net';
import { connect } from 'node:net';
import { killOnExit } from './services';

export interface RedisServer {
  url: string;
  port: number;
  password: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HINT =
  'redis-server was not found. Install it: apt-get update && apt-get install -y redis-server (Debian/Ubuntu), or set REDIS_URL to a Redis you run.';

/** True when a `redis-server` binary is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.end(() => resolve(true)));
  });
}

/**
 * Starts a private redis-server on a free loopback port, without persistence, in a temporary
 * directory; `stop` shuts it down and removes the directory.
 */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'corral-redis-'));
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'];
    if (options.password) args.push('--requirepass', options.password);
    // Its own process group, so that Ctrl-C on `npm start` does not stop Redis before the services.
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    killOnExit(child);
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      await waitFor(`redis-server on port ${port}`, async () => exited ? Promise.reject(new Error('redis-server exited')) : ping(port), {
        timeoutMs: 5000,
        intervalMs: 10,
      });
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 3) continue; // the port was taken between freePort and listen
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
    return {
      url: `redis://${auth}127.0.0.1:${port}`,
      port,
      password: options.password,
      process: child,
      stop: async () => {
        if (!exited) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await gone;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
