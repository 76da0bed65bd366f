import type { RedisEndpoint, RedisNode } from '@corral/contracts';
import type { EnvReader } from './env';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** `host:port`, `[v6]:port`. */
const NODE = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/;

function nodes(r: EnvReader, name: string, text: string | undefined): RedisNode[] {
  if (text === undefined) return [];
  const list: RedisNode[] = [];
  for (const entry of text.split(',').map((e) => e.trim())) {
    const match = NODE.exec(entry);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65_535) {
      r.problem(`${name} must be host:port pairs separated by commas ([::1]:26379 for IPv6), got ${JSON.stringify(entry)}`);
      return [];
    }
    list.push({ host: (match[1] ?? match[2]) as string, port });
  }
  return list;
}

/**
 * Where Redis is: REDIS_URL (one server), REDIS_SENTINELS + REDIS_SENTINEL_MASTER (the master
 * the Sentinels name, followed through failovers), or REDIS_CLUSTER_NODES (a Redis Cluster);
 * REDIS_PASSWORD for the data nodes, REDIS_SENTINEL_PASSWORD for the Sentinels. Each variable
 * is read whatever the mode, so that a stray one is reported rather than ignored.
 */
export function redisEndpoint(r: EnvReader): RedisEndpoint {
  const url = r.optionalString('REDIS_URL');
  const sentinelText = r.optionalString('REDIS_SENTINELS');
  const master = r.optionalString('REDIS_SENTINEL_MASTER');
  const clusterText = r.optionalString('REDIS_CLUSTER_NODES');
  const password = r.optionalString('REDIS_PASSWORD');
  const sentinelPassword = r.optionalString('REDIS_SENTINEL_PASSWORD');
  const sentinels = nodes(r, 'REDIS_SENTINELS', sentinelText);
  const cluster = nodes(r, 'REDIS_CLUSTER_NODES', clusterText);

  const chosen = [url && 'REDIS_URL', sentinelText && 'REDIS_SENTINELS', clusterText && 'REDIS_CLUSTER_NODES'].filter(Boolean);
  if (chosen.length > 1) r.problem(`set one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES, not ${chosen.join(' and ')}`);
  if (master !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(master)) r.problem(`REDIS_SENTINEL_MASTER=${JSON.stringify(master)} must be a name of letters, digits, . _ -`);
  if (sentinelText === undefined && master !== undefined) r.problem('REDIS_SENTINEL_MASTER is set without REDIS_SENTINELS');
  if (sentinelText === undefined && sentinelPassword !== undefined) r.problem('REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS');
  const auth = password === undefined ? {} : { password };

  if (sentinelText !== undefined) {
    if (master === undefined) r.problem('REDIS_SENTINELS needs REDIS_SENTINEL_MASTER, the name the Sentinels monitor the master under');
    return { mode: 'sentinel', sentinels, masterName: master ?? '', ...auth, ...(sentinelPassword === undefined ? {} : { sentinelPassword }) };
  }
  if (clusterText !== undefined) return { mode: 'cluster', nodes: cluster, ...auth };

  const checked = r.url('REDIS_URL', DEFAULT_URL, ['redis:', 'rediss:']);
  if (password === undefined) return { mode: 'standalone', url: checked };
  try {
    const parsed = new URL(checked);
    if (parsed.password) {
      r.problem('REDIS_PASSWORD is set and REDIS_URL has a password too: keep one');
      return { mode: 'standalone', url: checked };
    }
    parsed.password = encodeURIComponent(password);
    return { mode: 'standalone', url: parsed.toString() };
  } catch {
    return { mode: 'standalone', url: checked }; // the URL's own problem is reported already
  }
}
