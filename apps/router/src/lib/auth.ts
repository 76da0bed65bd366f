import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ApiKey } from '@corral/config';
import { CorralError } from '@corral/contracts';

/** API keys by the SHA-256 of the key: a lookup that never compares secrets character by character. */
export class KeyRing {
  private readonly byHash: Map<string, ApiKey>;

  constructor(keys: readonly ApiKey[]) {
    this.byHash = new Map(keys.map((key) => [key.sha256, key]));
  }

  /** A key by its name (a background execution remembers whose it is); undefined when it is no longer configured. */
  byName(name: string): ApiKey | undefined {
    for (const key of this.byHash.values()) if (key.name === name) return key;
    return undefined;
  }

  get enabled(): boolean {
    return this.byHash.size > 0;
  }

  /**
   * The key of a request (`Authorization: Bearer <key>`), or null when keys are off.
   * @throws CorralError unauthorized (401) when keys are on and the header is missing or wrong
   */
  identify(headers: IncomingHttpHeaders): ApiKey | null {
    if (!this.enabled) return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (!match?.[1]) throw new CorralError('unauthorized', 'Send your API key as "Authorization: Bearer <key>".');
    const key = this.byHash.get(createHash('sha256').update(match[1]).digest('hex'));
    if (!key) throw new CorralError('unauthorized', 'The API key is not valid.');
    return key;
  }
}
