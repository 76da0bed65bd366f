import type { Registry } from '@corral/registry';
import { runtimesAnswer } from '@corral/contracts';

/** How long the live hosts' runtime version is taken as it is before it is read again. */
const FRESH_MS = 1000;

/**
 * The sandbox runtime's version as the live hosts report it (`24.11.1`, without node's `v`),
 * or null while no host is up. Read from the registry at most once a second, and off the
 * request's path once known: a stale value is answered while the next one is read.
 */
export class RuntimeVersion {
  private known: { version: string | null; at: number } | null = null;
  private reading: Promise<string | null> | null = null;

  constructor(private readonly registry: Registry) {}

  async get(): Promise<string | null> {
    if (this.known && Date.now() - this.known.at <= FRESH_MS) return this.known.version;
    this.reading ??= this.read().finally(() => (this.reading = null));
    // A version once known is answered while the next one is read; before that, the read is waited for.
    if (this.known?.version) {
      this.reading.catch(() => undefined);
      return this.known.version;
    }
    return this.reading;
  }

  private async read(): Promise<string | null> {
    const version = runtimesAnswer(await this.registry.liveness.hosts()).runtime.version?.replace(/^v/u, '') ?? null;
    this.known = { version, at: Date.now() };
    return version;
  }
}
