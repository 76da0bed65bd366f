/**
 * Redis cannot be reached (down, restarting, loading its data, the connection lost): the call
 * may succeed if tried again later. Callers check `instanceof` and answer "unavailable"; what
 * the driver said is kept as `cause`.
 */
export class RegistryUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

/** Socket errors of a connection that is gone or never came. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What ioredis says when it cannot deliver a command: retries used up, the connection closed,
 * or the offline queue off (fail-fast clients); and what Redis answers while it cannot serve
 * (loading its data after a restart, a replica not yet promoted).
 */
const UNREACHABLE_MESSAGE = /Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request|^LOADING |^MASTERDOWN |^CLUSTERDOWN |^TRYAGAIN /;

/** Whether `err`, thrown by ioredis, means that Redis cannot be reached right now. */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof RegistryUnavailableError) return true;
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message);
}

/** `err` as the registry throws it: a RegistryUnavailableError when Redis cannot be reached, else unchanged. */
export function toRegistryError(err: unknown): unknown {
  if (err instanceof RegistryUnavailableError || !isUnreachable(err)) return err;
  return new RegistryUnavailableError(`The registry (Redis) cannot be reached: ${(err as Error).message}`, { cause: err });
}
