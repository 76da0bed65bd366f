import type { Registry } from '@corral/registry';
import { runtimesAnswer } from '@corral/contracts';

/** How long the live hosts' runtime version is reused: an adapter's request should not cost a Redis read. */
const CACHE_MS = 1000;

/**
 * The sandbox runtime's version as the live hosts report it (`24.11.1`, without node's `v`),
 * or null while no host is up; read from the registry at most once a second.
 */
export class RuntimeVersion {
  private cached: { version: string | null; at: number } | null = null;

  constructor(private readonly registry: Registry) {}

  async get(): Promise<string | null> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) {
      const version = runtimesAnswer(await this.registry.liveness.hosts()).runtime.version;
      this.cached = { version: version?.replace(/^v/u, '') ?? null, at: now };
    }
    return this.cached.version;
  }
}
