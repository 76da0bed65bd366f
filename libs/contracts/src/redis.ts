/** One Redis node (a Sentinel, a Cluster node) as `host:port`. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where corral's Redis is, as configuration describes it and the registry connects to it:
 * one server at a URL, a master that Sentinels name (and follow through a failover), or a
 * Redis Cluster. Every key carries one hash tag, so on a Cluster all of them live on one shard.
 */
export type RedisEndpoint =
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; sentinels: readonly RedisNode[]; masterName: string; password?: string; sentinelPassword?: string }
  | { mode: 'cluster'; nodes: readonly RedisNode[]; password?: string };

/** The endpoint in one line for logs and errors: never a password. */
export function describeRedis(endpoint: RedisEndpoint): string {
  const nodes = (list: readonly RedisNode[]): string => list.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
  switch (endpoint.mode) {
    case 'standalone':
      try {
        const parsed = new URL(endpoint.url);
        if (parsed.password) parsed.password = '***';
        return parsed.toString();
      } catch {
        return '<invalid url>';
      }
    case 'sentinel':
      return `master "${endpoint.masterName}" of sentinels ${nodes(endpoint.sentinels)}`;
    case 'cluster':
      return `cluster ${nodes(endpoint.nodes)}`;
  }
}
