import { execFile } from 'node:child_process';
import type { RedisEndpoint } from '@corral/contracts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './net';
import { hasRedisServer, launchRedis, REDIS_INSTALL_HINT, type RedisProcess } from './redis-server';

/** One redis-server process of a set, on its own loopback port. */
export interface RedisNodeProcess {
  /** What it is in the set (`master`, `replica`, `sentinel-1`, `node-2`…). */
  name: string;
  port: number;
  /** The running process; a new one after `restart`. */
  process: RedisProcess['child'];
  /** SIGKILL: no shutdown, no last write to anyone. Resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same arguments (a node killed before). */
  restart(): Promise<void>;
}

/** A private Redis that is not one server: the environment that points services at it, and its processes. */
export interface RedisDeployment {
  /** REDIS_SENTINELS… or REDIS_CLUSTER_NODES… : what every service is given. */
  env: Record<string, string>;
  /** The same, as the registry takes it. */
  endpoint: RedisEndpoint;
  nodes: readonly RedisNodeProcess[];
  /** Every data server restarted at once: the data is gone, as after a restart without persistence. */
  restart(): Promise<void>;
  /** Stops every process and removes every file the set made. */
  stop(): Promise<void>;
}

/** Runs redis-cli with `args` against a loopback port; resolves with its output. */
export function redisCli(port: number, password: string | undefined, args: readonly string[], timeoutMs = 5000): Promise<string> {
  const auth = password ? ['-a', password, '--no-auth-warning'] : [];
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
      // redis-cli prints --cluster errors ("[ERR] Node ... is not empty") on stdout, not stderr: keep both.
      err ? reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${[err.message, stderr.trim(), stdout.trim().split('\n').slice(-5).join(' | ')].filter(Boolean).join(' — ')}`)) : resolve(stdout.trim()),
    );
  });
}

/** redis-cli is in Debian's redis-tools, a dependency of redis-server (tools/scripts/system.mjs lists it for the tests). */
function requireTools(): void {
  if (!hasRedisServer()) throw new Error(REDIS_INSTALL_HINT);
}

async function node(name: string, port: number, args: () => readonly string[]): Promise<RedisNodeProcess> {
  let current = await launchRedis(args(), port);
  const handle: RedisNodeProcess = {
    name,
    port,
    process: current.child,
    async kill() {
      if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
      await current.exited;
    },
    async restart() {
      await handle.kill();
      current = await launchRedis(args(), port);
      handle.process = current.child;
    },
  };
  return handle;
}

/** No persistence anywhere: the set writes nothing but the files in its own folder. */
function serverArgs(port: number, dir: string, password: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning', '--requirepass', password, '--masterauth', password];
}

export interface SentinelSet extends RedisDeployment {
  masterName: string;
  password: string;
  sentinelPassword: string;
  /** The server that was master at the start, and its replica. */
  master: RedisNodeProcess;
  replica: RedisNodeProcess;
  sentinels: readonly RedisNodeProcess[];
  /** The port of the master the Sentinels name now (the first Sentinel that answers). */
  currentMasterPort(): Promise<number>;
}

export interface SentinelOptions {
  /** How long a Sentinel waits for a silent master before it counts it down. */
  downAfterMs?: number;
}

/**
 * A master, one replica and three Sentinels (quorum 2) on loopback ports, each with a password;
 * the Sentinels with one of their own. Everything lives in one temporary folder (the Sentinels
 * rewrite their configuration files there), removed by `stop`.
 */
export async function startSentinelSet(options: SentinelOptions = {}): Promise<SentinelSet> {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), 'corral-sentinel-'));
  const password = randomBytes(12).toString('hex');
  const sentinelPassword = randomBytes(12).toString('hex');
  const masterName = 'corral';
  const started: RedisNodeProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const masterPort = await freePort();
    const master = await node('master', masterPort, () => serverArgs(masterPort, dir, password));
    started.push(master);
    const replicaPort = await freePort();
    const replica = await node('replica', replicaPort, () => [...serverArgs(replicaPort, dir, password), '--replicaof', '127.0.0.1', String(masterPort)]);
    started.push(replica);
    await waitFor('the replica in sync', async () => /master_link_status:up/.test(await redisCli(replicaPort, password, ['info', 'replication'])), { timeoutMs: 10_000, intervalMs: 50 });
    const sentinels: RedisNodeProcess[] = [];
    for (let i = 1; i <= 3; i += 1) {
      const port = await freePort();
      const file = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `requirepass ${sentinelPassword}`,
          // Sentinels talk to each other with the same password.
          `sentinel sentinel-pass ${sentinelPassword}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
          `sentinel auth-pass ${masterName} ${password}`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      const sentinel = await node(`sentinel-${i}`, port, () => [file, '--sentinel', '--loglevel', 'warning']);
      started.push(sentinel);
      sentinels.push(sentinel);
    }
    const currentMasterPort = async (): Promise<number> => {
      for (const s of sentinels) {
        try {
          const [, port] = (await redisCli(s.port, sentinelPassword, ['sentinel', 'get-master-addr-by-name', masterName])).split('\n');
          if (port) return Number(port);
        } catch {
          // that Sentinel is down: ask the next
        }
      }
      throw new Error('no Sentinel names a master');
    };
    // Ready once every Sentinel knows the replica and the two other Sentinels.
    await waitFor(
      'three Sentinels that know the replica and each other',
      async () => {
        for (const s of sentinels) {
          // Field names and values on alternate lines.
          const lines = (await redisCli(s.port, sentinelPassword, ['sentinel', 'master', masterName])).split('\n');
          const field = (name: string): number => Number(lines[lines.indexOf(name) + 1]);
          if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    return {
      env: {
        REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
        REDIS_SENTINEL_MASTER: masterName,
        REDIS_PASSWORD: password,
        REDIS_SENTINEL_PASSWORD: sentinelPassword,
      },
      endpoint: { mode: 'sentinel', sentinels: sentinels.map((n) => ({ host: '127.0.0.1', port: n.port })), masterName, password, sentinelPassword },
      nodes: started,
      masterName,
      password,
      sentinelPassword,
      master,
      replica,
      sentinels,
      currentMasterPort,
      // Both back before a Sentinel counts the master down: the same master, empty.
      async restart() {
        await Promise.all([master.kill(), replica.kill()]);
        await master.restart();
        await replica.restart();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface RedisCluster extends RedisDeployment {
  password: string;
  /** The master that holds the hash slot of `{tag}` keys (the shard corral's keys live on). */
  ownerOf(tag: string): Promise<RedisNodeProcess>;
}

/**
 * A Redis Cluster of three masters (no replicas) on loopback ports, each with its cluster bus
 * on a free port of its own; nodes.conf files live in one temporary folder removed by `stop`.
 * A node restarted keeps its slots (from nodes.conf) and loses its data, like a server that
 * restarts without persistence.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), 'corral-cluster-'));
  const password = randomBytes(12).toString('hex');
  const started: RedisNodeProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= 3; i += 1) {
      const port = await freePort();
      const busPort = await freePort();
      const args = (): string[] => [
        ...serverArgs(port, dir, password),
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(busPort),
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
      ];
      started.push(await node(`node-${i}`, port, args));
    }
    const [first] = started as [RedisNodeProcess];
    const create = (): Promise<string> =>
      redisCli(first.port, password, ['--cluster', 'create', ...started.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], 20_000);
    try {
      await create();
    } catch (firstAttempt) {
      // Seen once in a CI rehearsal on a loaded 2-core machine: the create failed half-way. A half-made cluster
      // refuses a second create ("is not empty"), so every node forgets it first; a second failure is reported
      // with the first one's output.
      for (const n of started) await redisCli(n.port, password, ['cluster', 'reset', 'hard']);
      await create().catch((err: Error) => {
        throw new Error(`${err.message} (first attempt: ${(firstAttempt as Error).message})`);
      });
    }
    const ownerOf = async (tag: string): Promise<RedisNodeProcess> => {
      const slot = Number(await redisCli(first.port, password, ['cluster', 'keyslot', `{${tag}}`]));
      for (const n of started) {
        // Its own line of CLUSTER NODES ("myself"): fields 9 and on are its slot ranges.
        const own = (await redisCli(n.port, password, ['cluster', 'nodes'])).split('\n').find((line) => line.includes('myself'));
        const ranges = own?.split(' ').slice(8) ?? [];
        const owns = ranges.some((range) => {
          const [from, to = from] = range.split('-').map(Number) as [number, number?];
          return slot >= from && slot <= (to as number);
        });
        if (owns) return n;
      }
      throw new Error(`no node owns slot ${slot}`);
    };
    const clusterOk = (): Promise<unknown> =>
      waitFor(
        'the cluster to be ok on every node',
        async () => {
          for (const n of started) if (!/cluster_state:ok/.test(await redisCli(n.port, password, ['cluster', 'info']))) return false;
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
    await clusterOk();
    return {
      env: { REDIS_CLUSTER_NODES: started.map((n) => `127.0.0.1:${n.port}`).join(','), REDIS_PASSWORD: password },
      endpoint: { mode: 'cluster', nodes: started.map((n) => ({ host: '127.0.0.1', port: n.port })), password },
      nodes: started,
      password,
      ownerOf,
      // nodes.conf keeps each node's slots: the same cluster comes back, empty.
      async restart() {
        await Promise.all(started.map((n) => n.kill()));
        await Promise.all(started.map((n) => n.restart()));
        await clusterOk();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
