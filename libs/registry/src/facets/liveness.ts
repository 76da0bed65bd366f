import type { HostInfo } from '@corral/contracts';
import { newToken } from '../records';
import type { FacetDeps } from './deps';

/** "inventory": netprov changed a host's slots; "running": a job started (or changed sandbox) on a host. */
export type RegistryEvent = { type: 'inventory' | 'running'; host: string };

/**
 * Who is alive and what changed: workers' heartbeats, the registry's epoch (Redis lost its
 * data when it changes), taking a silent host out of service, and the events channel.
 */
export class Liveness {
  constructor(private readonly d: FacetDeps) {}

  /**
   * The registry's epoch: written once, so a change (or absence, before the first write) means
   * Redis lost its data and every service must publish again what it holds.
   */
  epoch(): Promise<string> {
    const key = this.d.keys.epoch;
    return this.d.connection.run(async (redis) => {
      await redis.set(key, newToken(), 'NX');
      return (await redis.get(key)) ?? '';
    });
  }

  /** A worker says it is alive (and, with `info`, what its jail and runtime are); both vanish `ttlMs` after its last beat. */
  async heartbeat(host: string, ttlMs: number, info?: HostInfo): Promise<void> {
    const k = this.d.keys;
    await this.d.connection.run((redis) => {
      const tx = redis.multi().set(k.heartbeat(host), String(Date.now()), 'PX', ttlMs);
      if (info) tx.set(k.hostInfo(host), JSON.stringify(info), 'PX', ttlMs).sadd(k.hosts, host);
      return tx.exec();
    });
  }

  /** What every live host said of itself at its last beat, by host id. */
  async hosts(): Promise<HostInfo[]> {
    const k = this.d.keys;
    return this.d.connection.run(async (redis) => {
      const ids = (await redis.smembers(k.hosts)).sort();
      if (ids.length === 0) return [];
      const values = await redis.mget(ids.map((id) => k.hostInfo(id)));
      const gone = ids.filter((_, i) => values[i] === null);
      if (gone.length > 0) await redis.srem(k.hosts, ...gone);
      return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as HostInfo);
    });
  }

  /** Whether a host's worker has beaten recently. */
  async workerAlive(host: string): Promise<boolean> {
    return (await this.d.connection.run((redis) => redis.exists(this.d.keys.heartbeat(host)))) === 1;
  }

  /** Takes every slot of a host whose worker's heartbeat expired out of service (watchdog); 0 when it beats again. */
  markHostDead(host: string): Promise<number> {
    return this.d.scripts.markHostDead(host);
  }

  /** Calls `onEvent` for inventory and running events until the returned function is called. */
  subscribe(onEvent: (event: RegistryEvent) => void): Promise<() => Promise<void>> {
    return this.d.connection.listen(this.d.keys.events, (message) => {
      const [type, arg = ''] = message.split(' ', 2);
      if (type === 'inventory' || type === 'running') onEvent({ type, host: arg });
    });
  }

  /** Runs `listener` each time the connection to Redis is ready again after a loss. */
  onReconnect(listener: () => void): void {
    this.d.connection.onReconnect(listener);
  }
}
