import { spawnSync, type ChildProcess } from 'node:child_process';
import type { RedisEndpoint } from '@corral/contracts';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { freePort, waitFor } from './net';
import { connect } from 'node:net';
import { spawnTied } from './services';

export interface RedisServer {
  url: string;
  /** The environment that points a service at it (REDIS_URL). */
  env: Record<string, string>;
  /** The same, as the registry takes it. */
  endpoint: RedisEndpoint;
  port: number;
  password: string | undefined;
  /** The current redis-server process (a new one after `restart`). */
  process: ChildProcess;
  stop(): Promise<void>;
  /** Stops it and starts a new one on the same port with the same password: its data is gone. */
  restart(): Promise<void>;
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
 * Starts a private redis-server on a free loopback port. Without `dataDir` it has no
 * persistence: it writes no file, so nothing is left behind however it ends. With it, every
 * write goes to an append-only file there, flushed every second (`appendfsync everysec`: a
 * crash of the machine loses at most the last second), and a restart reads it back.
 */
export async function startRedisServer(options: { password?: string; dataDir?: string } = {}): Promise<RedisServer> {
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HINT);
  const dir = options.dataDir ?? tmpdir();
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const persistent = options.dataDir !== undefined;
  let port = 0;
  let current: RedisProcess | undefined;
  for (let attempt = 0; !current; attempt += 1) {
    port = await freePort();
    try {
      current = await launch(port, dir, options.password, persistent);
    } catch (err) {
      if (attempt < 3) continue; // the port was taken between freePort and listen
      throw err;
    }
  }
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const stopCurrent = async (): Promise<void> => {
    const running = current;
    if (!running || running.child.exitCode !== null || running.child.signalCode !== null) return;
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 3000);
    await running.exited;
    clearTimeout(timer);
  };
  const url = `redis://${auth}127.0.0.1:${port}`;
  const server: RedisServer = {
    url,
    env: { REDIS_URL: url },
    endpoint: { mode: 'standalone', url },
    port,
    password: options.password,
    process: current.child,
    stop: stopCurrent,
    restart: async () => {
      await stopCurrent();
      current = await launch(port, dir, options.password, persistent);
      server.process = current.child;
    },
  };
  return server;
}

/** Starts redis-server on `port` and waits until it accepts connections. */
function launch(port: number, dir: string, password: string | undefined, persistent: boolean): Promise<RedisProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--loglevel', 'warning'];
  // noeviction: BullMQ's queues must never lose a key to memory pressure (it is Redis' default; said here so that it stays).
  args.push('--maxmemory-policy', 'noeviction', ...(persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']));
  if (password) args.push('--requirepass', password);
  return launchRedis(args, port);
}

export interface RedisProcess {
  child: ChildProcess;
  exited: Promise<unknown>;
}

/**
 * Starts `redis-server args` (a server, a Cluster node, or with `--sentinel` a Sentinel) that
 * listens on `port`, and waits until it accepts connections. It dies with this process.
 */
export async function launchRedis(args: readonly string[], port: number): Promise<RedisProcess> {
  // Its own process group, so that Ctrl-C on `npm start` does not stop Redis before the services.
  const child = spawnTied('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await waitFor(`redis-server on port ${port}`, async () => (gone ? Promise.reject(new Error('redis-server exited')) : ping(port)), {
      timeoutMs: 5000,
      intervalMs: 10,
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, exited };
}
