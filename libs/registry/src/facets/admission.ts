import type { FacetDeps } from './deps';

/** API key rates are counted per minute. */
const RATE_WINDOW_MS = 60_000;

export interface KeyLimits {
  ratePerMinute: number;
  maxConcurrent: number;
  /** How long the request counts against its key's concurrency if its router dies. */
  holdMs: number;
}

export type Admission = { admitted: true } | { admitted: false; limit: 'rate' | 'concurrency'; retryAfterMs: number };

/**
 * What one admission counts: `rate` requests against the per-minute rate (a submission of many
 * executions counts them all when it is accepted; 0 for an execution already counted), and
 * whether it takes a place in flight until released.
 */
export interface AdmissionUsage {
  rate: number;
  inFlight: boolean;
}

const ONE_REQUEST: AdmissionUsage = { rate: 1, inFlight: true };

/** Per-key rate and concurrency limits, counted in Redis so that they hold across routers (router). */
export class KeyAdmission {
  constructor(private readonly d: FacetDeps) {}

  /** Admits one request of an API key against its rate (per minute) and concurrency limits. */
  async admit(keyName: string, requestId: string, limits: KeyLimits, usage: AdmissionUsage = ONE_REQUEST): Promise<Admission> {
    const now = Date.now();
    const { code, retryAfterMs } = await this.d.scripts.admitKey(keyName, {
      now,
      window: Math.floor(now / RATE_WINDOW_MS),
      windowMs: RATE_WINDOW_MS,
      ratePerWindow: limits.ratePerMinute,
      maxConcurrent: limits.maxConcurrent,
      requestId,
      holdMs: limits.holdMs,
      rateWeight: usage.rate,
      inFlight: usage.inFlight,
    });
    if (code === 'OK') return { admitted: true };
    return { admitted: false, limit: code === 'OVER_RATE' ? 'rate' : 'concurrency', retryAfterMs };
  }

  /** The request of an API key has ended: it no longer counts against its concurrency. */
  async release(keyName: string, requestId: string): Promise<void> {
    await this.d.connection.run((redis) => redis.zrem(this.d.keys.keyInFlight(keyName), requestId));
  }
}
